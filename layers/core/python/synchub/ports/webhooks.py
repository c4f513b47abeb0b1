"""The port a vendor that sends webhooks implements: verify on the raw bytes, then decode to an envelope."""
from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from synchub.models import EventEnvelope


class WebhookDecision(BaseModel):
    """What ingest does with one verified delivery.

    kind: "event" (publish `envelope`), "ping" (answer 200, nothing else), "unusable" (signed but
    cannot be used: park it with `reason`), "ignored" (a topic this platform sends that we do not map).
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    kind: str
    envelope: EventEnvelope | None = None
    reason: str | None = None
    topic: str | None = None  # the vendor's own topic, for counting


class WebhookDecoder(Protocol):
    """Vendor webhook handling for one vendor; implemented in connectors/<vendor>/webhooks.py.

    Header names, signature schemes and topic names stay inside the vendor's package.
    """

    secret_field: str  # the key of the connection's secret that signs its webhooks

    def vendor_topic(self, headers: dict[str, str]) -> str | None:
        """The vendor's own topic of a delivery, from its headers (kept with a parked delivery)."""
        ...

    def is_unsigned_ping(self, headers: dict[str, str], raw_body: bytes) -> bool: ...

    def verify(self, headers: dict[str, str], raw_body: bytes, secret: str) -> bool:
        """Constant-time check of the signature over the raw bytes, before any parsing."""

    def decode(self, store_id: str, headers: dict[str, str], raw_body: bytes) -> WebhookDecision: ...


class PartnerEventDecoder(Protocol):
    """Vendors that also deliver through an EventBridge partner source (AWS authenticates the source)."""

    def partner_domain(self, event: dict[str, Any]) -> str | None:
        """Which connection an EventBridge delivery is for: the domain it names (matched to settings.domain)."""
        ...

    def decode_eventbridge(self, store_id: str, event: dict) -> WebhookDecision: ...
