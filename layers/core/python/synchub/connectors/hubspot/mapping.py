"""Canonical Customer and Deal to HubSpot contact and deal properties (HubSpot's field names live here).

Absent values are left out rather than sent empty: an upsert must not erase what the CRM already
knows because the store did not send it this time.
"""
from __future__ import annotations

from typing import Any

from synchub.models import Address, Customer, Deal, normalise_email

ORDER_REF_PROPERTY = "synchub_order_ref"


def contact_key(customer: Customer) -> str | None:
    """The upsert key: the normalised e-mail (HubSpot's contact idProperty)."""
    return normalise_email(customer.email)


def _address(customer: Customer) -> Address | None:
    return customer.default_address or (customer.addresses[0] if customer.addresses else None)


def contact_properties(customer: Customer) -> dict[str, str]:
    address = _address(customer)
    street = ", ".join(part for part in (address.line1, address.line2) if part) if address else None
    values: dict[str, str | None] = {
        "email": contact_key(customer),
        "firstname": customer.first_name or (address.first_name if address else None),
        "lastname": customer.last_name or (address.last_name if address else None),
        "phone": customer.phone or (address.phone if address else None),
        "address": street or None,
        "city": address.city if address else None,
        "zip": address.postal_code if address else None,
        "state": address.province_code if address else None,
        "country": address.country_code if address else None,
    }
    return {name: value for name, value in values.items() if value}


def _close_date(value: str | None) -> str | None:
    # closedate is a datetime property: a bare ISO date means midnight UTC of that day.
    if value and len(value) == 10:
        return f"{value}T00:00:00Z"
    return value


def deal_properties(deal: Deal) -> dict[str, str]:
    values: dict[str, str | None] = {
        "dealname": deal.name,
        "amount": format(deal.amount.amount, "f"),  # decimal string, never float or exponent form
        "deal_currency_code": deal.amount.currency,
        "pipeline": deal.pipeline,
        "dealstage": deal.stage,
        "closedate": _close_date(deal.close_date),
        ORDER_REF_PROPERTY: deal.reference,
    }
    return {name: value for name, value in values.items() if value}


def order_ref_property_definition() -> dict[str, Any]:
    """The deal property that makes upsert_deal idempotent: our order reference, unique per portal."""
    return {
        "name": ORDER_REF_PROPERTY,
        "label": "SyncHub order reference",
        "description": "The store order this deal was created from (store:order id). Set by SyncHub.",
        "groupName": "dealinformation",
        "type": "string",
        "fieldType": "text",
        "hasUniqueValue": True,
        "formField": False,
    }
