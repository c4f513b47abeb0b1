"""Local mode with NetSuite as the ERP (`synchub local --erp netsuite`): the order lifecycle reaches the NetSuite
sandbox exactly once, through the real gateway, bus, queues and handlers, over OAuth 2.0 M2M. Needs no Tryton."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from synchub.connectors.netsuite.mapping import external_id
from synchub.connectors.shopify.mapping import ShopifyPayloads
from synchub.models import Order
from synchub.ports import SALES_ORDERS

from infra.local.runner import LocalMode, local_config
from tests.e2e.conftest import Store, eventually, own_stage, sample

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def netsuite_local(tmp_path_factory) -> Iterator[LocalMode]:
    data_dir = tmp_path_factory.mktemp("synchub-netsuite")
    mode = LocalMode(data_dir=data_dir, base_port=0, start_ticks=False,
                     config_path=own_stage(local_config("netsuite"), "netsuite", data_dir))
    mode.start()
    try:
        yield mode
    finally:
        mode.stop()


@pytest.fixture(scope="module")
def store(netsuite_local) -> Store:
    return Store(netsuite_local, "main")


def sales(local: LocalMode, reference: str) -> list[dict]:
    return local.netsuite.sales_orders(external_id(reference))


def canonical(payload: dict) -> Order:
    return ShopifyPayloads().order("main", payload)


def total(sale: dict) -> Decimal:
    return Decimal(str(sale["total"])).quantize(Decimal("0.01"))


def test_three_deliveries_give_one_approved_sales_order_with_the_store_total(netsuite_local, store, new_order_id):
    order_id = new_order_id()
    payload, headers = sample("shopify/orders_create", id=order_id)
    before = netsuite_local.netsuite.committed("HOOD-GRY-M")
    assert store.send(payload, headers, times=3) == [200, 200, 200]

    assert eventually(lambda: sales(netsuite_local, f"main:{order_id}"))
    assert netsuite_local.wait_idle(60)
    [sale] = sales(netsuite_local, f"main:{order_id}")
    assert sale["orderStatus"]["id"] == "B"
    assert total(sale) == canonical(payload).total.amount
    assert netsuite_local.netsuite.committed("HOOD-GRY-M") == before + 1


def test_update_arriving_before_create_ends_with_one_order_at_the_updated_total(netsuite_local, store, new_order_id):
    order_id = new_order_id()
    updated, updated_headers = sample("shopify/orders_updated", id=order_id)
    created, created_headers = sample("shopify/orders_create", id=order_id)
    store.send(updated, updated_headers)
    assert eventually(lambda: sales(netsuite_local, f"main:{order_id}"))
    store.send(created, created_headers)
    assert netsuite_local.wait_idle(60)

    [sale] = sales(netsuite_local, f"main:{order_id}")
    assert total(sale) == canonical(updated).total.amount


def test_crash_after_netsuite_took_the_order_does_not_create_a_second_one(netsuite_local, store, new_order_id):
    order_id = new_order_id()
    payload, headers = sample("shopify/orders_create", id=order_id)
    order = canonical(payload)
    connector = netsuite_local.wirings["order_to_erp"].erp(SALES_ORDERS)
    customer = connector.upsert_customer(order.customer, reference=f"main:{order.customer.source_id}")
    first = connector.create_sales_order(order, customer_id=customer, products=connector.resolve_products(order.skus))

    store.send(payload, headers)
    assert netsuite_local.wait_idle(60)

    assert [sale["id"] for sale in sales(netsuite_local, order.store_reference)] == [first.id]


def test_cancellation_closes_the_sales_order_and_releases_the_commitment(netsuite_local, store, new_order_id):
    order_id = new_order_id()
    created, created_headers = sample("shopify/orders_create", id=order_id)
    before = netsuite_local.netsuite.committed("HOOD-GRY-M")
    store.send(created, created_headers)
    assert eventually(lambda: sales(netsuite_local, f"main:{order_id}"))
    assert netsuite_local.wait_idle(60)
    cancelled, cancelled_headers = sample("shopify/orders_cancelled", id=order_id)
    store.send(cancelled, cancelled_headers)
    assert netsuite_local.wait_idle(60)

    [sale] = sales(netsuite_local, f"main:{order_id}")
    assert sale["orderStatus"] == {"id": "H", "refName": "Closed"}
    assert all(line["isClosed"] for line in sale["item"]["items"])
    assert netsuite_local.netsuite.committed("HOOD-GRY-M") == before


def test_an_inventory_adjustment_in_netsuite_reaches_both_stores_on_the_next_poll(netsuite_local):
    netsuite_local.trigger("poll_erp_stock", {})  # the first poll publishes everything and sets the watermark
    assert netsuite_local.wait_idle(60)
    location = netsuite_local.config.stores[0].settings.locations["WH"]
    netsuite_local.netsuite.set_stock("TOTE-CAN-01", 171)

    result = netsuite_local.trigger("poll_erp_stock", {})
    assert netsuite_local.wait_idle(60)

    assert result["changed"] >= 1
    sellable = 171 - int(netsuite_local.netsuite.committed("TOTE-CAN-01")) - netsuite_local.config.inventory.safety_buffer
    assert netsuite_local.shopify.available("TOTE-CAN-01", location) == sellable
    assert netsuite_local.woocommerce.stock("TOTE-CAN-01") == sellable
