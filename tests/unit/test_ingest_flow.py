"""Ingest decisions: forged gets 401 and publishes nothing; unusable is parked; ping and unknown topics 200."""
from __future__ import annotations

import pytest
from synchub.catalog import handled_topics
from synchub.connectors.shopify.webhooks import ShopifyWebhooks
from synchub.connectors.woocommerce.webhooks import WooCommerceWebhooks
from synchub.flows.ingest import WebhookRequest, accept_webhook

from tests.eventdata import load_event, sign_shopify, sign_woocommerce
from tests.fakes import RecordingDeadLetters, RecordingPublisher

SECRET = "shpss_unit_test_secret"


def ingest(request: WebhookRequest, publisher=None, parking=None, max_body=1_048_576):
    decoder = ShopifyWebhooks() if request.vendor == "shopify" else WooCommerceWebhooks()
    return accept_webhook(request, decoder=decoder, connection_vendor=request.vendor, secret=lambda: SECRET,
                          publisher=publisher or RecordingPublisher(), parking=parking or RecordingDeadLetters(),
                          handled_topics=handled_topics(), max_body_bytes=max_body)


def shopify_request(name: str, *, body: bytes | None = None, signature: str | None = None) -> WebhookRequest:
    raw, headers = load_event(f"shopify/{name}")
    raw = raw if body is None else body
    headers = {**headers, "X-Shopify-Hmac-Sha256": signature or sign_shopify(raw, SECRET)}
    return WebhookRequest(connection_id="main", vendor="shopify", headers=headers, body=raw)


def test_signed_order_is_published_once_as_canonical_envelope():
    publisher = RecordingPublisher()
    result = ingest(shopify_request("orders_create"), publisher=publisher)

    assert (result.status, result.outcome) == (200, "accepted")
    [envelope] = publisher.published
    assert envelope.topic == "order.created" and envelope.store == "main" and envelope.source == "shopify"


@pytest.mark.parametrize("signature", ["", "AAAA", sign_shopify(b"other body", SECRET)])
def test_forged_webhook_gets_401_and_never_reaches_the_bus(signature):
    publisher, parking = RecordingPublisher(), RecordingDeadLetters()
    raw, headers = load_event("shopify/orders_create")
    request = WebhookRequest("main", "shopify", {**headers, "X-Shopify-Hmac-Sha256": signature}, raw)

    result = ingest(request, publisher=publisher, parking=parking)

    assert result.status == 401
    assert publisher.published == [] and parking.parked == []


def test_signed_body_that_is_not_json_is_parked_with_its_reason_and_answered_200():
    parking = RecordingDeadLetters()
    result = ingest(shopify_request("orders_create", body=b"{not json"), parking=parking)

    assert (result.status, result.outcome) == (200, "parked")
    [(_, reason, _)] = parking.parked
    assert reason == result.reason and reason


def test_topic_we_do_not_handle_is_acknowledged_and_skipped():
    publisher = RecordingPublisher()
    result = ingest(shopify_request("carts_update"), publisher=publisher)

    assert (result.status, result.outcome) == (200, "skipped")
    assert publisher.published == []


def test_oversized_body_gets_413():
    assert ingest(shopify_request("orders_create"), max_body=2048).status == 413


def test_bus_failure_answers_503_so_the_store_retries():
    result = ingest(shopify_request("orders_create"), publisher=RecordingPublisher(fail=True))
    assert result.status == 503


def test_unknown_store_gets_404():
    result = accept_webhook(shopify_request("orders_create"), decoder=None, connection_vendor=None,
                            secret=lambda: SECRET, publisher=RecordingPublisher(), parking=RecordingDeadLetters(),
                            handled_topics=handled_topics(), max_body_bytes=1_000_000)
    assert result.status == 404


def test_woocommerce_creation_ping_gets_200_and_goes_nowhere():
    publisher = RecordingPublisher()
    raw, headers = load_event("woocommerce/ping")
    result = ingest(WebhookRequest("eu", "woocommerce", headers, raw), publisher=publisher)

    assert (result.status, result.outcome) == (200, "ping")
    assert publisher.published == []


def test_signed_woocommerce_order_is_published():
    publisher = RecordingPublisher()
    raw, headers = load_event("woocommerce/order_created")
    headers = {**headers, "X-WC-Webhook-Signature": sign_woocommerce(raw, SECRET)}
    result = ingest(WebhookRequest("eu", "woocommerce", headers, raw), publisher=publisher)

    assert result.outcome == "accepted"
    assert publisher.published[0].topic == "order.created"


def test_order_too_large_for_the_bus_is_parked_and_answered_200_so_the_store_keeps_its_subscription():
    publisher, parking = RecordingPublisher(max_entry_bytes=1024), RecordingDeadLetters()
    result = ingest(shopify_request("orders_create"), publisher=publisher, parking=parking)

    assert (result.status, result.outcome) == (200, "parked")
    [(_, reason, _)] = parking.parked
    assert reason == "too_large_for_bus"
    assert publisher.published == []
