"""Customer flows: a store customer becomes a CRM contact and an ERP customer; newest wins."""
from __future__ import annotations

import uuid

from synchub.errors import PermanentError, TransientError
from synchub.flows.guard import guarded_write, remember, unchanged
from synchub.flows.leases import exclusive
from synchub.models import Customer, EventEnvelope
from synchub.models.outcome import Outcome, content_hash
from synchub.ports import Contacts, CustomerAccounts, MappingStore, StorePayloads

ENTITY = "customer"


def customer_key(store: str, customer: Customer) -> str:
    return f"{store}:{customer.source_id}"


def _content(customer: Customer) -> Customer:
    """What is written for a customer: its data, not the store's timestamps."""
    return customer.model_copy(update={"updated_at": None, "created_at": None})


def sync_customer_to_crm(envelope: EventEnvelope, *, payloads: StorePayloads, contacts: Contacts,
                         mappings: MappingStore) -> Outcome:
    customer = payloads.customer(envelope.payload)
    if not customer.email:
        return Outcome.skipped("filtered:no_email")

    def write() -> str:
        [result] = contacts.upsert_contacts([customer])
        if result.error or not result.id:
            if result.transient:
                raise TransientError(f"CRM contact upsert failed: {result.error}", reason="crm_contact")
            raise PermanentError(f"CRM refused the contact: {result.error}", reason="crm_contact_rejected",
                                 error=result.error)
        return result.id

    return guarded_write(mappings, entity=ENTITY, key=customer_key(envelope.store, customer), system="crm",
                         content=_content(customer), write=write,
                         version=customer.updated_at or envelope.occurred_at)


def sync_customer_to_erp(envelope: EventEnvelope, *, payloads: StorePayloads, customers: CustomerAccounts,
                         mappings: MappingStore) -> Outcome:
    customer = payloads.customer(envelope.payload)
    key = customer_key(envelope.store, customer)
    version = customer.updated_at or envelope.occurred_at
    if not mappings.claim_version(ENTITY, key, version, scope="erp"):
        return Outcome.skipped("stale")
    erp_id = ensure_erp_customer(customer, key=key, customers=customers, mappings=mappings)
    return Outcome.applied(erp=erp_id)


def ensure_erp_customer(customer: Customer, *, key: str, customers: CustomerAccounts, mappings: MappingStore) -> str:
    """Upsert the ERP customer unless what we last wrote there is what we would write now."""
    digest = content_hash(_content(customer))
    known = unchanged(mappings, entity=ENTITY, key=key, system="erp", digest=digest)
    if known is not None:
        return known
    # The ERP upsert is search-then-create: two orders of one new customer must not both create.
    with exclusive(mappings, "customer:erp", key, owner=uuid.uuid4().hex):
        erp_id = customers.upsert_customer(customer, reference=key)
    remember(mappings, entity=ENTITY, key=key, system="erp", system_id=erp_id, digest=digest)
    return erp_id
