"""Customer flows: a store customer becomes a CRM contact and an ERP customer; newest wins."""
from __future__ import annotations

import uuid

from synchub.errors import PermanentError, TransientError
from synchub.flows.leases import exclusive
from synchub.flows.outcome import Outcome, content_hash
from synchub.models import Customer, EventEnvelope
from synchub.ports import Crm, Erp, MappingStore, StorePayloads

ENTITY = "customer"


def customer_key(store: str, customer: Customer) -> str:
    return f"{store}:{customer.source_id}"


def sync_customer_to_crm(envelope: EventEnvelope, *, payloads: StorePayloads, crm: Crm,
                         mappings: MappingStore) -> Outcome:
    customer = payloads.customer(envelope.payload)
    key = customer_key(envelope.store, customer)
    if not customer.email:
        return Outcome.skipped("filtered:no_email")
    version = customer.updated_at or envelope.occurred_at
    if not mappings.claim_version(ENTITY, key, version, scope="crm"):
        return Outcome.skipped("stale")
    digest = content_hash(customer.model_copy(update={"updated_at": None, "created_at": None}))
    current = mappings.get(ENTITY, key)
    if current and current.written.get("crm") == digest and "crm" in current.ids:
        return Outcome.skipped("unchanged", crm=current.ids["crm"])
    [result] = crm.upsert_contacts([customer])
    if result.error or not result.id:
        if result.transient:
            raise TransientError(f"CRM contact upsert failed: {result.error}", reason="crm_contact")
        raise PermanentError(f"CRM refused the contact: {result.error}", reason="crm_contact_rejected",
                             error=result.error)
    mappings.link(ENTITY, key, "crm", result.id)
    mappings.remember_written(ENTITY, key, "crm", digest)
    return Outcome.applied(crm=result.id)


def sync_customer_to_erp(envelope: EventEnvelope, *, payloads: StorePayloads, erp: Erp,
                         mappings: MappingStore) -> Outcome:
    customer = payloads.customer(envelope.payload)
    key = customer_key(envelope.store, customer)
    version = customer.updated_at or envelope.occurred_at
    if not mappings.claim_version(ENTITY, key, version, scope="erp"):
        return Outcome.skipped("stale")
    erp_id = ensure_erp_customer(customer, key=key, erp=erp, mappings=mappings)
    return Outcome.applied(erp=erp_id)


def ensure_erp_customer(customer: Customer, *, key: str, erp: Erp, mappings: MappingStore) -> str:
    """Upsert the ERP customer unless what we last wrote there is what we would write now."""
    digest = content_hash(customer.model_copy(update={"updated_at": None, "created_at": None}))
    current = mappings.get(ENTITY, key)
    if current and current.written.get("erp") == digest and "erp" in current.ids:
        return current.ids["erp"]
    # The ERP upsert is search-then-create: two orders of one new customer must not both create.
    with exclusive(mappings, "customer:erp", key, owner=uuid.uuid4().hex):
        erp_id = erp.upsert_customer(customer, reference=key)
    mappings.link(ENTITY, key, "erp", erp_id)
    mappings.remember_written(ENTITY, key, "erp", digest)
    return erp_id
