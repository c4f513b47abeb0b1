"""Refund: money (and possibly goods) a store gave back on an order, keyed by the store's refund id.

Amounts are positive: what was given back. `total` is what reached the customer; lines, shipping and
tax are what the store says it was for, and any difference (a refund discrepancy, a goodwill amount)
is the ERP adapter's balancing line, so the ERP credit equals the money returned, to the cent.
"""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from synchub.models.money import Money


class RefundLine(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    source_line_id: str  # the order line refunded
    sku: str | None
    title: str
    product_ref: str | None = None
    variant_ref: str | None = None
    quantity: int = Field(gt=0)
    amount: Money  # refunded for these units, after discounts, before tax
    tax: Money
    restock: bool  # the units go back to stock (a return or a cancelled, unshipped unit)
    location: str | None = None  # the store location they go back to

    @field_validator("source_line_id", "product_ref", "variant_ref", "location", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @property
    def store_item_ref(self) -> str | None:
        return self.variant_ref or self.product_ref

    @property
    def product_key(self) -> str | None:
        """As OrderLine.product_key: the SKU, else the store item; None for a fee line."""
        if self.sku:
            return self.sku
        return None if self.store_item_ref is None else f"store-item:{self.store_item_ref}"


class Refund(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    store: str
    source_id: str
    order_id: str
    currency: str
    lines: tuple[RefundLine, ...] = ()
    shipping: Money  # shipping refunded, before tax
    tax: Money  # all tax refunded (lines and shipping)
    total: Money  # money returned to the customer
    gateway: str | None = None  # how the money went back, when the store says
    note: str | None = None
    created_at: datetime

    @field_validator("source_id", "order_id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @property
    def order_reference(self) -> str:
        return f"{self.store}:{self.order_id}"

    @property
    def reference(self) -> str:
        return f"{self.store}:refund:{self.source_id}"

    @property
    def restocked(self) -> tuple[RefundLine, ...]:
        return tuple(line for line in self.lines if line.restock)

    @property
    def skus(self) -> list[str]:
        return [line.sku for line in self.lines if line.sku]
