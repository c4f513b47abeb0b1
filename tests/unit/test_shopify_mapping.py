"""Shopify payloads to canonical Order and Customer: exact money, exact ids, names as written."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from synchub.connectors.shopify.mapping import ShopifyPayloads
from synchub.errors import InvalidPayload
from synchub.models import FinancialStatus, FulfillmentStatus, Money

from tests.eventdata import load_event

STORE = "main"


def payload(name: str) -> dict:
    return json.loads(load_event(f"shopify/{name}")[0])


def order(name: str = "orders_create", **changes):
    return ShopifyPayloads().order(STORE, {**payload(name), **changes})


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


def test_order_totals_are_the_payload_decimals():
    mapped = order()

    assert (mapped.subtotal, mapped.total_discount, mapped.total_tax, mapped.total_shipping, mapped.total) == (
        usd("110.16"), usd("12.24"), usd("9.45"), usd("8.00"), usd("127.61"))
    assert all(isinstance(money.amount, Decimal) for money in (mapped.subtotal, mapped.total))
    assert mapped.currency == "USD" and mapped.taxes_included is False and mapped.test is False


def test_order_lines_carry_sku_quantity_unit_price_discount_and_tax():
    lines = [(line.source_line_id, line.sku, line.quantity, line.unit_price, line.discount, line.tax)
             for line in order().lines]
    assert lines == [
        ("866550311766439020", "TEE-BLK-M", 2, usd("24.00"), usd("4.80"), usd("3.46")),
        ("866550311766439021", "MUG-CER-01", 1, usd("14.50"), usd("1.45"), usd("1.04")),
        ("866550311766439022", "HOOD-GRY-M", 1, usd("59.90"), usd("5.99"), usd("4.31")),
    ]


def test_lines_shipping_and_tax_add_up_to_the_order_total():
    mapped = order()
    lines = sum((line.net_total.amount for line in mapped.lines), Decimal(0))
    shipping = sum((line.price.amount - line.discount.amount for line in mapped.shipping_lines), Decimal(0))
    assert lines == mapped.subtotal.amount
    assert lines + shipping + mapped.total_tax.amount == mapped.total.amount


def test_shipping_lines_and_discount_codes_are_kept():
    mapped = order()
    [shipping] = mapped.shipping_lines
    assert (shipping.code, shipping.title, shipping.price, shipping.discount, shipping.tax) == (
        "STANDARD", "Standard Shipping", usd("8.00"), usd("0"), usd("0.64"))
    assert mapped.discount_codes == ("WELCOME10",)


def test_shipping_line_removed_by_an_order_edit_is_not_charged():
    raw = payload("orders_create")
    raw["shipping_lines"] = [raw["shipping_lines"][0], {**raw["shipping_lines"][0], "id": 1, "is_removed": True}]
    assert len(ShopifyPayloads().order(STORE, raw).shipping_lines) == 1


def test_order_ids_beyond_two_to_the_53_are_exact_strings():
    mapped = order()
    assert mapped.source_id == "820982911946154521"
    assert mapped.store_reference == "main:820982911946154521"
    assert mapped.customer.source_id == "115310627314723974"
    assert mapped.reference == "#1042"


@pytest.mark.parametrize("sku", [None, "", "   "])
def test_line_without_sku_maps_to_none(sku):
    raw = payload("orders_create")
    raw["line_items"][1]["sku"] = sku
    mapped = ShopifyPayloads().order(STORE, raw)
    assert mapped.lines[1].sku is None
    assert mapped.skus == ["TEE-BLK-M", "HOOD-GRY-M"]


def test_unknown_sku_is_mapped_as_sent_for_the_erp_to_refuse():
    assert order("orders_create_unknown_sku").skus == ["MUG-CER-01", "TEE-PNK-XS"]


@pytest.mark.parametrize(("sample", "financial", "fulfillment", "cancelled"), [
    ("orders_create", FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED, False),
    ("orders_paid", FinancialStatus.PAID, FulfillmentStatus.UNFULFILLED, False),
    ("orders_cancelled", FinancialStatus.REFUNDED, FulfillmentStatus.UNFULFILLED, True),
])
def test_order_state_follows_the_samples(sample, financial, fulfillment, cancelled):
    mapped = order(sample)
    assert (mapped.financial_status, mapped.fulfillment_status, mapped.cancelled) == (financial, fulfillment, cancelled)


def test_cancelled_at_is_kept_in_utc():
    assert order("orders_cancelled").cancelled_at == datetime(2025, 11, 21, 13, 40, 54, tzinfo=UTC)


@pytest.mark.parametrize(("vendor", "canonical"), [
    ("pending", FinancialStatus.PENDING), ("authorized", FinancialStatus.AUTHORIZED),
    ("partially_paid", FinancialStatus.PARTIALLY_PAID), ("paid", FinancialStatus.PAID),
    ("partially_refunded", FinancialStatus.PARTIALLY_REFUNDED), ("refunded", FinancialStatus.REFUNDED),
    ("voided", FinancialStatus.VOIDED), ("expired", FinancialStatus.VOIDED), (None, FinancialStatus.PENDING),
])
def test_financial_status_maps_to_the_canonical_enum(vendor, canonical):
    assert order(financial_status=vendor).financial_status == canonical


@pytest.mark.parametrize(("vendor", "canonical"), [
    (None, FulfillmentStatus.UNFULFILLED), ("partial", FulfillmentStatus.PARTIAL),
    ("fulfilled", FulfillmentStatus.FULFILLED), ("restocked", FulfillmentStatus.UNFULFILLED),
])
def test_fulfillment_status_maps_to_the_canonical_enum(vendor, canonical):
    assert order(fulfillment_status=vendor).fulfillment_status == canonical


def test_addresses_keep_iso_country_and_province_codes():
    mapped = order()
    assert (mapped.billing_address.line1, mapped.billing_address.province_code,
            mapped.billing_address.country_code) == ("350 Fifth Avenue", "NY", "US")
    assert (mapped.shipping_address.city, mapped.shipping_address.postal_code) == ("Brooklyn", "11201")
    assert mapped.shipping_address.phone == "+12125550147"


def test_order_email_is_normalised():
    assert order().email == "jane.doe@example.com"


def test_order_customer_without_email_takes_the_order_email():
    raw = payload("orders_create")
    raw["customer"]["email"] = None
    assert ShopifyPayloads().order(STORE, raw).customer.email == "jane.doe@example.com"


def test_order_without_customer_has_none():
    assert order(customer=None).customer is None


def test_unicode_names_are_kept_exactly_as_written():
    mapped = order("orders_create_unicode")
    assert (mapped.customer.first_name, mapped.customer.last_name) == ("نگار", "رضایی")
    assert (mapped.billing_address.first_name, mapped.billing_address.last_name) == ("عبد الله", "الفارسي")
    assert mapped.billing_address.company == "شركة النخيل"
    assert (mapped.shipping_address.first_name, mapped.shipping_address.last_name) == ("小明", "王")
    assert mapped.shipping_address.city == "北京"
    default = mapped.customer.default_address
    assert (default.first_name, default.last_name, default.city) == ("Анна", "Смирнова", "Москва")
    assert mapped.customer.display_name == "نگار رضایی"


def test_unicode_order_phones_become_e164_in_their_own_country():
    mapped = order("orders_create_unicode")
    assert mapped.customer.phone == "+989123456789"
    assert mapped.billing_address.phone == "+97145550123"
    assert mapped.customer.default_address.phone == "+74951234567"


def test_order_without_line_items_is_invalid():
    with pytest.raises(InvalidPayload) as failure:
        order(line_items=[])
    assert failure.value.reason == "invalid_payload" and failure.value.detail["field"] == "line_items"


def test_line_with_zero_quantity_is_invalid():
    raw = payload("orders_create")
    raw["line_items"][0]["quantity"] = 0
    del raw["line_items"][0]["current_quantity"]  # a payload from before REST 2024-01: quantity is all there is
    with pytest.raises(InvalidPayload):
        ShopifyPayloads().order(STORE, raw)


def test_amount_that_is_not_a_number_is_invalid():
    with pytest.raises(InvalidPayload):
        order(total_price="12,50")


# --- customers ---------------------------------------------------------------------------------------

def test_customer_maps_id_names_email_phone_and_addresses():
    customer = ShopifyPayloads().customer(payload("customers_create"))

    assert customer.source_id == "115310627314723974"
    assert (customer.first_name, customer.last_name) == ("Jane", "Doe")
    assert customer.email == "jane.doe@example.com"  # sent as Jane.Doe@Example.com
    assert customer.phone == "+12125550147"  # sent as (212) 555-0147, US default address
    assert customer.default_address.line1 == "350 Fifth Avenue"
    assert customer.addresses == (customer.default_address,)
    assert customer.created_at == datetime(2025, 11, 20, 14, 2, 11, tzinfo=UTC)


def test_customer_update_carries_the_new_phone_and_later_version():
    created = ShopifyPayloads().customer(payload("customers_create"))
    updated = ShopifyPayloads().customer(payload("customers_update"))
    assert updated.phone == "+12125550199"
    assert updated.updated_at > created.updated_at


def test_customer_without_default_address_has_none():
    raw = {**payload("customers_create"), "default_address": None, "addresses": []}
    customer = ShopifyPayloads().customer(raw)
    assert customer.default_address is None and customer.addresses == ()


def test_shopifys_test_notification_is_a_test_order_of_catalogue_lines_without_sku():
    mapped = order("orders_create_test_notification")

    assert mapped.test is True
    assert mapped.total == usd("1575.90") and mapped.total_shipping == usd("10.00")
    assert [(line.sku, line.product_ref, line.variant_ref, line.is_fee) for line in mapped.lines] == [
        (None, "9313716535612", "49121760117052", False), (None, "9313716601148", "49121760182588", False)]
    assert [line.product_key for line in mapped.lines] == ["store-item:49121760117052", "store-item:49121760182588"]


def test_an_empty_sku_with_a_variant_is_a_catalogue_line_and_only_a_custom_item_is_a_fee():
    raw = payload("orders_create_test_notification")
    catalogue, custom = (dict(raw["line_items"][0], sku=""), dict(raw["line_items"][1], product_id=None,
                                                                  variant_id=None, sku=None))
    mapped = order("orders_create_test_notification", line_items=[catalogue, custom])

    assert [line.is_fee for line in mapped.lines] == [False, True]
    assert mapped.lines_without_sku == [mapped.lines[0]]
