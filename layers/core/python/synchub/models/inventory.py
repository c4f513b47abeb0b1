"""Stock: what the ERP holds per SKU and warehouse, and what the store may sell."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class StockLevel(BaseModel):
    """ERP stock for one SKU in one warehouse. `reserved` is what confirmed sales will take."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    sku: str
    warehouse: str
    on_hand: int
    reserved: int = 0
    updated_at: datetime | None = None

    def sellable(self, safety_buffer: int = 0) -> int:
        return max(0, self.on_hand - self.reserved - safety_buffer)


class StoreStock(BaseModel):
    """The store's available quantity for one SKU at one store location."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    sku: str
    location_id: str
    available: int
    inventory_item_id: str | None = None


class StockUpdate(BaseModel):
    """Set the store's available quantity; `expected` is the compare-and-swap value when known."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    sku: str
    location_id: str
    available: int = Field(ge=0)
    expected: int | None = None
    inventory_item_id: str | None = None  # the store's id for the SKU when already known (saves a lookup)


class StockUpdateResult(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    sku: str
    location_id: str
    ok: bool
    reason: str | None = None  # machine-readable when not ok: unknown_sku, stale, ...
    before: int | None = None
    after: int | None = None
