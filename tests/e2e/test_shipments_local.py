"""Issue 9 end to end, local mode against the real Tryton: shipments in both directions.

ERP master (stores "main" and "eu"): an order placed in the store becomes a Tryton sale; the warehouse ships it
in Tryton with carrier and tracking number; the shipment poll and `shipment_to_store` give the Shopify order a
fulfilment with tracking (customer notified) and the WooCommerce order its Shipment Tracking items, a customer
note and `completed`; the store's own orders/updated (which Shopify and WooCommerce send after such a write,
and the sandboxes keep instead of sending) moves the HubSpot deal to the fulfilled stage.

Store master (store "eu3pl", a second WooCommerce connection added to the local config here): the 3PL
completes the order in WooCommerce, and `fulfilment_to_erp` ships the Tryton shipment with its tracking.
"""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from synchub.ports import SALES_ORDERS

from infra.local.runner import DEFAULT_CONFIG, LocalMode
from infra.local.vendors.tryton_warehouse import ship
from tests.e2e.conftest import Store, eventually, sample

pytestmark = pytest.mark.e2e

STORE_MASTER = "eu3pl"


@pytest.fixture(scope="module")
def local(tryton_server, tmp_path_factory) -> Iterator[LocalMode]:
    config = json.loads(DEFAULT_CONFIG.read_text().replace("synchub/local/", "synchub/ship/"))
    config["stage"] = "ship"  # its own stage: moto in one process shares state with the shared local mode
    config["connections"].append({"id": STORE_MASTER, "vendor": "woocommerce",
                                  "secret_name": "synchub/ship/store/eu3pl",
                                  "settings": {"domain": "http://3pl.synchub-demo.local", "currency": "USD",
                                               "fulfilment_master": "store"}})
    data_dir = tmp_path_factory.mktemp("synchub-shipments")
    path = Path(data_dir) / "config.json"
    path.write_text(json.dumps(config))
    mode = LocalMode(data_dir=data_dir, base_port=0, config_path=path, start_ticks=False,
                     reuse={"tryton": tryton_server})
    mode.start()
    # The Tryton database outlives test sessions: WooCommerce order ids must not repeat an earlier run's.
    mode.woocommerce._next_order = 7_000_000 + int(time.time()) % 1_000_000 * 100
    try:
        yield mode
    finally:
        mode.stop()


def erp(local: LocalMode):
    return local.wirings["order_to_erp"].erp(SALES_ORDERS)


def deal_stage(local: LocalMode, reference: str) -> str | None:
    found = [deal for deal in local.hubspot.objects("deals")
             if deal["properties"].get("synchub_order_ref") == reference]
    return found[0]["properties"]["dealstage"] if len(found) == 1 else None


def stage(local: LocalMode, state: str) -> str:
    return local.config.crm.settings.stages[state]


def woo(local: LocalMode) -> httpx.Client:
    info = local.info["woocommerce"]
    return httpx.Client(base_url=info["api_url"], auth=(info["consumer_key"], info["consumer_secret"]), timeout=30)


def poll(local: LocalMode) -> dict:
    result = local.trigger("poll_erp_shipments", {})
    assert local.wait_idle(90)
    return result


def placed(local: LocalMode, reference: str) -> int:
    assert eventually(lambda: erp(local).find_sales_order(reference), timeout=90)
    assert local.wait_idle(90)
    return int(erp(local).find_sales_order(reference).id)


def shopify_order(local: LocalMode, order_id: int) -> tuple[dict, dict]:
    """orders/paid (a paid order, so a fulfilled one is a won deal), also placed in the Shopify sandbox."""
    payload, headers = sample("shopify/orders_paid", id=order_id, name=f"#S{order_id % 100000}")
    local.shopify.add_order(payload)
    return payload, headers


def deliver_outbox(local: LocalMode, store: Store, topic: str) -> None:
    """Send the webhooks Shopify would have sent after our writes (the sandbox keeps them)."""
    _, headers = sample("shopify/orders_updated")
    for body in local.shopify.outbox(topic):
        store.send(body, {**headers, "X-Shopify-Topic": topic}, event_id=f"evt-{uuid.uuid4()}")
    assert local.wait_idle(90)


def test_shopify_order_shipped_in_tryton_gets_one_fulfilment_with_tracking_and_a_won_deal(local, new_order_id):
    shop = Store(local, "main")
    order_id = new_order_id()
    payload, headers = shopify_order(local, order_id)
    shop.send(payload, headers)
    reference = f"main:{order_id}"
    sale_id = placed(local, reference)

    ship(erp(local).client, sale_id, carrier="UPS", reference="1Z999AA10123456784")
    poll(local)
    poll(local)  # polled twice: still one fulfilment

    order = local.shopify.order(order_id)
    assert order["fulfillment_status"] == "fulfilled"
    [fulfillment] = order["fulfillments"]
    assert fulfillment["tracking_company"] == "UPS" and fulfillment["tracking_number"] == "1Z999AA10123456784"
    assert fulfillment["tracking_url"] == (
        "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=1Z999AA10123456784")
    assert fulfillment["notify_customer"] is True
    assert len([n for n in local.shopify.notifications if n["order_id"] == order_id]) == 1

    # Shopify reports the fulfilment back: orders/updated moves the deal; fulfillments/create is our echo.
    before = erp(local).client.model("stock.shipment.out", "search_count", [("state", "=", "done")])
    deliver_outbox(local, shop, "orders/updated")
    deliver_outbox(local, shop, "fulfillments/create")
    assert eventually(lambda: deal_stage(local, reference) == stage(local, "fulfilled"))
    assert erp(local).client.model("stock.shipment.out", "search_count", [("state", "=", "done")]) == before
    local.shopify.shop.orders.outbox.clear()


def test_a_partial_shipment_then_the_rest_gives_two_fulfilments(local, new_order_id):
    shop = Store(local, "main")
    order_id = new_order_id()
    payload, headers = shopify_order(local, order_id)
    shop.send(payload, headers)
    sale_id = placed(local, f"main:{order_id}")

    ship(erp(local).client, sale_id, carrier="UPS", reference="PARCEL-A", quantities={"TEE-BLK-M": 2})
    poll(local)
    assert local.shopify.order(order_id)["fulfillment_status"] == "partial"

    ship(erp(local).client, sale_id, carrier="DHL Express", reference="PARCEL-B")  # Tryton's back-order
    poll(local)
    order = local.shopify.order(order_id)
    assert order["fulfillment_status"] == "fulfilled"
    assert [(f["tracking_company"], f["tracking_numbers"]) for f in order["fulfillments"]] == [
        ("UPS", ["PARCEL-A"]), ("DHL Express", ["PARCEL-B"])]
    shipped = {}
    for fulfillment in order["fulfillments"]:
        for line in fulfillment["line_items"]:
            shipped[line["sku"]] = shipped.get(line["sku"], 0) + line["quantity"]
    assert shipped == {line["sku"]: line["quantity"] for line in payload["line_items"]}
    local.shopify.shop.orders.outbox.clear()


def woo_order(local: LocalMode, store_id: str) -> tuple[int, dict, dict]:
    """The sample WooCommerce order, created in the sandbox (which gives it its id) and its webhook body."""
    payload, headers = sample("woocommerce/order_created")
    created = woo(local).post("orders", json={"status": "processing", "billing": payload["billing"],
                                              "line_items": [{"sku": line["sku"], "quantity": line["quantity"]}
                                                             for line in payload["line_items"]]}).json()
    payload.update(id=created["id"], number=str(created["id"]))
    return created["id"], payload, headers


def test_woocommerce_order_shipped_in_tryton_is_completed_with_tracking_and_a_note(local):
    store = Store(local, "eu")
    order_id, payload, headers = woo_order(local, "eu")
    store.send(payload, headers)
    reference = f"eu:{order_id}"
    sale_id = placed(local, reference)

    ship(erp(local).client, sale_id, carrier="UPS", reference="1ZWOO0001")
    poll(local)
    poll(local)

    order = woo(local).get(f"orders/{order_id}").json()
    assert order["status"] == "completed"
    [items] = [meta["value"] for meta in order["meta_data"] if meta["key"] == "_wc_shipment_tracking_items"]
    assert [(item["custom_tracking_provider"], item["tracking_number"]) for item in items] == [("UPS", "1ZWOO0001")]
    notes = woo(local).get(f"orders/{order_id}/notes", params={"type": "customer"}).json()
    assert len(notes) == 1 and "1ZWOO0001" in notes[0]["note"]

    # WooCommerce's order.updated after our write: the deal is won; the completed order is no 3PL shipment here.
    completed = {**payload, "status": "completed", "date_modified_gmt": order["date_modified_gmt"],
                 "meta_data": order["meta_data"]}
    store.send(completed, {**headers, "X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Event": "updated"})
    assert local.wait_idle(90)
    assert eventually(lambda: deal_stage(local, reference) == stage(local, "fulfilled"))
    assert erp(local).client.model("stock.shipment.out", "search_count",
                                   [("moves.origin.sale.reference", "=", reference, "sale.line")]) == 1


def test_a_3pl_completing_a_woocommerce_order_ships_the_tryton_shipment_once(local):
    store = Store(local, STORE_MASTER)
    order_id, payload, headers = woo_order(local, STORE_MASTER)
    store.send(payload, headers)
    reference = f"{STORE_MASTER}:{order_id}"
    sale_id = placed(local, reference)

    tracking = [{"tracking_provider": "", "custom_tracking_provider": "DHL Express", "custom_tracking_link": "",
                 "tracking_number": "3PL-DHL-42", "date_shipped": str(int(time.time())), "tracking_id": "3pl"}]
    order = woo(local).put(f"orders/{order_id}", json={"status": "completed", "meta_data": [
        {"key": "_wc_shipment_tracking_items", "value": tracking}]}).json()
    completed = {**payload, "status": "completed", "date_modified_gmt": order["date_modified_gmt"],
                 "meta_data": order["meta_data"]}
    updated = {**headers, "X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Event": "updated"}
    store.send(completed, updated, times=2)
    assert local.wait_idle(90)

    sale, = erp(local).client.model("sale.sale", "read", [sale_id], ["shipments"])
    rows = erp(local).client.model("stock.shipment.out", "read", sale["shipments"],
                                   ["state", "shipping_reference", "carrier"])
    assert [(row["state"], row["shipping_reference"]) for row in rows] == [("done", "3PL-DHL-42")]
    assert rows[0]["carrier"]  # the store's carrier name found among Tryton's carriers

    poll(local)  # the ERP shipment the 3PL closed is not written back to a store that ships itself
    notes = woo(local).get(f"orders/{order_id}/notes", params={"type": "customer"}).json()
    assert notes == []
