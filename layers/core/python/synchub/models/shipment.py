"""Shipment and StoreFulfillment: goods that left the warehouse, with the carrier's tracking, in either direction.

A `Shipment` is what the ERP shipped (published by the shipment poll, written to the store as a fulfilment);
a `StoreFulfillment` is what a store (or its 3PL) reports as shipped (written to the ERP when the store is
the fulfilment master). Both name the order by `order_reference`, the `store:order id` key every system holds.
"""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ShippedLine(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    sku: str
    quantity: int = Field(gt=0)


class Tracking(BaseModel):
    """One parcel's tracking: the carrier's number and, when known, its tracking page."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    number: str
    url: str | None = None


def split_reference(order_reference: str) -> tuple[str, str]:
    """(store id, the store's order id) of a `store:order id` reference."""
    store, sep, order_id = order_reference.partition(":")
    if not sep or not store or not order_id:
        raise ValueError(f"not an order reference: {order_reference!r}")
    return store, order_id


class Shipment(BaseModel):
    """A shipment the ERP marked done. `complete`: the order has nothing left to ship after it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    source_id: str  # the ERP's shipment id
    number: str | None = None
    order_reference: str
    carrier: str | None = None
    tracking: tuple[Tracking, ...] = ()  # one per parcel; empty when the carrier gave none
    lines: tuple[ShippedLine, ...]
    shipped_at: datetime
    complete: bool = True

    @property
    def store(self) -> str:
        return split_reference(self.order_reference)[0]

    @property
    def order_id(self) -> str:
        return split_reference(self.order_reference)[1]

    @property
    def key(self) -> str:
        """Our key for this shipment in every store: stable across polls and retries."""
        return f"erp-shipment:{self.source_id}"

    @property
    def tracking_numbers(self) -> tuple[str, ...]:
        return tuple(parcel.number for parcel in self.tracking)


class StoreFulfillment(BaseModel):
    """A fulfilment a store reports (its own, or a 3PL's). `lines` empty means the whole order."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    store: str
    order_id: str
    fulfillment_id: str
    status: str = "success"  # success | cancelled | ... as the store says; only success closes anything
    carrier: str | None = None
    tracking: tuple[Tracking, ...] = ()
    lines: tuple[ShippedLine, ...] = ()
    updated_at: datetime

    @property
    def order_reference(self) -> str:
        return f"{self.store}:{self.order_id}"

    @property
    def key(self) -> str:
        return f"{self.store}:{self.fulfillment_id}"

    @property
    def tracking_numbers(self) -> tuple[str, ...]:
        return tuple(parcel.number for parcel in self.tracking)
