"""The canonical event envelope that ingest puts on the bus and every flow consumes."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DETAIL_SOURCE = "synchub"


class PayloadRef(BaseModel):
    """A claim check: where a payload too large to travel inline was stored, and how to recognise it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    bucket: str
    key: str
    size: int  # bytes as stored
    sha256: str  # hex digest of the stored bytes


class EventEnvelope(BaseModel):
    """One store (or ERP) event. `topic` such as `order.created` is also the EventBridge detail-type."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    event_id: str  # the dedupe key: same for every delivery of one merchant action
    source: str  # the vendor that sent it (a connection's vendor), or "erp" for events SyncHub derives
    store: str  # the configured store (channel) id, or the ERP connection for ERP events
    topic: str
    entity: str
    entity_id: str
    occurred_at: datetime
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    delivery_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    # Set instead of `payload` when the payload was too large for one bus entry; the flow's envelope
    # loading puts the payload back before any flow sees it.
    payload_ref: PayloadRef | None = None

    @property
    def detail_type(self) -> str:
        return self.topic
