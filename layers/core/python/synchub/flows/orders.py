"""Order flows: a store order becomes a confirmed ERP sales order and a CRM deal, exactly once.

Both keep the guarantees: newest version wins (stale is skipped), a repeat never creates a second
record (the ERP is searched by our reference before any create, the CRM deal is upserted by it),
and an unknown SKU is a permanent failure with its SKUs, parked rather than retried.
"""
from __future__ import annotations

from collections.abc import Mapping as MappingType

from synchub.errors import TransientError, UnknownSku
from synchub.flows.customers import ensure_erp_customer
from synchub.flows.leases import exclusive
from synchub.flows.outcome import Outcome, content_hash
from synchub.models import Customer, Deal, EventEnvelope, FinancialStatus, FulfillmentStatus, Order
from synchub.ports import Crm, Erp, MappingStore, StorePayloads

ENTITY = "order"


def order_customer(order: Order) -> tuple[str, Customer]:
    """The customer to bill, and its mapping key; guest checkouts are keyed by e-mail or order."""
    if order.customer is not None:
        return f"{order.store}:{order.customer.source_id}", order.customer
    address = order.billing_address or order.shipping_address
    source_id = f"guest:{order.email}" if order.email else f"guest-order:{order.source_id}"
    guest = Customer(source_id=source_id, email=order.email,
                     first_name=address.first_name if address else None,
                     last_name=address.last_name if address else None,
                     addresses=tuple(a for a in (order.billing_address,) if a), default_address=address)
    return f"{order.store}:{source_id}", guest


def sync_order_to_erp(envelope: EventEnvelope, *, payloads: StorePayloads, erp: Erp,
                      mappings: MappingStore) -> Outcome:
    order = payloads.order(envelope.store, envelope.payload)
    key = order.store_reference
    if not mappings.claim_version(ENTITY, key, order.updated_at, scope="erp"):
        return Outcome.skipped("stale")

    with exclusive(mappings, "order:erp", key, owner=envelope.event_id):
        return _apply_order_to_erp(order, erp=erp, mappings=mappings)


def _apply_order_to_erp(order: Order, *, erp: Erp, mappings: MappingStore) -> Outcome:
    key = order.store_reference
    # Crash safety: the ERP itself is the truth about whether the sale exists, not our mapping.
    existing = erp.find_sales_order(key)
    if order.cancelled:
        if existing is None:
            return Outcome.skipped("filtered:cancelled_before_created")
        sale = erp.cancel_sales_order(existing)
        mappings.link(ENTITY, key, "erp", sale.id)
        return Outcome.applied(erp=sale.id)

    products = erp.resolve_products(order.skus)
    missing = sorted({sku for sku in order.skus if sku not in products})
    if missing:
        raise UnknownSku(missing)

    if existing is None:
        customer_key, customer = order_customer(order)
        customer_id = ensure_erp_customer(customer, key=customer_key, erp=erp, mappings=mappings)
        sale = erp.create_sales_order(order, customer_id=customer_id, products=products)
    else:
        sale = erp.update_sales_order(existing, order, products=products)
    mappings.link(ENTITY, key, "erp", sale.id)
    return Outcome.applied(erp=sale.id)


def deal_state(order: Order) -> str:
    if order.cancelled:
        return "cancelled"
    if order.financial_status in (FinancialStatus.REFUNDED, FinancialStatus.VOIDED):
        return "refunded"
    paid = order.financial_status in (FinancialStatus.PAID, FinancialStatus.PARTIALLY_REFUNDED)
    if paid and order.fulfillment_status == FulfillmentStatus.FULFILLED:
        return "fulfilled"
    if paid:
        return "paid"
    if order.financial_status in (FinancialStatus.AUTHORIZED, FinancialStatus.PARTIALLY_PAID):
        return "authorized"
    return "pending"


def deal_for(order: Order, *, pipeline: str, stages: MappingType[str, str]) -> Deal:
    state = deal_state(order)
    closed = state in ("fulfilled", "cancelled", "refunded")
    return Deal(reference=order.store_reference, name=f"{order.reference} ({order.store})", amount=order.total,
                pipeline=pipeline, stage=stages[state], contact_email=order.email or
                (order.customer.email if order.customer else None),
                close_date=(order.cancelled_at or order.updated_at).date().isoformat() if closed else None)


def sync_order_to_crm(envelope: EventEnvelope, *, payloads: StorePayloads, crm: Crm, mappings: MappingStore,
                      pipeline: str, stages: MappingType[str, str]) -> Outcome:
    order = payloads.order(envelope.store, envelope.payload)
    key = order.store_reference
    if not mappings.claim_version(ENTITY, key, order.updated_at, scope="crm"):
        return Outcome.skipped("stale")
    deal = deal_for(order, pipeline=pipeline, stages=stages)
    digest = content_hash(deal)
    current = mappings.get(ENTITY, key)
    if current and current.written.get("crm") == digest and "crm" in current.ids:
        return Outcome.skipped("unchanged", crm=current.ids["crm"])

    contact_id = None
    if deal.contact_email:
        customer_key, customer = order_customer(order)
        contact_id = _ensure_contact(customer, customer_key, crm, mappings)
    deal_id = crm.upsert_deal(deal, contact_id=contact_id)
    mappings.link(ENTITY, key, "crm", deal_id)
    mappings.remember_written(ENTITY, key, "crm", digest)
    return Outcome.applied(crm=deal_id)


def _ensure_contact(customer: Customer, key: str, crm: Crm, mappings: MappingStore) -> str | None:
    known = mappings.get("customer", key)
    if known and "crm" in known.ids:
        return known.ids["crm"]
    [result] = crm.upsert_contacts([customer])
    if result.id:
        mappings.link("customer", key, "crm", result.id)
        return result.id
    if result.transient:
        raise TransientError(f"CRM contact upsert failed: {result.error}", reason="crm_contact")
    return None  # a contact the CRM refuses (e.g. invalid e-mail) must not block the deal
