"""WooCommerce payloads to canonical Order and Customer: statuses, taxes, fees and guests."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from synchub.connectors.woocommerce.mapping import WooCommercePayloads
from synchub.errors import InvalidPayload
from synchub.models import FinancialStatus, FulfillmentStatus, Money

from tests.eventdata import load_event

STORE = "eu"


def payload(name: str) -> dict:
    return json.loads(load_event(f"woocommerce/{name}")[0])


def order(name: str = "order_created", **changes):
    return WooCommercePayloads().order(STORE, {**payload(name), **changes})


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


def test_order_totals_are_exact_decimals():
    mapped = order()
    assert (mapped.subtotal, mapped.total_discount, mapped.total_tax, mapped.total_shipping, mapped.total) == (
        usd("62.99"), usd("5.00"), usd("4.78"), usd("6.00"), usd("76.77"))
    assert mapped.taxes_included is False and mapped.currency == "USD"


def test_reference_is_hash_number_and_store_reference_is_store_and_id():
    mapped = order()
    assert (mapped.reference, mapped.source_id, mapped.store_reference) == ("#1187", "1187", "eu:1187")


def test_line_items_carry_sku_unit_price_discount_and_tax_from_the_decimal_strings():
    lines = [(line.source_line_id, line.sku, line.quantity, line.unit_price, line.discount, line.tax)
             for line in order().lines]
    assert lines[:2] == [
        ("57", "TEE-BLK-L", 2, usd("24.00"), usd("3.53"), usd("3.22")),
        ("58", "CAP-NVY-OS", 1, usd("19.99"), usd("1.47"), usd("1.34")),
    ]


def test_fee_becomes_a_line_without_sku_so_lines_add_up_to_the_total():
    mapped = order()
    fee = mapped.lines[2]
    assert (fee.source_line_id, fee.sku, fee.title, fee.quantity, fee.unit_price, fee.tax) == (
        "60", None, "Gift wrap", 1, usd("3.00"), usd("0.22"))
    assert mapped.skus == ["TEE-BLK-L", "CAP-NVY-OS"]
    lines = sum((line.net_total.amount for line in mapped.lines), Decimal(0))
    shipping = sum((line.price.amount for line in mapped.shipping_lines), Decimal(0))
    assert lines + shipping + mapped.total_tax.amount == mapped.total.amount


def test_shipping_lines_and_coupon_codes_are_kept():
    mapped = order()
    [shipping] = mapped.shipping_lines
    assert (shipping.code, shipping.title, shipping.price, shipping.discount, shipping.tax) == (
        "flat_rate", "Flat rate", usd("6.00"), usd("0"), usd("0.00"))
    assert mapped.discount_codes == ("spring5",)


def test_prices_entered_with_tax_are_given_with_tax_like_shopify_taxes_included():
    mapped = order(prices_include_tax=True)
    tee = mapped.lines[0]
    assert mapped.taxes_included is True
    assert tee.unit_price == usd("25.74")  # (48.00 + 3.48) / 2
    assert tee.discount == usd("3.79")  # (48.00 + 3.48) - (44.47 + 3.22)
    assert tee.tax == usd("3.22")
    assert mapped.total_discount == usd("5.37") and mapped.total == usd("76.77")


def test_unit_price_that_does_not_divide_is_rounded_to_six_places():
    raw = payload("order_created")
    raw["line_items"][1].update(quantity=3, subtotal="10.00", total="10.00")
    assert WooCommercePayloads().order(STORE, raw).lines[1].unit_price == usd("3.333333")


@pytest.mark.parametrize("sku", ["", None])
def test_line_without_sku_maps_to_none(sku):
    raw = payload("order_created")
    raw["line_items"][0]["sku"] = sku
    assert WooCommercePayloads().order(STORE, raw).lines[0].sku is None


@pytest.mark.parametrize(("status", "paid", "financial", "fulfillment", "cancelled"), [
    ("pending", False, FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED, False),
    ("on-hold", False, FinancialStatus.AUTHORIZED, FulfillmentStatus.UNFULFILLED, False),
    ("processing", True, FinancialStatus.PAID, FulfillmentStatus.UNFULFILLED, False),
    ("completed", True, FinancialStatus.PAID, FulfillmentStatus.FULFILLED, False),
    ("refunded", True, FinancialStatus.REFUNDED, FulfillmentStatus.UNFULFILLED, False),
    ("failed", False, FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED, False),
    ("cancelled", False, FinancialStatus.VOIDED, FulfillmentStatus.UNFULFILLED, True),
    ("cancelled", True, FinancialStatus.PAID, FulfillmentStatus.UNFULFILLED, True),
    ("checkout-draft", False, FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED, False),
])
def test_status_maps_to_financial_fulfillment_and_cancellation(status, paid, financial, fulfillment, cancelled):
    mapped = order(status=status, date_paid_gmt="2025-11-19T19:40:05" if paid else None)
    assert (mapped.financial_status, mapped.fulfillment_status, mapped.cancelled) == (financial, fulfillment, cancelled)


def test_samples_walk_from_authorised_to_paid_to_cancelled():
    created, updated, cancelled = (order(name) for name in ("order_created", "order_updated", "order_cancelled"))
    assert created.financial_status == FinancialStatus.AUTHORIZED and not created.cancelled
    assert updated.financial_status == FinancialStatus.PAID and updated.updated_at > created.updated_at
    assert cancelled.cancelled_at == datetime(2025, 11, 20, 16, 3, 17, tzinfo=UTC)


def test_dates_are_the_gmt_fields_in_utc():
    mapped = order()
    assert mapped.created_at == datetime(2025, 11, 19, 17, 12, 30, tzinfo=UTC)
    assert mapped.updated_at == datetime(2025, 11, 19, 17, 12, 31, tzinfo=UTC)


def test_order_customer_comes_from_billing_and_customer_id():
    mapped = order()
    customer = mapped.customer
    assert customer.source_id == "7"
    assert customer.email == mapped.email == "maria.garcia@example.org"  # sent as Maria.Garcia@Example.org
    assert customer.phone == "+14155550132"  # sent as (415) 555-0132, US billing address
    assert (customer.first_name, customer.last_name) == ("María", "García")
    assert customer.default_address == mapped.billing_address
    assert (mapped.billing_address.province_code, mapped.billing_address.country_code) == ("CA", "US")


def test_guest_order_customer_is_keyed_by_a_hash_of_the_email_not_the_email():
    first = order(customer_id=0).customer
    again = order(customer_id=0).customer
    assert first.source_id == again.source_id and first.source_id.startswith("guest:")
    assert "maria" not in first.source_id.lower() and "@" not in first.source_id


def test_guest_order_without_email_has_no_customer():
    raw = payload("order_created")
    raw["customer_id"] = 0
    raw["billing"]["email"] = ""
    assert WooCommercePayloads().order(STORE, raw).customer is None


def test_empty_shipping_block_of_a_virtual_order_is_no_address():
    empty = {key: "" for key in payload("order_created")["shipping"]}
    mapped = order(shipping=empty)
    assert mapped.shipping_address is None
    assert mapped.customer.addresses == (mapped.billing_address,)


def test_order_without_line_items_is_invalid():
    with pytest.raises(InvalidPayload) as failure:
        order(line_items=[])
    assert failure.value.detail["field"] == "line_items"


def test_line_with_zero_quantity_is_invalid():
    raw = payload("order_created")
    raw["line_items"][0]["quantity"] = 0
    with pytest.raises(InvalidPayload):
        WooCommercePayloads().order(STORE, raw)


# --- customers ---------------------------------------------------------------------------------------

def test_customer_maps_id_names_email_phone_and_addresses():
    customer = WooCommercePayloads().customer(payload("customer_created"))
    assert customer.source_id == "7"
    assert (customer.first_name, customer.last_name) == ("María", "García")
    assert customer.email == "maria.garcia@example.org"
    assert customer.phone == "+14155550132"
    assert customer.default_address.line1 == "1200 Valencia Street"
    assert customer.created_at == datetime(2025, 11, 18, 18, 21, 7, tzinfo=UTC)


def test_customer_update_is_a_later_version_with_the_new_phone():
    created = WooCommercePayloads().customer(payload("customer_created"))
    updated = WooCommercePayloads().customer(payload("customer_updated"))
    assert updated.phone == "+14155550178"
    assert updated.updated_at > created.updated_at


def test_the_rest_docs_order_keeps_product_and_variation_ids_and_a_blank_sku_is_no_fee():
    mapped = order("order_created_rest_docs")

    assert mapped.test is False  # WooCommerce orders carry no test flag
    assert mapped.total == usd("29.35")
    assert [(line.sku, line.product_ref, line.variant_ref, line.is_fee) for line in mapped.lines] == [
        (None, "93", None, False), ("Bar3", "22", "23", False)]  # variation_id 0 means none


def test_fee_lines_are_the_only_fees():
    mapped = order("order_created")

    assert [line.title for line in mapped.lines if line.is_fee] == ["Gift wrap"]
