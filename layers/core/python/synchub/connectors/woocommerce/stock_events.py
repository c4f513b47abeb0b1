"""WooCommerce's `product.updated` as a stock level: a product (or variation) that manages its stock and has
a SKU, at the store's one location."""
from __future__ import annotations

from typing import Any

from synchub.connectors.woocommerce.inventory import DEFAULT_LOCATION
from synchub.models import StoreStock


class WooCommerceStockPayloads:
    def __init__(self, location_id: str = DEFAULT_LOCATION) -> None:
        self.location_id = location_id

    def stock_levels(self, store_id: str, entity: str, payload: dict[str, Any]) -> list[StoreStock]:
        sku, quantity = payload.get("sku"), payload.get("stock_quantity")
        if entity != "product" or not payload.get("manage_stock") or not sku or not isinstance(quantity, int):
            return []  # catalogue products often have "sku": "" and unmanaged stock
        return [StoreStock(sku=str(sku), location_id=self.location_id, available=quantity)]
