"""Customer flows: contacts and ERP customers converge on the newest version."""
from __future__ import annotations

from synchub.connectors.shopify.mapping import ShopifyPayloads
from synchub.connectors.shopify.webhooks import ShopifyWebhooks
from synchub.flows.customers import sync_customer_to_crm, sync_customer_to_erp

from tests.eventdata import load_event
from tests.fakes import FakeCrm, FakeErp, InMemoryMappingStore


def envelope(name: str):
    body, headers = load_event(f"shopify/{name}")
    return ShopifyWebhooks().decode("main", headers, body).envelope


def test_update_before_create_converges_on_the_newest_customer_in_crm_and_erp():
    crm, erp, mappings = FakeCrm(), FakeErp(), InMemoryMappingStore()
    newest = ShopifyPayloads().customer(envelope("customers_update").payload)

    for name in ("customers_update", "customers_create"):
        sync_customer_to_crm(envelope(name), payloads=ShopifyPayloads(), contacts=crm, mappings=mappings)
        sync_customer_to_erp(envelope(name), payloads=ShopifyPayloads(), customers=erp, mappings=mappings)

    assert list(crm.contacts.values()) == [newest]
    assert list(erp.customers.values()) == [newest]


def test_repeated_customer_delivery_writes_once():
    crm, mappings = FakeCrm(), InMemoryMappingStore()
    for _ in range(3):
        sync_customer_to_crm(envelope("customers_create"), payloads=ShopifyPayloads(), contacts=crm, mappings=mappings)

    assert crm.calls == ["upsert_contacts"]
    assert len(crm.contacts) == 1
