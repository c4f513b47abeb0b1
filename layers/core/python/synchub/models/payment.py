"""Payment: money a store took for an order (a successful sale or capture), keyed by the store's transaction id."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, field_validator

from synchub.models.money import Money


class Payment(BaseModel):
    """One captured payment. `gateway` is the store's name for how it was paid (mapped to an ERP method)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    store: str
    order_id: str
    transaction_id: str
    gateway: str
    amount: Money
    processed_at: datetime | None = None

    @field_validator("order_id", "transaction_id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @property
    def order_reference(self) -> str:
        """The store_reference of the order this pays (what the ERP sale carries)."""
        return f"{self.store}:{self.order_id}"

    @property
    def reference(self) -> str:
        """Our key for this payment in other systems: unique across stores and stable across deliveries."""
        return f"{self.store}:payment:{self.transaction_id}"
