"""WooCommerceFulfillments against the WooCommerce sandbox: Shipment Tracking items in the order meta, a
customer note, `completed` only when everything shipped; repeats and crashes add nothing twice."""
from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from synchub.connectors.woocommerce.client import WooCommerceClient
from synchub.connectors.woocommerce.fulfillment_events import WooCommerceFulfillmentPayloads
from synchub.connectors.woocommerce.fulfillments import (
    TRACKING_META,
    WooCommerceFulfillments,
    meta_items,
    tracking_ids,
)
from synchub.connectors.woocommerce.settings import WooCommerceSettings
from synchub.models import FulfillmentStatus, Shipment, ShippedLine, Tracking

from infra.local.sandboxes.woocommerce import create_app

KEY, SECRET = "ck_test", "cs_test"


@pytest.fixture
def store():
    app = create_app(KEY, SECRET)
    settings = WooCommerceSettings(domain="https://woo.test")
    client = WooCommerceClient.for_store(settings, {"consumer_key": KEY, "consumer_secret": SECRET},
                                         http_client=httpx.Client(transport=httpx.WSGITransport(app=app)))
    order = client.post("orders", {"status": "processing", "billing": {"email": "ship@example.com"},
                                   "line_items": [{"sku": "TEE-BLK-L", "quantity": 2}, {"sku": "CAP-NVY-OS",
                                                                                        "quantity": 1}]})
    return app, order["id"], WooCommerceFulfillments(client)


def shipment(order_id: int, numbers: tuple[str, ...], *, complete: bool, source_id: str = "41") -> Shipment:
    return Shipment(source_id=source_id, number=f"OUT/{source_id}", order_reference=f"eu:{order_id}", carrier="UPS",
                    tracking=tuple(Tracking(number=n, url=f"https://www.ups.com/track?tracknum={n}") for n in numbers),
                    lines=(ShippedLine(sku="TEE-BLK-L", quantity=2),), shipped_at=datetime(2026, 7, 10, tzinfo=UTC),
                    complete=complete)


def test_a_partial_shipment_adds_tracking_and_a_note_but_leaves_the_order_processing(store):
    app, order_id, fulfillments = store
    result = fulfillments.fulfil(shipment(order_id, ("1ZA", "1ZB"), complete=False))
    assert result is not None and result.created and result.order_status == FulfillmentStatus.PARTIAL
    order = app.order(order_id)
    assert order["status"] == "processing"
    items = meta_items(order)
    assert [item["tracking_number"] for item in items] == ["1ZA", "1ZB"]
    assert set(items[0]) == {"tracking_provider", "custom_tracking_provider", "custom_tracking_link",
                             "tracking_number", "date_shipped", "tracking_id"}
    assert items[0]["custom_tracking_provider"] == "UPS" and items[0]["date_shipped"] == "1783641600"
    [note] = [n for n in app.order_notes(order_id) if n["customer_note"]]
    assert "1ZA" in note["note"] and "1ZB" in note["note"]


def test_the_last_shipment_completes_the_order_and_repeats_add_nothing(store):
    app, order_id, fulfillments = store
    fulfillments.fulfil(shipment(order_id, ("1ZA",), complete=False))
    last = fulfillments.fulfil(shipment(order_id, ("1ZC",), complete=True, source_id="42"))
    again = fulfillments.fulfil(shipment(order_id, ("1ZC",), complete=True, source_id="42"))
    assert last.order_status == FulfillmentStatus.FULFILLED and not again.created
    order = app.order(order_id)
    assert order["status"] == "completed" and order["date_completed_gmt"]
    assert [item["tracking_number"] for item in meta_items(order)] == ["1ZA", "1ZC"]
    assert len([n for n in app.order_notes(order_id) if n["customer_note"]]) == 2
    assert [mail["email"] for mail in app.customer_emails if mail["order_id"] == order_id].count(
        "customer_completed_order") == 1


def test_a_crash_after_the_meta_write_adds_the_missing_note_only(store):
    app, order_id, fulfillments = store
    first = shipment(order_id, ("1ZA",), complete=False)
    fulfillments.client.put(f"orders/{order_id}", {"meta_data": [{"key": TRACKING_META, "value": [
        {"tracking_provider": "", "custom_tracking_provider": "UPS", "custom_tracking_link": "",
         "tracking_number": "1ZA", "date_shipped": "1783641600",
         "tracking_id": tracking_ids(first)[0]}]}]})  # the store took the meta write; the function died there
    result = fulfillments.fulfil(first)
    assert not result.created
    assert [item["tracking_number"] for item in meta_items(app.order(order_id))] == ["1ZA"]
    assert len([n for n in app.order_notes(order_id) if n["customer_note"]]) == 1


def test_tracking_updates_replace_our_items_and_keep_others(store):
    app, order_id, fulfillments = store
    fulfillments.client.put(f"orders/{order_id}", {"meta_data": [{"key": TRACKING_META, "value": [
        {"tracking_provider": "usps", "tracking_number": "MANUAL-1", "tracking_id": "manual"}]}]})
    result = fulfillments.fulfil(shipment(order_id, ("OLD",), complete=False))
    fulfillments.update_tracking(result.fulfillment_id, shipment(order_id, ("NEW",), complete=False))
    assert [item["tracking_number"] for item in meta_items(app.order(order_id))] == ["MANUAL-1", "NEW"]


def test_an_order_the_store_completed_reads_as_a_whole_order_fulfilment(store):
    app, order_id, fulfillments = store
    fulfillments.fulfil(shipment(order_id, ("1ZC",), complete=True))
    fulfillment = WooCommerceFulfillmentPayloads().fulfillment("eu", "order", app.order(order_id))
    assert fulfillment is not None and fulfillment.lines == () and fulfillment.tracking_numbers == ("1ZC",)
    assert fulfillment.carrier == "UPS"
