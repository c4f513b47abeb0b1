"""Ingest: verify a connection's webhook, normalise it to the canonical envelope, put it on the bus.

Answers fast and never loses a delivery: 401 forged (nothing published), 404 unknown store, 413 too
large, 200 for pings, unhandled topics (skipped) and signed-but-unusable bodies (parked with their
reason), 5xx only when the event could not be stored durably, so the store retries.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass

from synchub.errors import PermanentError
from synchub.ports import (
    DeadLetters,
    EventPublisher,
    PartnerEventDecoder,
    PayloadStore,
    WebhookDecision,
    WebhookDecoder,
)

# A DLQ message holds 256 KiB and base64 grows a body by a third: larger bodies are parked by claim
# check, the raw bytes in the payload store and their reference in the message.
INLINE_PARKED_BODY_BYTES = 160 * 1024


@dataclass(frozen=True)
class WebhookRequest:
    connection_id: str  # the configured connection (a store today; any system that sends webhooks)
    vendor: str  # the vendor named in the URL, which must be the connection's
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class IngestResult:
    status: int
    outcome: str  # accepted | ping | skipped | parked | rejected | unknown_store | too_large | unavailable
    reason: str | None = None
    event_id: str | None = None


def accept_webhook(request: WebhookRequest, *, decoder: WebhookDecoder | None, connection_vendor: str | None,
                   secret: Callable[[], str], publisher: EventPublisher, parking: DeadLetters,
                   handled_topics: Collection[str], max_body_bytes: int,
                   payloads: PayloadStore | None = None) -> IngestResult:
    if connection_vendor is None or decoder is None or connection_vendor != request.vendor:
        return IngestResult(404, "unknown_store", "no such connection and vendor")
    if len(request.body) > max_body_bytes:
        return IngestResult(413, "too_large", f"body over {max_body_bytes} bytes")
    if decoder.is_unsigned_ping(request.headers, request.body):
        return IngestResult(200, "ping")
    if not decoder.verify(request.headers, request.body, secret()):
        return IngestResult(401, "rejected", "invalid signature")

    try:
        decision: WebhookDecision = decoder.decode(request.connection_id, request.headers, request.body)
    except Exception as error:  # noqa: BLE001 - authentic but undecodable: a retry would fail the same way
        decision = WebhookDecision(kind="unusable", reason=f"undecodable:{type(error).__name__}")
    return _deliver(decision, parked=lambda: _parked_record(request, decoder, payloads), publisher=publisher,
                    parking=parking, handled_topics=handled_topics)


def accept_partner_event(event: dict, *, store_id: str | None, decoder: object | None, publisher: EventPublisher,
                         parking: DeadLetters, handled_topics: Collection[str]) -> IngestResult:
    """A vendor's EventBridge partner delivery: AWS authenticated the source, so there is no signature."""
    if store_id is None or decoder is None or not hasattr(decoder, "decode_eventbridge"):
        return _park(json.dumps(event, default=str), parking, "unknown_store")
    partner: PartnerEventDecoder = decoder  # type: ignore[assignment]
    return _deliver(partner.decode_eventbridge(store_id, event), parked=lambda: json.dumps(event, default=str),
                    publisher=publisher, parking=parking, handled_topics=handled_topics)


def _deliver(decision: WebhookDecision, *, parked: Callable[[], str], publisher: EventPublisher,
             parking: DeadLetters, handled_topics: Collection[str]) -> IngestResult:
    """Publish the event, skip a topic no flow handles, or park what can go no further (`parked()` is the
    record kept, built only then)."""
    if decision.kind == "unusable" or (decision.kind == "event" and decision.envelope is None):
        return _park(parked, parking, decision.reason or "unusable")
    if decision.kind != "event":
        return IngestResult(200, "skipped", f"topic not handled: {decision.topic}")
    envelope = decision.envelope
    assert envelope is not None
    if envelope.topic not in handled_topics:
        return IngestResult(200, "skipped", f"topic not handled: {envelope.topic}", envelope.event_id)
    try:
        publisher.publish([envelope])
    except PermanentError as error:  # too large, unserialisable: keep it and answer 200, a retry fails the same way
        return _park(parked, parking, error.reason)
    except Exception as error:  # noqa: BLE001 - whatever the bus said, the store must retry: answer 503
        return IngestResult(503, "unavailable", f"publish failed: {type(error).__name__}", envelope.event_id)
    return IngestResult(200, "accepted", envelope.topic, envelope.event_id)


def _parked_record(request: WebhookRequest, decoder: WebhookDecoder, payloads: PayloadStore | None) -> str:
    record = {"store": request.connection_id, "platform": request.vendor,
              "topic": decoder.vendor_topic(request.headers)}
    if payloads is not None and len(request.body) > INLINE_PARKED_BODY_BYTES:
        ref = payloads.put(f"parked/{request.connection_id}/{request.vendor}", request.body)
        return json.dumps({**record, "body_ref": ref.model_dump()})
    return json.dumps({**record, "body_base64": base64.b64encode(request.body).decode("ascii")})


def _park(record: str | Callable[[], str], parking: DeadLetters, reason: str) -> IngestResult:
    try:  # building the record may store the body by claim check: a failure there is a storage failure too
        parking.park(record() if callable(record) else record, reason)
    except Exception as error:  # noqa: BLE001 - not stored durably: the store must retry
        return IngestResult(503, "unavailable", f"park failed: {type(error).__name__}")
    return IngestResult(200, "parked", reason)

