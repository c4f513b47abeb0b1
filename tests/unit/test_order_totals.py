"""Order totals: tips, duties, gift cards, adjustments and every currency's minor unit, on published bodies.

The pieces an ERP books must add up to the store's total to the minor unit; what nothing explains parks
as `total_mismatch` with the figures, before any ERP write.
"""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from synchub.connectors.shopify.mapping import ShopifyPayloads
from synchub.connectors.shopify.webhooks import ShopifyWebhooks
from synchub.connectors.tryton.mapping import SERVICE_PRODUCTS, sale_line_specs
from synchub.connectors.woocommerce.mapping import WooCommercePayloads
from synchub.errors import TotalMismatch
from synchub.flows.order_totals import checked_total_breakdown
from synchub.flows.orders import sync_order_to_erp
from synchub.models import (
    Money,
    Order,
    OrderAdjustment,
    OrderLine,
    ShippingLine,
    TotalPart,
    minor_unit_exponent,
    order_total_breakdown,
)
from synchub.models.order_totals import to_minor_unit

from tests.eventdata import load_event
from tests.fakes import FakeErp, InMemoryMappingStore

SERVICE_IDS = {TotalPart.SHIPPING: 900, TotalPart.FEE: 901, **{part: 910 + i for i, part in enumerate(SERVICE_PRODUCTS)}}


def shopify_order(name: str) -> Order:
    body, _ = load_event(f"shopify/{name}")
    return ShopifyPayloads().order("main", json.loads(body))


def woo_order(name: str) -> Order:
    body, _ = load_event(f"woocommerce/{name}")
    return WooCommercePayloads().order("wc", json.loads(body))


def parts(order: Order) -> list[tuple[str, str]]:
    return [(piece.part.value, str(piece.amount)) for piece in order_total_breakdown(order).pieces]


def booked_total(order: Order, products: dict[str, str]) -> Decimal:
    """What Tryton's sale total will be: each line's quantity * unit price rounded to the currency's digits."""
    exponent = minor_unit_exponent(order.currency)
    specs = sale_line_specs(checked_total_breakdown(order), products, SERVICE_IDS.__getitem__)
    return sum((to_minor_unit(spec.quantity * spec.unit_price, exponent) for spec in specs), Decimal(0))


# Currencies and their minor units ------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "exponent"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("PYG", 0), ("KWD", 3),
                                                ("BHD", 3), ("CLF", 4), ("XAU", 2), ("ZZZ", 2)])
def test_minor_units_come_from_the_iso_table(code, exponent):
    assert minor_unit_exponent(code) == exponent


def test_a_zero_decimal_order_as_a_real_shop_sent_it_books_to_the_guarani():
    order = shopify_order("orders_create_pyg")  # a real PYG shop's orders/create, verbatim

    assert parts(order) == [("item", "630"), ("tax", "63")]
    assert booked_total(order, {"sku-managed-1": "7"}) == order.total.amount == Decimal("693")


def test_jpy_and_kwd_orders_book_to_their_minor_unit():
    jpy, kwd = shopify_order("orders_create_jpy"), shopify_order("orders_create_kwd")

    assert (jpy.currency, parts(jpy)) == ("JPY", [("item", "630"), ("tax", "63")])
    assert (kwd.currency, parts(kwd)) == ("KWD", [("item", "6.300"), ("tax", "0.630")])
    assert booked_total(jpy, {"sku-managed-1": "7"}) == Decimal("693")
    assert booked_total(kwd, {"sku-managed-1": "7"}) == Decimal("6.930")


def test_a_buyer_paying_in_another_currency_is_booked_in_the_shop_currency():
    order = shopify_order("orders_create_eur_presentment_usd")  # shop EUR, buyer paid USD 7.54

    assert (order.currency, order.total) == ("EUR", Money(amount=Decimal("6.93"), currency="EUR"))
    assert booked_total(order, {"sku-managed-1": "7"}) == Decimal("6.93")


def test_tip_and_duties_get_their_own_pieces_and_the_total_is_the_store_total():
    order = shopify_order("orders_create_tip_duties")

    assert order.total_tip == Money(amount=Decimal("50"), currency="PYG")
    assert order.total_duties == Money(amount=Decimal("100"), currency="PYG")
    assert parts(order) == [("item", "630"), ("tax", "63"), ("tip", "50"), ("duty", "100")]
    assert booked_total(order, {"sku-managed-1": "7"}) == order.total.amount == Decimal("843")


def test_duties_are_summed_from_the_lines_when_the_order_has_no_total():
    body, _ = load_event("shopify/orders_create_tip_duties")
    payload = {**json.loads(body), "original_total_duties_set": None}

    assert ShopifyPayloads().order("main", payload).total_duties == Money(amount=Decimal("100"), currency="PYG")


def test_a_tip_sent_as_a_line_item_is_the_tip_not_a_sale_line():
    body, _ = load_event("shopify/orders_create_tip_duties")
    payload = json.loads(body)
    tip_line = {**payload["line_items"][0], "id": 1, "title": "Tip", "price": "50", "sku": None, "product_id": None,
                "variant_id": None, "tax_lines": [], "duties": [], "tip_payment_gateway": "manual"}
    payload["line_items"].append(tip_line)

    order = ShopifyPayloads().order("main", payload)

    assert [line.title for line in order.lines] == ["The Multi-managed Snowboard"]
    assert ("tip", "50") in parts(order) and order_total_breakdown(order).balanced


def test_a_gift_card_sold_is_its_own_piece_and_a_redemption_is_a_payment():
    order = shopify_order("orders_create_gift_card")  # a 500 gift card sold; paid partly with a gift card

    assert [(line.title, line.gift_card) for line in order.lines] == [("The Multi-managed Snowboard", False),
                                                                      ("Gift Card", True)]
    assert order.skus == ["sku-managed-1"] and order.lines_without_sku == []  # no catalogue product to resolve
    assert parts(order) == [("item", "630"), ("gift_card", "500"), ("tax", "63")]
    assert booked_total(order, {"sku-managed-1": "7"}) == order.total.amount == Decimal("1193")


# WooCommerce -----------------------------------------------------------------------------------------
def test_a_negative_woocommerce_fee_is_an_order_level_adjustment():
    order = woo_order("order_created_eur_negative_fee")

    assert [line.title for line in order.lines if line.is_fee] == []
    assert order.adjustments == (OrderAdjustment(title="Loyalty credit", amount=Money(amount=Decimal("-5.00"),
                                                                                     currency="EUR")),)
    assert ("adjustment", "-5.00") in parts(order)
    assert booked_total(order, {"Bar3": "22", "store-item:93": "23"}) == Decimal("24.35")


@pytest.mark.parametrize(("name", "total"), [("order_created_jpy", "2935"), ("order_created_kwd", "29.350"),
                                             ("order_created_rest_docs", "29.35")])
def test_woocommerce_orders_book_to_their_minor_unit(name, total):
    order = woo_order(name)

    assert booked_total(order, {"Bar3": "22", "store-item:93": "23"}) == order.total.amount == Decimal(total)


def test_a_woocommerce_gift_card_redemption_is_a_payment_inside_the_full_total():
    order = woo_order("order_created_gift_card")  # `total` 19.35 charged after a 10.00 gift card

    assert order.total == Money(amount=Decimal("29.35"), currency="USD")
    assert order.gift_card_payments == Money(amount=Decimal("10"), currency="USD")
    assert booked_total(order, {"Bar3": "22", "store-item:93": "23"}) == Decimal("29.35")


# The samples that were already here still add up --------------------------------------------------------
@pytest.mark.parametrize("name", ["orders_create", "orders_create_unicode", "orders_paid"])
def test_existing_shopify_samples_balance(name):
    assert order_total_breakdown(shopify_order(name)).balanced


def test_existing_woocommerce_sample_balances():
    order = woo_order("order_created")
    assert order_total_breakdown(order).balanced
    assert ("discount", "-5.00") in parts(order)


# What nothing explains parks ------------------------------------------------------------------------------
def test_an_unexplained_total_parks_as_total_mismatch_with_the_figures_before_any_erp_write():
    body, headers = load_event("shopify/orders_create_total_mismatch")  # total_price 700, parts add up to 693
    envelope = ShopifyWebhooks().decode("main", headers, body).envelope
    erp = FakeErp(products={"sku-managed-1": "7"})

    with pytest.raises(TotalMismatch) as caught:
        sync_order_to_erp(envelope, payloads=ShopifyPayloads(), sales_orders=erp, products=erp, customers=erp,
                          mappings=InMemoryMappingStore())

    assert caught.value.reason == "total_mismatch"
    assert caught.value.figures == {"item": "630", "tax": "63", "expected_total": "693", "store_total": "700",
                                    "difference": "7", "currency": "PYG"}
    assert "700" in str(caught.value) and "693" in str(caught.value)
    assert erp.sales == {} and erp.customers == {}


def test_sub_minor_unit_prices_leave_only_a_rounding_piece():
    usd = "USD"
    line = OrderLine(source_line_id="1", sku="A", title="A", quantity=3,
                     unit_price=Money(amount=Decimal("3.333333"), currency=usd),
                     discount=Money.zero(usd), tax=Money.zero(usd))
    order = _order(usd, [line], total="10.00")

    assert parts(order) == [("item", "10.00")]  # 9.999999 rounds to 10.00: nothing else to book
    bigger_gap = _order(usd, [line], total="10.01")
    assert not order_total_breakdown(bigger_gap).balanced


# Property: for any valid components, the booked lines sum to the store total ---------------------------
amounts = st.integers(min_value=0, max_value=10**7)


@given(currency=st.sampled_from(["JPY", "EUR", "KWD", "USD", "BHD"]),
       prices=st.lists(st.tuples(amounts, st.integers(1, 20)), min_size=1, max_size=5),
       shipping=st.lists(amounts, max_size=2), tax=amounts, tip=amounts, duties=amounts,
       adjustments=st.lists(st.integers(-10**5, 10**5), max_size=2), discount=amounts,
       taxes_included=st.booleans())
def test_booked_lines_always_sum_to_the_store_total(currency, prices, shipping, tax, tip, duties, adjustments,
                                                     discount, taxes_included):
    unit = Decimal(1).scaleb(-minor_unit_exponent(currency))

    def money(minor: int) -> Money:
        return Money(amount=minor * unit, currency=currency)

    lines = [OrderLine(source_line_id=str(i), sku=f"SKU{i}", title=f"item {i}", quantity=quantity,
                       unit_price=money(price), discount=money(0), tax=money(0))
             for i, (price, quantity) in enumerate(prices)]
    total = (sum(price * quantity for price, quantity in prices) + sum(shipping) + (0 if taxes_included else tax)
             + tip + duties + sum(adjustments) - discount)
    order = _order(currency, lines, total=str(total * unit), tax=money(tax), tip=money(tip), duties=money(duties),
                   discount=money(discount), taxes_included=taxes_included,
                   shipping=[ShippingLine(code=None, title="Ship", price=money(s), discount=money(0), tax=money(0))
                             for s in shipping],
                   adjustments=[OrderAdjustment(title="adj", amount=money(a)) for a in adjustments])
    products = {line.sku or "": str(i + 1) for i, line in enumerate(lines)}

    assert booked_total(order, products) == total * unit


def _order(currency: str, lines: list[OrderLine], *, total: str, tax: Money | None = None, tip: Money | None = None,
           duties: Money | None = None, discount: Money | None = None, taxes_included: bool = False,
           shipping: list[ShippingLine] | None = None, adjustments: list[OrderAdjustment] | None = None) -> Order:
    zero = Money.zero(currency)
    return Order(store="main", source_id="1", reference="#1", currency=currency, lines=tuple(lines),
                 shipping_lines=tuple(shipping or ()), subtotal=zero, total_discount=discount or zero,
                 total_tax=tax or zero, total_shipping=zero, total=Money(amount=Decimal(total), currency=currency),
                 taxes_included=taxes_included, total_tip=tip, total_duties=duties,
                 adjustments=tuple(adjustments or ()), created_at="2025-01-01T00:00:00Z",
                 updated_at="2025-01-01T00:00:00Z")


@pytest.mark.parametrize("counted_in_total_discounts", [True, False])
def test_a_shipping_discount_balances_whether_or_not_total_discounts_counts_it(counted_in_total_discounts):
    body, _ = load_event("shopify/orders_create")  # #1042: 8.00 standard shipping
    payload = json.loads(body)
    payload["shipping_lines"][0]["discount_allocations"] = [{"amount": "8.00", "discount_application_index": 1}]
    payload["total_price"] = str(Decimal(payload["total_price"]) - Decimal("8.00"))
    if counted_in_total_discounts:
        payload["total_discounts"] = str(Decimal(payload["total_discounts"]) + Decimal("8.00"))

    order = ShopifyPayloads().order("main", payload)

    assert order.total_discount.amount == Decimal("20.24")
    assert order_total_breakdown(order).balanced


def test_money_rounds_to_its_currency_minor_unit():
    assert Money(amount=Decimal("1234.5"), currency="JPY").rounded().amount == Decimal("1234")  # half to even
    assert Money(amount=Decimal("1.2345"), currency="KWD").rounded().amount == Decimal("1.234")
    assert Money(amount=Decimal("0.125"), currency="EUR").rounded().amount == Decimal("0.12")
    assert (Money.zero("BHD").exponent, Money.zero("JPY").exponent) == (3, 0)


def test_a_unit_price_finer_than_tryton_keeps_its_quantity_and_the_sale_still_totals_the_store_total():
    usd = "USD"
    line = OrderLine(source_line_id="1", sku="A", title="A", quantity=1000,
                     unit_price=Money(amount=Decimal("0.012345"), currency=usd),  # 12.345: 12.34 half to even
                     discount=Money.zero(usd), tax=Money.zero(usd))
    order = _order(usd, [line], total="12.34")

    specs = sale_line_specs(checked_total_breakdown(order), {"A": "1"}, SERVICE_IDS.__getitem__)

    assert [(spec.product, spec.quantity, spec.unit_price, spec.description) for spec in specs] == [
        (1, Decimal(1000), Decimal("0.0123"), "A"),  # Tryton keeps four places: 12.30
        (SERVICE_IDS[TotalPart.ADJUSTMENT], Decimal(1), Decimal("0.04"), "Rounding")]
    assert booked_total(order, {"A": "1"}) == Decimal("12.34")
