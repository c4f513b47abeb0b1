"""Canonical models: the normalisation that makes records comparable across store, CRM and ERP."""
from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError
from synchub.models import Address, Customer, Money, StockLevel


def test_money_is_decimal_with_an_iso_currency_and_never_mixes_currencies():
    assert Money(amount="19.90", currency="usd") == Money(amount=Decimal("19.90"), currency="USD")
    assert (Money(amount="0.10", currency="EUR") + Money(amount="0.20", currency="EUR")).amount == Decimal("0.30")
    with pytest.raises(ValueError):
        Money(amount="1", currency="EUR") + Money(amount="1", currency="USD")
    with pytest.raises(ValidationError):
        Money(amount="1", currency="EURO")


def test_email_is_trimmed_and_lower_cased_and_phone_is_e164_from_the_address_country():
    customer = Customer(source_id=7, email="  Jane.Doe@Example.COM ", phone="(212) 555-0147",
                        default_address=Address(country_code="us"))

    assert customer.source_id == "7"
    assert customer.email == "jane.doe@example.com"
    assert customer.phone == "+12125550147"
    assert customer.default_address.country_code == "US"


def test_a_phone_that_cannot_be_parsed_is_kept_as_given_not_dropped():
    assert Customer(source_id="1", phone=" ext. 42 ").phone == "ext. 42"
    assert Address(phone="0912 345 6789", country_code="IR").phone == "+989123456789"


def test_country_must_be_iso_3166_alpha_2():
    with pytest.raises(ValidationError):
        Address(country_code="Germany")


@pytest.mark.parametrize("first, last", [("نگار", "رضایی"), ("فاطمة", "الزهراء"), ("王", "小明"), ("Анна", "Иванова")])
def test_names_in_any_script_are_kept_exactly(first, last):
    customer = Customer(source_id="1", first_name=first, last_name=last)
    assert (customer.first_name, customer.last_name) == (first, last)
    assert Customer.model_validate_json(customer.model_dump_json()) == customer


def test_sellable_stock_is_on_hand_minus_reserved_minus_buffer_never_negative():
    assert StockLevel(sku="A", warehouse="WH", on_hand=10, reserved=3).sellable(safety_buffer=2) == 5
    assert StockLevel(sku="A", warehouse="WH", on_hand=2, reserved=3).sellable() == 0
