"""Order flows: a store order becomes a confirmed ERP sales order and a CRM deal, exactly once.

Both keep the guarantees: newest version wins (stale is skipped), a repeat never creates a second
record (the ERP is searched by our reference before any create, the CRM deal is upserted by it),
and an unknown SKU, an unresolved blank-SKU product or a total its parts do not explain
(`total_mismatch`) is a permanent failure, parked rather than retried.
Test orders are skipped unless the store's settings ask for them. An order edited after confirmation
amends the ERP sale (the ERP's `update_sales_order`) and moves the deal to the edited total.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping as MappingType

from synchub.errors import PermanentError, TransientError
from synchub.flows.customers import ensure_erp_customer
from synchub.flows.guard import guarded_write
from synchub.flows.leases import exclusive
from synchub.flows.order_lines import resolve_line_products
from synchub.flows.order_totals import checked_total_breakdown
from synchub.models import Customer, Deal, EventEnvelope, FinancialStatus, FulfillmentStatus, Order, topics
from synchub.models.outcome import Outcome
from synchub.ports import (
    Contacts,
    CustomerAccounts,
    Deals,
    MappingStore,
    ProductLookup,
    RecordFetcher,
    SalesOrders,
    StorePayloads,
)

ENTITY = "order"
TEST_ORDER = "filtered:test_order"


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


def store_order(envelope: EventEnvelope, payloads: StorePayloads, records: RecordFetcher | None) -> Order:
    """The order an event is about. A thin event (an order edit carries only the edit; a payload cut to its id)
    is completed by fetching the order as it stands now from the store."""
    payload = envelope.payload
    if envelope.topic == topics.ORDER_EDITED.name or payload.get("_truncated"):
        if records is None:
            raise PermanentError(f"{envelope.topic} carries no order and the store fetches none",
                                 reason="record_fetcher_missing", store=envelope.store)
        fetched = records.fetch(ENTITY, envelope.entity_id)
        if fetched is None:
            raise PermanentError(f"order {envelope.entity_id} not found in the store", reason="order_not_found",
                                 store=envelope.store, order_id=envelope.entity_id)
        payload = fetched
    return payloads.order(envelope.store, payload)


def sync_order_to_erp(envelope: EventEnvelope, *, payloads: StorePayloads, sales_orders: SalesOrders,
                      products: ProductLookup, customers: CustomerAccounts, mappings: MappingStore,
                      sync_test_orders: bool = False, missing_sku_lookup: str = "none",
                      records: RecordFetcher | None = None) -> Outcome:
    order = store_order(envelope, payloads, records)
    if order.test and not sync_test_orders:
        return Outcome.skipped(TEST_ORDER)
    key = order.store_reference
    if not mappings.claim_version(ENTITY, key, order.updated_at, scope="erp"):
        return Outcome.skipped("stale")

    # Owned by this attempt, not by the event: a repeat of the same event (a store retry, an SQS duplicate
    # whose idempotency claim outlived its function) must wait too, or both find no sale and write.
    with exclusive(mappings, "order:erp", key, owner=uuid.uuid4().hex):
        return _apply_order_to_erp(order, sales_orders=sales_orders, products=products, customers=customers,
                                   mappings=mappings, missing_sku_lookup=missing_sku_lookup)


def _apply_order_to_erp(order: Order, *, sales_orders: SalesOrders, products: ProductLookup,
                        customers: CustomerAccounts, mappings: MappingStore, missing_sku_lookup: str) -> Outcome:
    key = order.store_reference
    # Crash safety: the ERP itself is the truth about whether the sale exists, not our mapping.
    existing = sales_orders.find_sales_order(key)
    if order.cancelled:
        if existing is None:
            return Outcome.skipped("filtered:cancelled_before_created")
        sale = sales_orders.cancel_sales_order(existing)
        mappings.link(ENTITY, key, "erp", sale.id)
        return Outcome.applied(erp=sale.id)

    checked_total_breakdown(order)  # an unexplained total parks as total_mismatch before any ERP write
    product_ids = resolve_line_products(order, products=products, mappings=mappings,
                                        missing_sku_lookup=missing_sku_lookup)

    if existing is None:
        customer_key, customer = order_customer(order)
        customer_id = ensure_erp_customer(customer, key=customer_key, customers=customers, mappings=mappings)
        sale = sales_orders.create_sales_order(order, customer_id=customer_id, products=product_ids)
    else:
        sale = sales_orders.update_sales_order(existing, order, products=product_ids)
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
    # The deal is worth what the shopper paid and kept paid: refunds come off (a full refund leaves 0).
    return Deal(reference=order.store_reference, name=f"{order.reference} ({order.store})", amount=order.net_total,
                pipeline=pipeline, stage=stages[state], contact_email=order.email or
                (order.customer.email if order.customer else None),
                close_date=(order.cancelled_at or order.updated_at).date().isoformat() if closed else None)


def sync_order_to_crm(envelope: EventEnvelope, *, payloads: StorePayloads, contacts: Contacts, deals: Deals,
                      mappings: MappingStore, pipeline: str, stages: MappingType[str, str],
                      sync_test_orders: bool = False, records: RecordFetcher | None = None) -> Outcome:
    order = store_order(envelope, payloads, records)
    if order.test and not sync_test_orders:
        return Outcome.skipped(TEST_ORDER)
    deal = deal_for(order, pipeline=pipeline, stages=stages)

    def write() -> str:
        contact_id = None
        if deal.contact_email:
            customer_key, customer = order_customer(order)
            contact_id = _ensure_contact(customer, customer_key, contacts, mappings)
        return deals.upsert_deal(deal, contact_id=contact_id)

    return guarded_write(mappings, entity=ENTITY, key=order.store_reference, system="crm", content=deal,
                         write=write, version=order.updated_at)


def _ensure_contact(customer: Customer, key: str, contacts: Contacts, mappings: MappingStore) -> str | None:
    known = mappings.get("customer", key)
    if known and "crm" in known.ids:
        return known.ids["crm"]
    [result] = contacts.upsert_contacts([customer])
    if result.id:
        mappings.link("customer", key, "crm", result.id)
        return result.id
    if result.transient:
        raise TransientError(f"CRM contact upsert failed: {result.error}", reason="crm_contact")
    return None  # a contact the CRM refuses (e.g. invalid e-mail) must not block the deal
