"""WooCommerce webhooks: the creation ping, the signature, topics, and a stable derived event id."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from synchub.connectors.woocommerce.webhooks import WooCommerceWebhooks

from tests.eventdata import load_event, sign_woocommerce

SECRET = "wc_unit_test_secret"
RECEIVED = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def webhooks() -> WooCommerceWebhooks:
    return WooCommerceWebhooks(clock=lambda: RECEIVED)


def signed(name: str, secret: str = SECRET, body: bytes | None = None) -> tuple[bytes, dict[str, str]]:
    raw, headers = load_event(f"woocommerce/{name}")
    raw = raw if body is None else body
    return raw, {**headers, "X-WC-Webhook-Signature": sign_woocommerce(raw, secret)}


# --- ping --------------------------------------------------------------------------------------------

def test_creation_ping_is_recognised_without_a_signature(webhooks):
    body, headers = load_event("woocommerce/ping")
    assert webhooks.is_unsigned_ping(headers, body) is True
    assert webhooks.decode("eu", headers, body).kind == "ping"


@pytest.mark.parametrize("body", [b"webhook_id=14&topic=order.created", b"webhook_id=abc", b'{"webhook_id": 14}', b""])
def test_anything_else_unsigned_is_not_a_ping(webhooks, body):
    _, headers = load_event("woocommerce/ping")
    assert webhooks.is_unsigned_ping(headers, body) is False


def test_signed_delivery_is_never_taken_for_a_ping(webhooks):
    body, headers = signed("ping")
    assert webhooks.is_unsigned_ping(headers, body) is False


# --- signature ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["order_created", "order_updated", "order_cancelled", "customer_created",
                                  "customer_updated"])
def test_body_signed_with_the_webhook_secret_is_accepted(webhooks, name):
    body, headers = signed(name)
    assert webhooks.verify(headers, body, SECRET) is True


def test_one_flipped_byte_in_the_body_is_rejected(webhooks):
    body, headers = signed("order_created")
    tampered = bytearray(body)
    tampered[-10] ^= 0x20
    assert webhooks.verify(headers, bytes(tampered), SECRET) is False


def test_signature_made_with_another_secret_is_rejected(webhooks):
    body, headers = signed("order_created", secret="another-secret")
    assert webhooks.verify(headers, body, SECRET) is False


def test_missing_signature_header_is_rejected(webhooks):
    body, headers = load_event("woocommerce/order_created")
    assert webhooks.verify(headers, body, SECRET) is False


def test_signature_header_in_any_case_is_found(webhooks):
    body, headers = signed("order_created")
    lowered = {name.lower(): value for name, value in headers.items()}
    assert webhooks.verify(lowered, body, SECRET) is True
    assert webhooks.decode("eu", lowered, body) == webhooks.decode("eu", headers, body)


# --- topics and envelope -----------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "topic", "entity", "entity_id"), [
    ("order_created", "order.created", "order", "1187"),
    ("order_updated", "order.updated", "order", "1187"),
    ("order_cancelled", "order.cancelled", "order", "1187"),
    ("customer_created", "customer.created", "customer", "7"),
    ("customer_updated", "customer.updated", "customer", "7"),
])
def test_each_topic_becomes_its_canonical_event(webhooks, name, topic, entity, entity_id):
    body, headers = signed(name)
    decision = webhooks.decode("eu", headers, body)

    assert decision.kind == "event"
    envelope = decision.envelope
    assert (envelope.topic, envelope.entity, envelope.entity_id) == (topic, entity, entity_id)
    assert (envelope.source, envelope.store) == ("woocommerce", "eu")
    assert decision.topic == headers["X-WC-Webhook-Topic"]
    assert envelope.payload == json.loads(body)


def test_paid_order_update_stays_an_update_since_the_previous_state_is_unknown(webhooks):
    body, headers = signed("order_updated")
    payload = json.loads(body)
    assert payload["status"] == "processing" and payload["date_paid_gmt"]
    assert webhooks.decode("eu", headers, body).envelope.topic == "order.updated"


def test_product_update_and_order_deletion_are_events_other_topics_are_ignored(webhooks):
    _, headers = load_event("woocommerce/order_created")
    product = json.dumps({"id": 113, "sku": "TEE-BLK-L", "date_modified_gmt": "2025-11-19T17:00:00"}).encode()
    deleted = b'{"id": 1187}'

    assert webhooks.decode("eu", {**headers, "X-WC-Webhook-Topic": "product.updated"}, product).envelope.topic \
        == "product.updated"
    gone = webhooks.decode("eu", {**headers, "X-WC-Webhook-Topic": "order.deleted"}, deleted).envelope
    assert (gone.topic, gone.entity_id, gone.occurred_at) == ("order.deleted", "1187", RECEIVED)
    for topic in ("coupon.created", "order.restored", "action.woocommerce_add_to_cart"):
        decision = webhooks.decode("eu", {**headers, "X-WC-Webhook-Topic": topic}, product)
        assert (decision.kind, decision.topic) == ("ignored", topic)


def test_occurred_at_is_date_modified_gmt_read_as_utc(webhooks):
    body, headers = signed("order_updated")
    assert webhooks.decode("eu", headers, body).envelope.occurred_at == datetime(
        2025, 11, 19, 19, 40, 5, tzinfo=UTC)


def test_delivery_id_is_the_woocommerce_delivery_id(webhooks):
    body, headers = signed("order_created")
    envelope = webhooks.decode("eu", headers, body).envelope
    assert envelope.delivery_id == "9f2c4e6a8b0d1f3a5c7e9b1d3f5a7c9e"
    assert envelope.received_at == RECEIVED


def test_event_id_is_the_same_for_a_redelivery_of_one_change(webhooks):
    body, headers = signed("order_created")
    first = webhooks.decode("eu", headers, body).envelope
    redelivered = webhooks.decode("eu", {**headers, "X-WC-Webhook-Delivery-ID": "another-delivery"}, body).envelope
    assert first.event_id == redelivered.event_id and first.event_id.startswith("wc:")


def test_event_id_differs_by_version_topic_and_store(webhooks):
    created_body, created_headers = signed("order_created")
    created = webhooks.decode("eu", created_headers, created_body).envelope
    updated_body, updated_headers = signed("order_updated")
    updated = webhooks.decode("eu", updated_headers, updated_body).envelope
    same_save_as_update = webhooks.decode("eu", {**created_headers, "X-WC-Webhook-Topic": "order.updated"},
                                          created_body).envelope
    other_store = webhooks.decode("us", created_headers, created_body).envelope

    assert len({created.event_id, updated.event_id, same_save_as_update.event_id, other_store.event_id}) == 4


# --- unusable bodies ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "reason"), [
    (b"{not json", "invalid_json"),
    (b'"just a string"', "not_an_object"),
    (b'{"status": "processing", "date_modified_gmt": "2025-11-19T17:12:31"}', "missing_field:id"),
    (b'{"id": 11.5, "date_modified_gmt": "2025-11-19T17:12:31"}', "invalid_field:id"),
    (b'{"id": 1187, "status": "processing"}', "missing_field:date_modified_gmt"),
    (b'{"id": 1187, "date_modified_gmt": "last tuesday"}', "invalid_field:date_modified_gmt"),
])
def test_signed_but_unusable_body_is_reported_with_a_machine_readable_reason(webhooks, body, reason):
    _, headers = signed("order_created", body=body)
    decision = webhooks.decode("eu", headers, body)
    assert (decision.kind, decision.reason, decision.envelope) == ("unusable", reason, None)


def test_delivery_without_topic_header_is_unusable(webhooks):
    body, headers = signed("order_created")
    headers = {name: value for name, value in headers.items() if name != "X-WC-Webhook-Topic"}
    assert webhooks.decode("eu", headers, body).reason == "missing_header:x-wc-webhook-topic"
