"""Customers end to end: a store customer becomes a HubSpot contact and a Tryton party, newest wins."""
from __future__ import annotations

import pytest
from synchub.ports import CUSTOMER_ACCOUNTS

from tests.e2e.conftest import eventually, sample

pytestmark = pytest.mark.e2e


def contacts(local, email: str) -> list[dict]:
    return [c for c in local.hubspot.objects("contacts") if c["properties"].get("email") == email]


def parties(local, reference: str) -> list[dict]:
    client = local.wirings["customer_to_erp"].erp(CUSTOMER_ACCOUNTS).client
    return client.model("party.party", "search_read", [("identifiers.code", "=", reference)], 0, None, None,
                         ["name"])


def test_woocommerce_customer_update_before_create_converges_on_the_newest(local_mode, woo_store):
    created, created_headers = sample("woocommerce/customer_created", id=4401, email="ana.4401@example.org",
                                      first_name="Ana", date_modified_gmt="2026-11-20T10:00:00")
    updated, updated_headers = sample("woocommerce/customer_updated", id=4401, email="ana.4401@example.org",
                                      first_name="Анна", date_modified_gmt="2026-11-20T11:00:00")
    woo_store.send(updated, updated_headers)
    assert eventually(lambda: contacts(local_mode, "ana.4401@example.org"))
    woo_store.send(created, created_headers)  # older, delivered late
    assert local_mode.wait_idle(60)

    [contact] = contacts(local_mode, "ana.4401@example.org")
    assert contact["properties"]["firstname"] == "Анна"
    [party] = parties(local_mode, "eu:4401")
    assert party["name"].startswith("Анна")
