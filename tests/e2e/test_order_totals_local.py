"""Issue 9, the totals real stores send, against the real Tryton: tips and duties as their own lines, orders in
EUR, JPY and KWD confirmed to their minor unit, an unexplained total parked as `total_mismatch`.

The Shopify bodies come from a real PYG shop's orders/create (events/README.md); each test gives the order
its own id and sells a demo-catalogue SKU in place of the shop's own `sku-managed-1`.
"""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.e2e.conftest import sample
from tests.e2e.test_orders_local import erp
from tests.e2e.test_real_store_orders_local import parked

pytestmark = pytest.mark.e2e

SKU = "TEE-BLK-M"


def shopify_sample(name: str, order_id: int) -> tuple[dict, dict[str, str]]:
    payload, headers = sample(f"shopify/{name}", id=order_id)
    for line in payload["line_items"]:
        if not line.get("gift_card"):
            line["sku"] = SKU
    return payload, headers


def sale_lines(local, order_id: int) -> tuple[dict, list[tuple[str, float, Decimal]]]:
    tryton = erp(local)
    ref = tryton.find_sales_order(f"main:{order_id}")
    assert ref is not None, "no sale in Tryton"
    sale, = tryton.client.model("sale.sale", "read", [int(ref.id)],
                                ["state", "total_amount", "currency.code", "currency.digits", "lines"])
    lines = tryton.client.model("sale.line", "read", sale["lines"], ["product.code", "quantity", "amount"])
    return sale, sorted((row["product."]["code"], row["quantity"], row["amount"]) for row in lines)


def test_an_order_with_tip_and_duties_is_a_sale_with_tip_and_duty_lines_and_the_store_total(
        local_mode, shopify_store, new_order_id):
    order_id = new_order_id()
    shopify_store.send(*shopify_sample("orders_create_tip_duties", order_id))
    assert local_mode.wait_idle(60)

    sale, lines = sale_lines(local_mode, order_id)
    assert sale["state"] == "processing"  # confirmed and processed: shipment and draft invoice made
    assert sale["currency."]["code"] == "PYG" and sale["total_amount"] == Decimal("843")
    assert lines == [("DUTY", 1.0, Decimal("100")), ("TAX", 1.0, Decimal("63")), (SKU, 1.0, Decimal("630")),
                     ("TIP", 1.0, Decimal("50"))]


@pytest.mark.parametrize(("name", "currency", "digits", "total"), [
    ("orders_create_eur_presentment_usd", "EUR", 2, Decimal("6.93")),  # the buyer paid USD; booked in EUR
    ("orders_create_jpy", "JPY", 0, Decimal("693")),
    ("orders_create_kwd", "KWD", 3, Decimal("6.930")),
])
def test_orders_in_other_currencies_are_confirmed_to_their_minor_unit(local_mode, shopify_store, new_order_id,
                                                                       name, currency, digits, total):
    order_id = new_order_id()
    shopify_store.send(*shopify_sample(name, order_id))
    assert local_mode.wait_idle(60)

    sale, lines = sale_lines(local_mode, order_id)
    assert sale["state"] == "processing"  # confirmed and processed: shipment and draft invoice made
    assert (sale["currency."]["code"], sale["currency."]["digits"]) == (currency, digits)
    assert sale["total_amount"] == total
    assert [code for code, _, _ in lines] == ["TAX", SKU]
    assert parked(local_mode, "order_to_erp", order_id) == []


@pytest.mark.parametrize(("name", "currency", "total", "extra"), [
    ("order_created_eur_negative_fee", "EUR", Decimal("24.35"), ("ADJUSTMENT", 1.0, Decimal("-5.00"))),
    ("order_created_kwd", "KWD", Decimal("29.350"), ("SHIPPING", 1.0, Decimal("10.000"))),
    ("order_created_gift_card", "USD", Decimal("29.35"), ("SHIPPING", 1.0, Decimal("10.00"))),
])
def test_woocommerce_orders_book_negative_fees_three_decimals_and_gift_card_payments(local_mode, woo_store,
                                                                                     new_order_id, name, currency,
                                                                                     total, extra):
    order_id = new_order_id() % 10**9  # WooCommerce ids are post ids
    payload, headers = sample(f"woocommerce/{name}", id=order_id, number=str(order_id))
    for line, sku in zip(payload["line_items"], (SKU, "MUG-CER-01"), strict=True):
        line["sku"] = sku  # demo-catalogue SKUs for the docs' "Woo Single #1" and "Bar3"
    # The docs' phone "(555) 555-5555" becomes +15555555555, which Tryton refuses as a party phone (a
    # customer-mapping issue of its own, reported apart); this test is about totals.
    payload["billing"]["phone"] = ""
    woo_store.send(payload, headers)
    assert local_mode.wait_idle(60)

    ref = erp(local_mode).find_sales_order(f"eu:{order_id}")
    assert ref is not None
    tryton = erp(local_mode)
    sale, = tryton.client.model("sale.sale", "read", [int(ref.id)], ["state", "total_amount", "currency.code", "lines"])
    lines = tryton.client.model("sale.line", "read", sale["lines"], ["product.code", "quantity", "amount"])
    assert (sale["state"], sale["currency."]["code"], sale["total_amount"]) == ("processing", currency, total)
    assert extra in [(row["product."]["code"], row["quantity"], row["amount"]) for row in lines]


def test_a_gift_card_sold_is_booked_on_the_gift_card_service_not_as_a_product(local_mode, shopify_store,
                                                                             new_order_id):
    order_id = new_order_id()
    shopify_store.send(*shopify_sample("orders_create_gift_card", order_id))
    assert local_mode.wait_idle(60)

    sale, lines = sale_lines(local_mode, order_id)
    assert sale["total_amount"] == Decimal("1193")
    assert ("GIFT_CARD", 1.0, Decimal("500")) in lines


def test_an_order_whose_total_nothing_explains_is_parked_as_total_mismatch(local_mode, shopify_store,
                                                                          new_order_id):
    order_id = new_order_id()
    shopify_store.send(*shopify_sample("orders_create_total_mismatch", order_id))
    assert local_mode.wait_idle(60)

    [message] = parked(local_mode, "order_to_erp", order_id)
    attributes = message["MessageAttributes"]
    assert attributes["reason"]["StringValue"] == "total_mismatch"
    figures = json.loads(attributes["detail"]["StringValue"])["figures"]
    assert (figures["store_total"], figures["expected_total"], figures["difference"]) == ("700", "693", "7")
    assert (figures["item"], figures["tax"], figures["currency"]) == ("630", "63", "PYG")
    assert erp(local_mode).find_sales_order(f"main:{order_id}") is None
