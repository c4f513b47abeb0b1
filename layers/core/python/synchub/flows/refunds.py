"""refund_to_erp: a store refund becomes an ERP credit against the order's sale, once per store refund.

The credit covers the refunded lines, shipping, tax and any difference the store refunded, so the ERP
credits exactly the money returned; units the refund restocks go back into the ERP warehouse mapped to
the store location they were restocked at. The ERP is searched by our refund reference first (the
adapter resumes a return an earlier attempt left half done), and a refund that arrives before its
order's sale exists waits (TransientError) until it does.
"""
from __future__ import annotations

from collections.abc import Mapping as MappingType

from synchub.errors import TransientError, UnknownSku
from synchub.flows.leases import exclusive
from synchub.flows.order_lines import STORE_ITEM, store_item_key
from synchub.models import EventEnvelope, Refund
from synchub.models.outcome import Outcome
from synchub.ports import MappingStore, ProductLookup, RefundReader, Returns, SalesOrders

ENTITY = "refund"


def sync_refund_to_erp(envelope: EventEnvelope, *, refunds: RefundReader, sales_orders: SalesOrders,
                       products: ProductLookup, returns: Returns, mappings: MappingStore,
                       locations: MappingType[str, str], default_warehouse: str) -> Outcome:
    """`locations` is the store's ERP warehouse -> store location table; restocked units go to the
    warehouse of the location they were restocked at, else to `default_warehouse`."""
    ids = refunds.refund_ids(envelope.topic, envelope.payload)
    if not ids:
        return Outcome.skipped("filtered:no_refund")
    key_of = {refund_id: f"{envelope.store}:refund:{refund_id}" for refund_id in ids}
    new = [refund_id for refund_id in ids if not _applied(mappings, key_of[refund_id])]
    if not new:
        return Outcome.skipped("duplicate")
    warehouses = {location: warehouse for warehouse, location in locations.items()}
    applied = []
    for refund_id in new:
        refund = refunds.read_refund(envelope.store, envelope.topic, envelope.payload, refund_id)
        with exclusive(mappings, "refund:erp", refund.reference, owner=envelope.event_id):
            applied.append(apply_refund(refund, sales_orders=sales_orders, products=products, returns=returns,
                                        mappings=mappings, warehouse=_warehouse(refund, warehouses,
                                                                                default_warehouse)))
    return Outcome.applied(erp=",".join(applied))


def apply_refund(refund: Refund, *, sales_orders: SalesOrders, products: ProductLookup, returns: Returns,
                 mappings: MappingStore, warehouse: str) -> str:
    existing = returns.find_return(refund.reference)
    if existing is not None and existing.complete:
        mappings.link(ENTITY, refund.reference, "erp", existing.id)
        return existing.id
    sale = sales_orders.find_sales_order(refund.order_reference)
    if sale is None:
        raise TransientError("the refunded order's sale is not in the ERP yet", reason="sale_not_yet_created",
                             retry_after=10)
    product_ids = products.resolve_products(refund.skus)
    unknown = [sku for sku in refund.skus if sku not in product_ids]
    if unknown:
        raise UnknownSku(unknown)
    # Lines with no SKU but a store item: the order flow's store-item mapping, when it has one; a line
    # left without a product is credited as money only (nothing to take back into stock).
    for line in refund.lines:
        if not line.sku and line.store_item_ref and line.product_key not in product_ids:
            known = mappings.get(STORE_ITEM, store_item_key(refund.store, line.store_item_ref))
            if known and "erp" in known.ids:
                product_ids[line.product_key or ""] = known.ids["erp"]
    result = returns.record_return(sale, refund, products=product_ids, warehouse=warehouse)
    mappings.link(ENTITY, refund.reference, "erp", result.id)
    return result.id


def _warehouse(refund: Refund, warehouses: MappingType[str, str], default: str) -> str:
    for line in refund.restocked:
        if line.location and line.location in warehouses:
            return warehouses[line.location]
    return default


def _applied(mappings: MappingStore, reference: str) -> bool:
    known = mappings.get(ENTITY, reference)
    return known is not None and "erp" in known.ids
