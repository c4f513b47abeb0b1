"""The ingest function against moto: the right flow queues get the event; forged leaves no trace."""
from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.eventdata import load_event, sign_shopify, sign_woocommerce
from tests.handlers import load_handler
from tests.integration.conftest import SHOPIFY_SECRET, WOO_SECRET

APIGW = json.loads((Path(__file__).resolve().parents[2] / "events/apigw/webhook_request.json").read_text())


def api_event(store: str, platform: str, body: bytes, headers: dict[str, str], *, base64_body: bool = False) -> dict:
    return {**APIGW, "path": f"/webhooks/{store}/{platform}", "pathParameters": {"store": store, "platform": platform},
            "headers": {**APIGW["headers"], **headers},
            "body": base64.b64encode(body).decode() if base64_body else body.decode("utf-8"),
            "isBase64Encoded": base64_body}


def invoke(aws, event, lambda_context):
    return load_handler("ingest").lambda_handler(event, lambda_context, wiring=aws.wiring("ingest"))


def queue_depths(aws) -> dict[str, int]:
    return {flow: len(aws.drain(url)) for flow, url in aws.resources.queue_urls.items()}


def test_signed_shopify_order_reaches_exactly_the_order_flow_queues(aws, lambda_context):
    body, headers = load_event("shopify/orders_create")
    response = invoke(aws, api_event("main", "shopify", body, {**headers,
                                     "X-Shopify-Hmac-Sha256": sign_shopify(body, SHOPIFY_SECRET)}), lambda_context)

    assert response["statusCode"] == 200
    depths = queue_depths(aws)
    assert depths["order_to_erp"] == 1 and depths["order_to_crm"] == 1
    assert depths["customer_to_crm"] == depths["customer_to_erp"] == depths["inventory_push"] == 0


def test_forged_webhook_gets_401_and_is_absent_from_every_queue(aws, lambda_context):
    body, headers = load_event("shopify/orders_create")
    response = invoke(aws, api_event("main", "shopify", body, {**headers, "X-Shopify-Hmac-Sha256": "Zm9yZ2Vk"}),
                      lambda_context)

    assert response["statusCode"] == 401
    assert set(queue_depths(aws).values()) == {0}
    assert aws.drain(aws.resources.ingest_dlq_url) == []


def test_signed_but_malformed_body_is_parked_in_the_ingest_dlq_with_its_reason(aws, lambda_context):
    _, headers = load_event("shopify/orders_create")
    body = b'{"note": "no id here"}'
    response = invoke(aws, api_event("main", "shopify", body, {**headers,
                                     "X-Shopify-Hmac-Sha256": sign_shopify(body, SHOPIFY_SECRET)}), lambda_context)

    assert response["statusCode"] == 200
    [parked] = aws.drain(aws.resources.ingest_dlq_url)
    assert parked["MessageAttributes"]["reason"]["StringValue"]
    assert base64.b64decode(json.loads(parked["Body"])["body_base64"]) == body
    assert set(queue_depths(aws).values()) == {0}


def test_woocommerce_order_with_base64_body_reaches_the_order_queues(aws, lambda_context):
    body, headers = load_event("woocommerce/order_created")
    response = invoke(aws, api_event("eu", "woocommerce", body, {
        **headers, "X-WC-Webhook-Signature": sign_woocommerce(body, WOO_SECRET)}, base64_body=True), lambda_context)

    assert response["statusCode"] == 200
    assert queue_depths(aws)["order_to_erp"] == 1


def test_unknown_store_gets_404(aws, lambda_context):
    body, headers = load_event("shopify/orders_create")
    response = invoke(aws, api_event("nope", "shopify", body, headers), lambda_context)
    assert response["statusCode"] == 404


def test_publisher_refuses_an_envelope_over_eventbridges_entry_size(aws):
    import pytest
    from synchub.models import EventEnvelope
    from synchub.runtime.bus import EventBridgePublisher, EventTooLarge

    big = EventEnvelope(event_id="e", source="shopify", store="main", topic="order.created", entity="order",
                        entity_id="1", occurred_at="2026-11-23T10:00:00Z", payload={"note": "x" * 300_000})
    with pytest.raises(EventTooLarge):
        EventBridgePublisher(aws.events, aws.resources.bus_name).publish([big])


def test_shopify_eventbridge_partner_delivery_reaches_the_order_queues_without_a_signature(aws, lambda_context):
    from tests.eventdata import load_json

    response = load_handler("ingest").lambda_handler(load_json("shopify/eventbridge_orders_create"), lambda_context,
                                                     wiring=aws.wiring("ingest"))

    assert response == {"outcome": "accepted"}
    depths = queue_depths(aws)
    assert depths["order_to_erp"] == 1 and depths["order_to_crm"] == 1


def test_partner_delivery_from_a_shop_we_do_not_know_is_parked(aws, lambda_context):
    from tests.eventdata import load_json

    event = load_json("shopify/eventbridge_orders_create")
    event["detail"]["metadata"]["X-Shopify-Shop-Domain"] = "someone-else.myshopify.com"
    response = load_handler("ingest").lambda_handler(event, lambda_context, wiring=aws.wiring("ingest"))

    assert response == {"outcome": "parked"}
    [parked] = aws.drain(aws.resources.ingest_dlq_url)
    assert parked["MessageAttributes"]["reason"]["StringValue"] == "unknown_store"
    assert set(queue_depths(aws).values()) == {0}
