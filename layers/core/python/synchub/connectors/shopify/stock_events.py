"""Shopify's `inventory_levels/update` as stock levels: the item's SKU from the mapping the stock push keeps
(inventory item gid -> SKU), the location as the gid the configuration names."""
from __future__ import annotations

from typing import Any

from synchub.connectors.shopify.inventory import ENTITY, SYSTEM
from synchub.models import StoreStock
from synchub.ports import MappingStore


class ShopifyStockPayloads:
    def __init__(self, mappings: MappingStore | None) -> None:
        self.mappings = mappings

    def stock_levels(self, store_id: str, entity: str, payload: dict[str, Any]) -> list[StoreStock]:
        item, location, available = (payload.get(key) for key in ("inventory_item_id", "location_id", "available"))
        if entity != "inventory_level" or item is None or location is None or not isinstance(available, int):
            return []  # products/update carries totals across locations, not a level
        item_gid = f"gid://shopify/InventoryItem/{item}"
        known = self.mappings.find(ENTITY, SYSTEM, item_gid) if self.mappings else None
        if known is None or not known.key.startswith(f"{store_id}:"):
            return []  # an item SyncHub never pushed stock to
        return [StoreStock(sku=known.key.split(":", 1)[1], location_id=f"gid://shopify/Location/{location}",
                           available=available, inventory_item_id=item_gid)]
