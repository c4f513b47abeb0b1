"""Publishes canonical envelopes on the EventBridge bus; a partly failed PutEvents is a failure.

An envelope too large for one bus entry travels by claim check: its payload goes to the payload
store and the entry carries `payload_ref`; envelope_from_bus_event puts the payload back.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from synchub.errors import EventTooLarge, PayloadMissing, UnpublishableEvent
from synchub.models import DETAIL_SOURCE, EventEnvelope
from synchub.ports import PayloadStore

MAX_ENTRIES = 10  # PutEvents accepts at most 10 entries per call
# EventBridge and SQS took 256 KB for years (AWS raised both to 1 MB in 2026); the flow queues and
# every region we deploy to are safe with the old figure, and larger payloads go by claim check.
MAX_ENTRY_BYTES = 256 * 1024


class PublishError(RuntimeError):
    pass


__all__ = ["EventBridgePublisher", "EventTooLarge", "PublishError", "envelope_from_bus_event"]


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str, payloads: PayloadStore | None = None) -> None:
        self.client = client
        self.bus_name = bus_name
        self.payloads = payloads  # without one, an envelope too large for an entry raises EventTooLarge

    def publish(self, envelopes: Iterable[EventEnvelope]) -> None:
        batch: list[dict[str, Any]] = []
        for envelope in envelopes:
            batch.append({"Source": DETAIL_SOURCE, "DetailType": envelope.detail_type, "Detail": self._detail(envelope),
                          "EventBusName": self.bus_name, "Time": envelope.occurred_at})
            if len(batch) == MAX_ENTRIES:
                self._put(batch)
                batch = []
        if batch:
            self._put(batch)

    def _detail(self, envelope: EventEnvelope) -> str:
        detail = _json(envelope)
        if _fits(detail):
            return detail
        if self.payloads is None:
            raise EventTooLarge(f"event {envelope.event_id} exceeds EventBridge's {MAX_ENTRY_BYTES} byte entry")
        stored = _json(envelope, include={"payload"}).encode("utf-8")
        ref = self.payloads.put(f"bus/{envelope.source}/{envelope.store}", stored)
        detail = _json(envelope.model_copy(update={"payload": {}, "payload_ref": ref}))
        if not _fits(detail):  # only the envelope's own fields are left: they are the problem
            raise EventTooLarge(f"event {envelope.event_id} exceeds EventBridge's entry even without its payload")
        return detail

    def _put(self, entries: list[dict[str, Any]]) -> None:
        response = self.client.put_events(Entries=entries)
        if response.get("FailedEntryCount", 0):
            failures = [entry.get("ErrorCode") for entry in response["Entries"] if entry.get("ErrorCode")]
            raise PublishError(f"PutEvents failed for {len(failures)} of {len(entries)} entries: {failures}")


def _json(envelope: EventEnvelope, include: set[str] | None = None) -> str:
    try:
        return envelope.model_dump_json(include=include)
    except ValueError as error:  # pydantic's serialisation error: say, a lone surrogate in the text
        raise UnpublishableEvent(f"event {envelope.event_id} cannot be serialised: {error}") from error


def _fits(detail: str) -> bool:
    return len(detail.encode("utf-8")) <= MAX_ENTRY_BYTES - 1024  # room for source, detail-type and time


def envelope_from_bus_event(body: str | dict[str, Any], payloads: PayloadStore | None = None) -> EventEnvelope:
    """The envelope inside an EventBridge event as it reaches an SQS queue (detail = envelope), with a
    claim-checked payload loaded back from `payloads`."""
    event = json.loads(body) if isinstance(body, str) else body
    envelope = EventEnvelope.model_validate(event["detail"])
    if envelope.payload_ref is None:
        return envelope
    if payloads is None:
        raise PayloadMissing(f"event {envelope.event_id} refers to a stored payload and no payload store is set")
    stored = json.loads(payloads.get(envelope.payload_ref))
    return envelope.model_copy(update={"payload": stored["payload"], "payload_ref": None})
