"""Shopify webhooks: only the store's signature gets in, and every delivery becomes the right envelope."""
from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from synchub.connectors.shopify.webhooks import ShopifyWebhooks

from tests.eventdata import load_event, load_json, sign_shopify

SECRET = "shpss_unit_test_secret"
RECEIVED = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)
BIG_ORDER_ID = 820982911946154521  # above 2**53: a float cannot hold it


@pytest.fixture
def webhooks() -> ShopifyWebhooks:
    return ShopifyWebhooks(clock=lambda: RECEIVED)


def signed(name: str, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body, headers = load_event(f"shopify/{name}")
    return body, {**headers, "X-Shopify-Hmac-Sha256": sign_shopify(body, secret)}


def without(headers: dict[str, str], *names: str) -> dict[str, str]:
    return {key: value for key, value in headers.items() if key.lower() not in {n.lower() for n in names}}


# --- signature ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["orders_create", "orders_create_unicode", "customers_create", "customers_redact",
                                  "shop_redact", "carts_update"])
def test_body_signed_with_the_store_secret_is_accepted(webhooks, name):
    body, headers = signed(name)
    assert webhooks.verify(headers, body, SECRET) is True


def test_one_flipped_byte_in_the_body_is_rejected(webhooks):
    body, headers = signed("orders_create")
    tampered = bytearray(body)
    tampered[len(tampered) // 2] ^= 0x01
    assert webhooks.verify(headers, bytes(tampered), SECRET) is False


def test_signature_made_with_another_secret_is_rejected(webhooks):
    body, headers = signed("orders_create", secret="someone-elses-secret")
    assert webhooks.verify(headers, body, SECRET) is False


@pytest.mark.parametrize("signature", [None, "", "not base64 at all", "AAAA"])
def test_missing_or_malformed_signature_is_rejected(webhooks, signature):
    body, headers = load_event("shopify/orders_create")
    if signature is not None:
        headers = {**headers, "X-Shopify-Hmac-Sha256": signature}
    assert webhooks.verify(headers, body, SECRET) is False


def test_empty_secret_never_verifies_even_a_matching_signature(webhooks):
    body, headers = signed("orders_create", secret="")
    assert webhooks.verify(headers, body, "") is False


def test_header_names_are_matched_whatever_their_case(webhooks):
    body, headers = signed("orders_create")
    lowered = {name.lower(): value for name, value in headers.items()}
    shouted = {name.upper(): value for name, value in headers.items()}

    assert webhooks.verify(lowered, body, SECRET) and webhooks.verify(shouted, body, SECRET)
    assert webhooks.decode("main", lowered, body) == webhooks.decode("main", shouted, body)
    assert webhooks.decode("main", lowered, body).kind == "event"


def test_shopify_has_no_unsigned_ping(webhooks):
    body, headers = load_event("shopify/orders_create")
    assert webhooks.is_unsigned_ping(headers, body) is False


# --- topics and envelope -----------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "topic", "entity", "entity_id"), [
    ("orders_create", "order.created", "order", str(BIG_ORDER_ID)),
    ("orders_updated", "order.updated", "order", str(BIG_ORDER_ID)),
    ("orders_paid", "order.paid", "order", str(BIG_ORDER_ID)),
    ("orders_cancelled", "order.cancelled", "order", str(BIG_ORDER_ID)),
    ("customers_create", "customer.created", "customer", "115310627314723974"),
    ("customers_update", "customer.updated", "customer", "115310627314723974"),
    ("refunds_create", "refund.created", "refund", "509562969137858201"),
    ("inventory_levels_update", "inventory.updated", "inventory_level", "271878346596884301:24826418"),
    ("customers_data_request", "privacy.data_request", "customer", "115310627314723974"),
    ("customers_redact", "privacy.customer_redact", "customer", "115310627314723974"),
    ("shop_redact", "privacy.shop_redact", "shop", "92816419004"),
])
def test_each_handled_topic_becomes_its_canonical_event(webhooks, name, topic, entity, entity_id):
    body, headers = signed(name)
    decision = webhooks.decode("main", headers, body)

    assert decision.kind == "event"
    envelope = decision.envelope
    assert (envelope.topic, envelope.entity, envelope.entity_id) == (topic, entity, entity_id)
    assert (envelope.source, envelope.store) == ("shopify", "main")
    assert decision.topic == headers["X-Shopify-Topic"]


def test_products_update_is_mapped_to_product_updated(webhooks):
    body = json.dumps({"id": 632910392112934001, "title": "Organic tee", "updated_at": "2025-11-20T09:00:00-05:00",
                       "variants": []}).encode()
    _, headers = load_event("shopify/orders_create")
    decision = webhooks.decode("main", {**headers, "X-Shopify-Topic": "products/update"}, body)
    assert (decision.envelope.topic, decision.envelope.entity) == ("product.updated", "product")


def test_topic_we_do_not_map_is_ignored_with_its_vendor_topic(webhooks):
    body, headers = signed("carts_update")
    decision = webhooks.decode("main", headers, body)
    assert (decision.kind, decision.topic, decision.envelope) == ("ignored", "carts/update", None)


def test_order_id_beyond_two_to_the_53_is_kept_exact(webhooks):
    assert float(BIG_ORDER_ID) != BIG_ORDER_ID  # the sample really is beyond float precision
    body, headers = signed("orders_create")
    envelope = webhooks.decode("main", headers, body).envelope

    assert envelope.entity_id == "820982911946154521"
    assert envelope.payload["id"] == BIG_ORDER_ID and isinstance(envelope.payload["id"], int)
    assert envelope.payload["line_items"][0]["id"] == 866550311766439020
    # and it survives the trip through the bus as JSON
    assert json.loads(envelope.model_dump_json())["payload"]["id"] == BIG_ORDER_ID


def test_event_id_is_the_shared_event_id_and_delivery_id_the_webhook_id(webhooks):
    body, headers = signed("orders_create")
    envelope = webhooks.decode("main", headers, body).envelope
    assert envelope.event_id == "98880550-7158-44d4-b7cd-2c97c8a091b5"
    assert envelope.delivery_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert envelope.received_at == RECEIVED


def test_without_event_id_header_the_webhook_id_is_the_event_id(webhooks):
    body, headers = signed("orders_create")
    envelope = webhooks.decode("main", without(headers, "X-Shopify-Event-Id"), body).envelope
    assert envelope.event_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"


def test_without_any_id_header_the_event_id_is_derived_and_stable(webhooks):
    body, headers = signed("orders_create")
    bare = without(headers, "X-Shopify-Event-Id", "X-Shopify-Webhook-Id")
    first, again = (webhooks.decode("main", bare, body).envelope for _ in range(2))
    later = webhooks.decode("main", without(signed("orders_updated")[1], "X-Shopify-Event-Id",
                                            "X-Shopify-Webhook-Id"), signed("orders_updated")[0]).envelope

    assert first.event_id == again.event_id and first.event_id.startswith("shopify:")
    assert later.event_id != first.event_id
    assert first.delivery_id is None


def test_occurred_at_is_the_payload_updated_at_in_utc(webhooks):
    body, headers = signed("orders_updated")
    envelope = webhooks.decode("main", headers, body).envelope
    assert envelope.occurred_at == datetime(2025, 11, 20, 14, 31, 47, tzinfo=UTC)


def test_refund_without_updated_at_takes_its_created_at(webhooks):
    body, headers = signed("refunds_create")
    assert webhooks.decode("main", headers, body).envelope.occurred_at == datetime(
        2025, 11, 21, 13, 40, 54, tzinfo=UTC)


def test_privacy_request_without_timestamps_takes_the_trigger_time_then_the_received_time(webhooks):
    body, headers = signed("customers_redact")
    assert webhooks.decode("main", headers, body).envelope.occurred_at == datetime(
        2025, 11, 24, 12, 5, 19, tzinfo=UTC)
    no_trigger = without(headers, "X-Shopify-Triggered-At")
    assert webhooks.decode("main", no_trigger, body).envelope.occurred_at == RECEIVED


def test_envelope_payload_is_the_parsed_body(webhooks):
    body, headers = signed("orders_create_unicode")
    envelope = webhooks.decode("main", headers, body).envelope
    assert envelope.payload == json.loads(body)
    assert envelope.payload["customer"]["first_name"] == "نگار"


# --- unusable bodies ---------------------------------------------------------------------------------

def _payload_without(name: str, *fields: str) -> bytes:
    payload = json.loads(load_event(f"shopify/{name}")[0])
    for field in fields:
        payload.pop(field)
    return json.dumps(payload).encode()


@pytest.mark.parametrize(("name", "body", "reason"), [
    ("orders_create", b"{not json", "invalid_json"),
    ("orders_create", b"\xff\xfe\x00", "invalid_json"),
    ("orders_create", b"[1, 2, 3]", "not_an_object"),
    ("orders_create", _payload_without("orders_create", "id"), "missing_field:id"),
    ("orders_create", _payload_without("orders_create", "line_items"), "missing_field:line_items"),
    ("customers_redact", b'{"shop_id": 1, "shop_domain": "x.myshopify.com", "customer": {}}',
     "missing_field:customer.id"),
    ("inventory_levels_update", b'{"location_id": 24826418, "available": 3}', "missing_field:inventory_item_id"),
])
def test_signed_but_unusable_body_is_reported_with_a_machine_readable_reason(webhooks, name, body, reason):
    _, headers = load_event(f"shopify/{name}")
    decision = webhooks.decode("main", headers, body)
    assert (decision.kind, decision.reason, decision.envelope) == ("unusable", reason, None)
    assert decision.topic == headers["X-Shopify-Topic"]


def test_id_that_went_through_a_float_is_unusable(webhooks):
    _, headers = load_event("shopify/customers_create")
    decision = webhooks.decode("main", headers, b'{"id": 1.1531062731472397e17}')
    assert (decision.kind, decision.reason) == ("unusable", "invalid_field:id")


def test_malformed_updated_at_is_unusable(webhooks):
    payload = json.loads(load_event("shopify/customers_create")[0])
    payload["updated_at"] = "yesterday"
    _, headers = load_event("shopify/customers_create")
    decision = webhooks.decode("main", headers, json.dumps(payload).encode())
    assert (decision.kind, decision.reason) == ("unusable", "invalid_field:updated_at")


def test_delivery_without_topic_header_is_unusable(webhooks):
    body, headers = signed("orders_create")
    decision = webhooks.decode("main", without(headers, "X-Shopify-Topic"), body)
    assert (decision.kind, decision.reason) == ("unusable", "missing_header:x-shopify-topic")


# --- EventBridge partner delivery --------------------------------------------------------------------

def test_eventbridge_delivery_gives_the_same_envelope_as_https(webhooks):
    body, headers = signed("orders_create")
    over_https = webhooks.decode("main", headers, body).envelope
    over_bus = webhooks.decode_eventbridge("main", load_json("shopify/eventbridge_orders_create.json")).envelope

    assert over_bus == over_https
    assert "_truncated" not in over_bus.payload


def test_eventbridge_payload_cut_to_its_id_is_still_an_event_flagged_truncated(webhooks):
    decision = webhooks.decode_eventbridge("main", load_json("shopify/eventbridge_orders_create_truncated.json"))

    assert decision.kind == "event"
    envelope = decision.envelope
    assert (envelope.topic, envelope.entity_id) == ("order.created", str(BIG_ORDER_ID))
    assert envelope.payload == {"id": BIG_ORDER_ID, "_truncated": True}
    assert envelope.occurred_at == datetime(2025, 11, 20, 14, 14, 3, 551870, tzinfo=UTC)


def test_eventbridge_metadata_in_any_case_and_without_x_prefix_is_understood(webhooks):
    event = load_json("shopify/eventbridge_orders_create.json")
    reference = webhooks.decode_eventbridge("main", copy.deepcopy(event)).envelope
    event["detail"]["metadata"] = {name.lower().removeprefix("x-"): value
                                   for name, value in event["detail"]["metadata"].items()}
    assert webhooks.decode_eventbridge("main", event).envelope == reference


def test_eventbridge_without_delivery_headers_falls_back_to_the_bus_event(webhooks):
    event = load_json("shopify/eventbridge_orders_create_truncated.json")
    event["detail"]["metadata"] = {"X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": "x.myshopify.com"}
    envelope = webhooks.decode_eventbridge("main", event).envelope
    assert envelope.event_id == envelope.delivery_id == event["id"]
    assert envelope.occurred_at == datetime(2025, 11, 20, 14, 14, 4, tzinfo=UTC)


def test_eventbridge_event_of_another_kind_is_unusable(webhooks):
    event = load_json("shopify/eventbridge_orders_create.json")
    event["detail-type"] = "Scheduled Event"
    decision = webhooks.decode_eventbridge("main", event)
    assert (decision.kind, decision.reason) == ("unusable", "not_a_shopify_webhook_event")


def test_eventbridge_topic_we_do_not_map_is_ignored(webhooks):
    event = load_json("shopify/eventbridge_orders_create.json")
    event["detail"]["metadata"]["X-Shopify-Topic"] = "carts/update"
    assert webhooks.decode_eventbridge("main", event).kind == "ignored"
