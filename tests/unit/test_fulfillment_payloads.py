"""Real published fulfilment bodies through the webhook decoders and the fulfilment payload mappers: Shopify's
fulfillments/create (a 3PL's TNT shipment, shopify-api-ruby fixture) and a WooCommerce order completed with
a Shipment Tracking item."""
from __future__ import annotations

import pytest
from synchub.connectors.shopify.fulfillment_events import ShopifyFulfillmentPayloads
from synchub.connectors.shopify.webhooks import ShopifyWebhooks
from synchub.connectors.woocommerce.fulfillment_events import WooCommerceFulfillmentPayloads
from synchub.connectors.woocommerce.webhooks import WooCommerceWebhooks
from synchub.errors import PermanentError
from synchub.models import ShippedLine, Tracking

from tests.eventdata import load_event, load_json, sign_shopify, sign_woocommerce

SECRET = "whsec-test"


def test_shopify_fulfillments_create_becomes_a_fulfilment_event_and_a_store_fulfilment():
    body, headers = load_event("shopify/fulfillments_create")
    decision = ShopifyWebhooks().decode("main", {**headers, "X-Shopify-Hmac-Sha256": sign_shopify(body, SECRET)},
                                        body)
    assert decision.kind == "event"
    envelope = decision.envelope
    assert (envelope.topic, envelope.entity, envelope.entity_id) == ("fulfillment.created", "fulfillment",
                                                                     "1069019863")
    fulfillment = ShopifyFulfillmentPayloads().fulfillment("main", envelope.entity, envelope.payload)
    assert fulfillment is not None
    assert fulfillment.order_reference == "main:450789469" and fulfillment.status == "success"
    assert fulfillment.carrier == "TNT"
    assert fulfillment.tracking == (Tracking(
        number="123456789", url="https://www.tnt.com/express/en_us/site/tracking.html?searchType=con&cons=123456789"),)
    assert fulfillment.lines == (ShippedLine(sku="IPOD2008RED", quantity=1),)


def test_shopify_fulfillments_update_maps_to_fulfillment_updated():
    body, headers = load_event("shopify/fulfillments_create")
    headers = {**headers, "X-Shopify-Topic": "fulfillments/update", "X-Shopify-Hmac-Sha256": sign_shopify(body, SECRET)}
    assert ShopifyWebhooks().decode("main", headers, body).envelope.topic == "fulfillment.updated"


def test_a_shopify_order_payload_is_not_a_fulfilment():
    assert ShopifyFulfillmentPayloads().fulfillment("main", "order", load_json("shopify/orders_create")) is None


def test_a_fulfilled_line_without_sku_is_a_permanent_error():
    payload = load_json("shopify/fulfillments_create")
    payload["line_items"][0]["sku"] = None
    with pytest.raises(PermanentError) as caught:
        ShopifyFulfillmentPayloads().fulfillment("main", "fulfillment", payload)
    assert caught.value.reason == "invalid_payload"


def test_a_woocommerce_order_completed_with_shipment_tracking_is_a_whole_order_fulfilment():
    body, headers = load_event("woocommerce/order_completed_shipment_tracking")
    decision = WooCommerceWebhooks().decode(
        "eu", {**headers, "X-WC-Webhook-Signature": sign_woocommerce(body, SECRET)}, body)
    assert decision.kind == "event" and decision.envelope.topic == "order.updated"
    fulfillment = WooCommerceFulfillmentPayloads().fulfillment("eu", decision.envelope.entity,
                                                               decision.envelope.payload)
    assert fulfillment is not None and fulfillment.order_reference == "eu:727"
    assert fulfillment.carrier == "usps" and fulfillment.tracking_numbers == ("9400111899560000000000",)
    assert fulfillment.lines == ()  # WooCommerce completes the whole order


def test_a_woocommerce_order_not_completed_is_not_a_fulfilment():
    assert WooCommerceFulfillmentPayloads().fulfillment("eu", "order", load_json(
        "woocommerce/order_created_rest_docs")) is None
