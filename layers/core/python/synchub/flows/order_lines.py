"""Which ERP product each order line sells: by SKU, or for a blank SKU by the store's configured lookup.

A catalogue line that nothing resolves parks the order (`missing_sku`); only fees carry no product.
"""
from __future__ import annotations

from synchub.errors import MissingSku, UnknownSku
from synchub.models import Order
from synchub.ports import MappingStore, ProductLookup

# Mapping store entity tying a store's variant (or product) id, keyed `<store>:<id>`, to its ERP product.
STORE_ITEM = "store_item"


def store_item_key(store: str, item_ref: str) -> str:
    return f"{store}:{item_ref}"


def resolve_line_products(order: Order, *, products: ProductLookup, mappings: MappingStore,
                          missing_sku_lookup: str = "none") -> dict[str, str]:
    """ERP product id per line product key (`OrderLine.product_key`); raises for lines it cannot place."""
    resolved = products.resolve_products(order.skus)
    unknown = sorted({sku for sku in order.skus if sku not in resolved})
    if unknown:
        raise UnknownSku(unknown)
    unresolved = []
    for line in order.lines_without_sku:
        erp_id = _by_store_item(order.store, line.store_item_ref, mappings) \
            if missing_sku_lookup == "store_item_mapping" else None
        if erp_id is None:
            unresolved.append(line)
        else:
            resolved[line.product_key or ""] = erp_id
    if unresolved:
        raise MissingSku([line.source_line_id for line in unresolved],
                         [line.store_item_ref or "" for line in unresolved])
    return resolved


def _by_store_item(store: str, item_ref: str | None, mappings: MappingStore) -> str | None:
    known = mappings.get(STORE_ITEM, store_item_key(store, item_ref)) if item_ref else None
    return known.ids.get("erp") if known else None
