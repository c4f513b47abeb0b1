"""ShopifyFulfillments against the Shopify sandbox: fulfillmentCreate on the order's fulfilment orders with
tracking and notifyCustomer, partial shipments, repeats found by tracking number, tracking updates, and the
documented userErrors. In-process (WSGI), no sockets."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from synchub.connectors.shopify.fulfillments import (
    FULFILLMENT_CREATE,
    ShopifyFulfillments,
    order_gid,
    shopify_fulfillments_from_config,
)
from synchub.connectors.shopify.settings import ShopifySettings
from synchub.errors import PermanentError, VendorRejected
from synchub.models import FulfillmentStatus, Shipment, ShippedLine, Tracking

from infra.local.sandboxes.shopify import create_app
from tests.eventdata import load_json

CATALOG = Path(__file__).resolve().parents[2] / "infra" / "local" / "demo_catalog.json"
TOKEN = "shpat_test"


@pytest.fixture
def shop():
    app = create_app(TOKEN, "synchub-demo.myshopify.com", catalog=CATALOG)
    order = load_json("shopify/orders_create")  # 2 x TEE-BLK-M, MUG-CER-01, HOOD-GRY-M
    app.add_order(order)
    settings = ShopifySettings(domain="synchub-demo.myshopify.com", api_url="http://shop.test")
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://shop.test")
    return app, order["id"], shopify_fulfillments_from_config(settings, {"access_token": TOKEN}, client)


def shipment(order_id: int, lines: dict[str, int], numbers: tuple[str, ...] = ("1Z999AA10123456784",),
             source_id: str = "41", complete: bool = True, carrier: str | None = "UPS") -> Shipment:
    return Shipment(source_id=source_id, order_reference=f"main:{order_id}", carrier=carrier,
                    tracking=tuple(Tracking(number=n) for n in numbers),
                    lines=tuple(ShippedLine(sku=s, quantity=q) for s, q in lines.items()),
                    shipped_at=datetime(2026, 11, 21, tzinfo=UTC), complete=complete)


def test_a_whole_shipment_fulfils_the_order_with_tracking_and_notifies_the_customer(shop):
    app, order_id, fulfillments = shop
    result = fulfillments.fulfil(shipment(order_id, {"TEE-BLK-M": 2, "MUG-CER-01": 1, "HOOD-GRY-M": 1}))
    assert result is not None and result.created and result.order_status == FulfillmentStatus.FULFILLED
    order = app.order(order_id)
    assert order["fulfillment_status"] == "fulfilled" and order["display_fulfillment_status"] == "FULFILLED"
    [fulfillment] = order["fulfillments"]
    assert fulfillment["admin_graphql_api_id"] == result.fulfillment_id
    assert fulfillment["tracking_company"] == "UPS" and fulfillment["tracking_number"] == "1Z999AA10123456784"
    assert fulfillment["tracking_url"].startswith("https://www.ups.com/")  # Shopify builds it for known carriers
    assert fulfillment["notify_customer"] is True and len(app.notifications) == 1
    assert [topic for topic in ("fulfillments/create", "orders/updated") if app.outbox(topic)] == [
        "fulfillments/create", "orders/updated"]
    assert app.outbox("orders/updated")[-1]["fulfillment_status"] == "fulfilled"


def test_a_partial_shipment_then_the_rest(shop):
    app, order_id, fulfillments = shop
    first = fulfillments.fulfil(shipment(order_id, {"TEE-BLK-M": 1}, ("PARCEL-1",), complete=False))
    assert first is not None and first.order_status == FulfillmentStatus.PARTIAL
    assert app.order(order_id)["fulfillment_status"] == "partial"
    rest = fulfillments.fulfil(shipment(order_id, {"TEE-BLK-M": 1, "MUG-CER-01": 1, "HOOD-GRY-M": 1},
                                        ("PARCEL-2", "PARCEL-3"), source_id="42"))
    assert rest is not None and rest.order_status == FulfillmentStatus.FULFILLED
    shipped = app.order(order_id)["fulfillments"]
    assert [f["tracking_numbers"] for f in shipped] == [["PARCEL-1"], ["PARCEL-2", "PARCEL-3"]]
    assert sum(line["quantity"] for f in shipped for line in f["line_items"]) == 4  # every unit once


def test_a_repeat_finds_the_fulfilment_by_its_tracking_number(shop):
    app, order_id, fulfillments = shop
    first = fulfillments.fulfil(shipment(order_id, {"MUG-CER-01": 1}))
    again = fulfillments.fulfil(shipment(order_id, {"MUG-CER-01": 1}))
    assert again is not None and not again.created and again.fulfillment_id == first.fulfillment_id
    assert len(app.order(order_id)["fulfillments"]) == 1 and len(app.notifications) == 1


def test_nothing_left_for_the_shipped_skus_is_none(shop):
    _, order_id, fulfillments = shop
    fulfillments.fulfil(shipment(order_id, {"MUG-CER-01": 1}, numbers=()))
    assert fulfillments.fulfil(shipment(order_id, {"MUG-CER-01": 1}, numbers=(), source_id="43")) is None


def test_tracking_updates_replace_the_fulfilments_tracking(shop):
    app, order_id, fulfillments = shop
    created = fulfillments.fulfil(shipment(order_id, {"MUG-CER-01": 1}, ("OLD-1",)))
    fulfillments.update_tracking(created.fulfillment_id, shipment(order_id, {"MUG-CER-01": 1}, ("NEW-1",),
                                                                  carrier="DHL Express"))
    [fulfillment] = app.order(order_id)["fulfillments"]
    assert fulfillment["tracking_numbers"] == ["NEW-1"] and fulfillment["tracking_company"] == "DHL Express"
    assert app.outbox("fulfillments/update")


def test_an_unknown_order_is_a_permanent_error(shop):
    _, _, fulfillments = shop
    with pytest.raises(PermanentError) as caught:
        fulfillments.fulfil(shipment(1, {"MUG-CER-01": 1}))
    assert caught.value.reason == "store_order_not_found"


def test_the_sandbox_answers_userErrors_in_shopifys_shape(shop):
    app, order_id, fulfillments = shop
    fo_id = json.loads(httpx.Client(transport=httpx.WSGITransport(app=app)).post(
        "http://shop.test/admin/api/2026-01/graphql.json", headers={"X-Shopify-Access-Token": TOKEN},
        json={"query": "query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 1) { nodes { id "
                       "lineItems(first: 10) { nodes { id sku remainingQuantity } } } } } }",
              "variables": {"id": order_gid(str(order_id))}}).content)["data"]["order"]["fulfillmentOrders"]["nodes"][0]
    mug = next(item for item in fo_id["lineItems"]["nodes"] if item["sku"] == "MUG-CER-01")
    too_many = {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo_id["id"],
                                                 "fulfillmentOrderLineItems": [{"id": mug["id"], "quantity": 5}]}]}
    answer = fulfillments.admin.execute(FULFILLMENT_CREATE, {"fulfillment": too_many})["fulfillmentCreate"]
    assert answer["fulfillment"] is None
    assert answer["userErrors"] == [{"field": ["fulfillment"],
                                     "message": "Invalid fulfillment order line item quantity requested."}]
    with pytest.raises(VendorRejected):
        ShopifyFulfillments._check(answer, "fulfillmentCreate")


def test_the_sandbox_fulfils_as_shopifys_published_example_does(shop):
    """Shopify's own example (shopify-api-ruby fixtures): UPS + number, one fulfilment order line of 1 →
    a successful fulfilment whose tracking URL Shopify built for UPS. The sandbox's webhook body carries
    the published body's fields."""
    published = load_json("shopify/admin_rest/fulfillment_create_ups")
    info = published["request"]["fulfillment"]["tracking_info"]
    app, order_id, fulfillments = shop
    result = fulfillments.fulfil(shipment(order_id, {"MUG-CER-01": 1}, (info["number"],), carrier=info["company"],
                                          complete=False))
    assert result is not None
    [body] = app.outbox("fulfillments/create")
    expected = published["response"]["fulfillment"]
    for field in ("status", "tracking_company", "tracking_number", "tracking_numbers", "tracking_url", "tracking_urls"):
        assert body[field] == expected[field], field
    assert set(body) <= set(expected)
    assert {key for line in body["line_items"] for key in line} <= set(expected["line_items"][0])
