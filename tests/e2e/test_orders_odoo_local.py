"""Local mode with Odoo as the ERP (`synchub local --erp odoo`): the order lifecycle reaches the Odoo sandbox
exactly once, through the real gateway, bus, queues and handlers. Needs no Tryton."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from synchub.connectors.shopify.mapping import ShopifyPayloads
from synchub.models import Order
from synchub.ports import SALES_ORDERS

from infra.local.runner import LocalMode, local_config
from tests.e2e.conftest import Store, eventually, own_stage, sample

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def odoo_local(tmp_path_factory) -> Iterator[LocalMode]:
    data_dir = tmp_path_factory.mktemp("synchub-odoo")
    mode = LocalMode(data_dir=data_dir, base_port=0, start_ticks=False,
                     config_path=own_stage(local_config("odoo"), "odoo", data_dir))
    mode.start()
    try:
        yield mode
    finally:
        mode.stop()


@pytest.fixture(scope="module")
def store(odoo_local) -> Store:
    return Store(odoo_local, "main")


def sales(local: LocalMode, reference: str) -> list[dict]:
    return local.odoo.records("sale.order", [["client_order_ref", "=", reference]])


def reserved(local: LocalMode, sku: str) -> float:
    [product] = local.odoo.records("product.product", [["default_code", "=", sku]])
    return sum(q["reserved_quantity"] for q in local.odoo.records("stock.quant", [["product_id", "=", product["id"]]]))


def canonical(payload: dict) -> Order:
    return ShopifyPayloads().order("main", payload)


def test_three_deliveries_give_one_confirmed_sale_order_with_the_store_total(odoo_local, store, new_order_id):
    order_id = new_order_id()
    payload, headers = sample("shopify/orders_create", id=order_id)
    before = reserved(odoo_local, "HOOD-GRY-M")
    assert store.send(payload, headers, times=3) == [200, 200, 200]

    assert eventually(lambda: sales(odoo_local, f"main:{order_id}"))
    assert odoo_local.wait_idle(60)
    [sale] = sales(odoo_local, f"main:{order_id}")
    assert sale["state"] == "sale"
    assert Decimal(str(sale["amount_total"])) == canonical(payload).total.amount
    assert reserved(odoo_local, "HOOD-GRY-M") == before + 1


def test_update_arriving_before_create_ends_with_one_sale_at_the_updated_total(odoo_local, store, new_order_id):
    order_id = new_order_id()
    updated, updated_headers = sample("shopify/orders_updated", id=order_id)
    created, created_headers = sample("shopify/orders_create", id=order_id)
    store.send(updated, updated_headers)
    assert eventually(lambda: sales(odoo_local, f"main:{order_id}"))
    store.send(created, created_headers)
    assert odoo_local.wait_idle(60)

    [sale] = sales(odoo_local, f"main:{order_id}")
    assert Decimal(str(sale["amount_total"])) == canonical(updated).total.amount


def test_crash_after_odoo_took_the_order_does_not_create_a_second_one(odoo_local, store, new_order_id):
    order_id = new_order_id()
    payload, headers = sample("shopify/orders_create", id=order_id)
    order = canonical(payload)
    connector = odoo_local.wirings["order_to_erp"].erp(SALES_ORDERS)
    customer = connector.upsert_customer(order.customer, reference=f"main:{order.customer.source_id}")
    first = connector.create_sales_order(order, customer_id=customer, products=connector.resolve_products(order.skus))

    store.send(payload, headers)
    assert odoo_local.wait_idle(60)

    assert [str(sale["id"]) for sale in sales(odoo_local, order.store_reference)] == [first.id]


def test_cancellation_cancels_the_sale_order_and_releases_the_reservation(odoo_local, store, new_order_id):
    order_id = new_order_id()
    created, created_headers = sample("shopify/orders_create", id=order_id)
    before = reserved(odoo_local, "HOOD-GRY-M")
    store.send(created, created_headers)
    assert eventually(lambda: sales(odoo_local, f"main:{order_id}"))
    assert odoo_local.wait_idle(60)
    cancelled, cancelled_headers = sample("shopify/orders_cancelled", id=order_id)
    store.send(cancelled, cancelled_headers)
    assert odoo_local.wait_idle(60)

    [sale] = sales(odoo_local, f"main:{order_id}")
    assert sale["state"] == "cancel"
    assert reserved(odoo_local, "HOOD-GRY-M") == before


def test_an_inventory_adjustment_in_odoo_reaches_both_stores_on_the_next_poll(odoo_local):
    odoo_local.trigger("poll_erp_stock", {})  # the first poll publishes everything and sets the watermark
    assert odoo_local.wait_idle(60)
    location = odoo_local.config.stores[0].settings.locations["WH"]
    odoo_local.odoo.set_stock("TOTE-CAN-01", 171)

    result = odoo_local.trigger("poll_erp_stock", {})
    assert odoo_local.wait_idle(60)

    assert result["changed"] >= 1
    sellable = 171 - reserved(odoo_local, "TOTE-CAN-01") - odoo_local.config.inventory.safety_buffer
    assert odoo_local.shopify.available("TOTE-CAN-01", location) == sellable
    assert odoo_local.woocommerce.stock("TOTE-CAN-01") == sellable
