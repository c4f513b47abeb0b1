"""Issue 3 end to end: store orders reach the real Tryton ERP and the HubSpot sandbox exactly once."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from synchub.models import Order
from synchub.ports import SALES_ORDERS

from tests.e2e.conftest import eventually, sample

pytestmark = pytest.mark.e2e


def erp(local):
    return local.wirings["order_to_erp"].erp(SALES_ORDERS)


def deals(local, reference: str) -> list[dict]:
    return [deal for deal in local.hubspot.objects("deals") if deal["properties"].get("synchub_order_ref") == reference]


def canonical(payload: dict) -> Order:
    from synchub.connectors.shopify.mapping import ShopifyPayloads

    return ShopifyPayloads().order("main", payload)


def stock(local, sku: str):
    return next(level for page in erp(local).iter_stock(["WH"]) for level in page if level.sku == sku)


def test_three_deliveries_give_one_confirmed_sale_and_one_deal(local_mode, shopify_store, new_order_id):
    order_id = new_order_id()
    payload, headers = sample("shopify/orders_create", id=order_id, name=f"#E{order_id % 10000}")
    reserved_before = stock(local_mode, "HOOD-GRY-M").reserved
    assert shopify_store.send(payload, headers, times=3) == [200, 200, 200]
    reference = f"main:{order_id}"

    assert eventually(lambda: erp(local_mode).find_sales_order(reference))
    assert local_mode.wait_idle(60)
    sale = erp(local_mode).find_sales_order(reference)
    assert sale.state in ("confirmed", "processing")
    assert Decimal(sale.total) == canonical(payload).total.amount
    [deal] = deals(local_mode, reference)
    assert Decimal(deal["properties"]["amount"]) == canonical(payload).total.amount
    assert local_mode.hubspot.associated_ids("deals", deal["id"], "contacts")
    assert stock(local_mode, "HOOD-GRY-M").reserved == reserved_before + 1  # the sale reserved its stock


def test_update_arriving_before_create_ends_with_one_correct_sale(local_mode, shopify_store, new_order_id):
    order_id = new_order_id()
    updated, updated_headers = sample("shopify/orders_updated", id=order_id)
    created, created_headers = sample("shopify/orders_create", id=order_id)
    shopify_store.send(updated, updated_headers)
    assert eventually(lambda: erp(local_mode).find_sales_order(f"main:{order_id}"))
    shopify_store.send(created, created_headers)
    assert local_mode.wait_idle(60)

    sale = erp(local_mode).find_sales_order(f"main:{order_id}")
    assert Decimal(sale.total) == canonical(updated).total.amount
    assert len(deals(local_mode, f"main:{order_id}")) == 1


def test_crash_after_the_erp_accepted_the_order_does_not_create_a_second_one(local_mode, shopify_store,
                                                                             new_order_id):
    order_id = new_order_id()
    payload, headers = sample("shopify/orders_create", id=order_id)
    order = canonical(payload)
    # The ERP took the order but the function died before saving the mapping: no mapping, one sale.
    connector = erp(local_mode)
    customer = connector.upsert_customer(order.customer, reference=f"main:{order.customer.source_id}")
    first = connector.create_sales_order(order, customer_id=customer,
                                         products=connector.resolve_products(order.skus))

    shopify_store.send(payload, headers)
    assert local_mode.wait_idle(60)

    assert erp(local_mode).find_sales_order(order.store_reference).id == first.id
    sales = connector.client.call("model.sale.sale.search", [[("reference", "=", order.store_reference)], 0, None,
                                                              None, {}])
    assert len(sales) == 1


def test_unknown_sku_is_parked_in_the_order_flow_dlq_with_the_sku(local_mode, shopify_store, new_order_id):
    order_id = new_order_id()
    payload, headers = sample("shopify/orders_create_unknown_sku", id=order_id)
    shopify_store.send(payload, headers)
    assert local_mode.wait_idle(60)

    messages = local_mode.sqs.receive_message(QueueUrl=local_mode.resources.dlq_urls["order_to_erp"],
                                              MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                              VisibilityTimeout=0).get("Messages", [])
    mine = [m for m in messages if str(order_id) in m["Body"]]
    assert len(mine) == 1
    assert mine[0]["MessageAttributes"]["reason"]["StringValue"] == "unknown_sku"
    assert erp(local_mode).find_sales_order(f"main:{order_id}") is None


def test_cancellation_cancels_the_sale_and_releases_the_reservation(local_mode, shopify_store, new_order_id):
    order_id = new_order_id()
    created, headers = sample("shopify/orders_create", id=order_id)
    reserved_before = stock(local_mode, "TEE-BLK-M").reserved
    shopify_store.send(created, headers)
    assert eventually(lambda: erp(local_mode).find_sales_order(f"main:{order_id}"))
    cancelled, cancelled_headers = sample("shopify/orders_cancelled", id=order_id)
    shopify_store.send(cancelled, cancelled_headers)
    assert local_mode.wait_idle(60)

    assert erp(local_mode).find_sales_order(f"main:{order_id}").state == "cancelled"
    assert stock(local_mode, "TEE-BLK-M").reserved == reserved_before
    [deal] = deals(local_mode, f"main:{order_id}")
    assert deal["properties"]["dealstage"] == local_mode.config.crm.settings.stages["cancelled"]


def test_crm_outage_does_not_delay_the_erp_order(local_mode, shopify_store, new_order_id):
    order_id = new_order_id()
    payload, headers = sample("shopify/orders_create", id=order_id)
    local_mode.hubspot.outage(status=503)
    try:
        shopify_store.send(payload, headers)
        assert eventually(lambda: erp(local_mode).find_sales_order(f"main:{order_id}"), timeout=30)
        assert deals(local_mode, f"main:{order_id}") == []
    finally:
        local_mode.hubspot.restore()
    assert eventually(lambda: deals(local_mode, f"main:{order_id}"), timeout=60)


def test_persian_and_chinese_names_survive_into_tryton_and_hubspot(local_mode, shopify_store, new_order_id):
    order_id = new_order_id()
    payload, headers = sample("shopify/orders_create_unicode", id=order_id)
    order = canonical(payload)
    shopify_store.send(payload, headers)
    assert eventually(lambda: erp(local_mode).find_sales_order(f"main:{order_id}"))
    assert local_mode.wait_idle(60)

    contacts = [c for c in local_mode.hubspot.objects("contacts") if c["properties"].get("email") == order.email]
    assert contacts and contacts[0]["properties"]["firstname"] == order.customer.first_name
    parties = erp(local_mode).client.call("model.party.party.search_read", [
        [("name", "ilike", f"%{order.customer.first_name}%")], 0, None, None, ["name"], {}])
    assert parties


def test_woocommerce_order_with_a_fee_reaches_tryton_with_the_store_total(local_mode, woo_store):
    from synchub.connectors.woocommerce.mapping import WooCommercePayloads

    payload, headers = sample("woocommerce/order_created", id=880001, number="880001")
    order = WooCommercePayloads().order("eu", payload)
    assert any(line.sku is None for line in order.lines)  # the gift-wrap fee
    woo_store.send(payload, headers)
    assert eventually(lambda: erp(local_mode).find_sales_order("eu:880001"))
    assert local_mode.wait_idle(60)

    sale = erp(local_mode).find_sales_order("eu:880001")
    assert sale.state in ("confirmed", "processing")
    assert Decimal(sale.total) == order.total.amount


def test_large_authentic_order_goes_through_the_bus_by_claim_check_and_becomes_one_sale(
        local_mode, shopify_store, new_order_id):
    order_id = new_order_id()
    # A real-shaped reason for a big order: a long gift note and hundreds of checkout attributes.
    attributes = [{"name": f"engraving_line_{n}", "value": "Happy birthday, with love " * 20} for n in range(600)]
    payload, headers = sample("shopify/orders_create", id=order_id, name=f"#L{order_id % 10000}",
                              note="Please wrap each item separately. " * 2000, note_attributes=attributes)
    assert len(json.dumps(payload).encode("utf-8")) > 300_000  # past one bus entry
    assert shopify_store.send(payload, headers, times=2) == [200, 200]
    reference = f"main:{order_id}"

    assert eventually(lambda: erp(local_mode).find_sales_order(reference))
    assert local_mode.wait_idle(60)
    sales = erp(local_mode).client.model("sale.sale", "search_read", [("reference", "=", reference)], 0, 10,
                                         [("id", "ASC")], ["id"])
    assert len(sales) == 1
    assert Decimal(erp(local_mode).find_sales_order(reference).total) == canonical(payload).total.amount
    stored = local_mode.s3.list_objects_v2(Bucket=local_mode.resources.payload_bucket, Prefix="bus/shopify/main/")
    assert stored.get("KeyCount", 0) >= 1
