"""The canonical event envelope that ingest puts on the bus and every flow consumes."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DETAIL_SOURCE = "synchub"


class EventEnvelope(BaseModel):
    """One store (or ERP) event. `topic` such as `order.created` is also the EventBridge detail-type."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    event_id: str  # the dedupe key: same for every delivery of one merchant action
    source: str  # platform: shopify, woocommerce, tryton, ...
    store: str  # the configured store (channel) id, or the ERP connection for ERP events
    topic: str
    entity: str
    entity_id: str
    occurred_at: datetime
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    delivery_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    @property
    def detail_type(self) -> str:
        return self.topic
