"""The CRM side of an order: a deal on the customer's contact."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from synchub.models.money import Money


class Deal(BaseModel):
    """A CRM deal for one store order. `reference` is the order's store_reference (the upsert key)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    reference: str
    name: str
    amount: Money
    pipeline: str
    stage: str
    contact_email: str | None = None
    close_date: str | None = None  # ISO date when won or lost


class DealWrite(BaseModel):
    """One deal of a batch upsert and the CRM contact it is associated to (None: no association)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    deal: Deal
    contact_id: str | None = None


class UpsertOutcome(BaseModel):
    """One input of a batch upsert: its key, the vendor id when it succeeded, the reason when not."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    key: str
    id: str | None = None
    created: bool = False
    error: str | None = None
    transient: bool = False
