"""Publishes canonical envelopes on the EventBridge bus; a partly failed PutEvents is a failure."""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from synchub.errors import EventTooLarge
from synchub.models import DETAIL_SOURCE, EventEnvelope

MAX_ENTRIES = 10  # PutEvents accepts at most 10 entries per call
MAX_ENTRY_BYTES = 256 * 1024


class PublishError(RuntimeError):
    pass


__all__ = ["EventBridgePublisher", "EventTooLarge", "PublishError", "envelope_from_bus_event"]




class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str) -> None:
        self.client = client
        self.bus_name = bus_name

    def publish(self, envelopes: Iterable[EventEnvelope]) -> None:
        batch: list[dict[str, Any]] = []
        for envelope in envelopes:
            detail = envelope.model_dump_json()
            if len(detail.encode("utf-8")) > MAX_ENTRY_BYTES - 1024:
                raise EventTooLarge(f"event {envelope.event_id} exceeds EventBridge's {MAX_ENTRY_BYTES} byte entry")
            batch.append({"Source": DETAIL_SOURCE, "DetailType": envelope.detail_type, "Detail": detail,
                          "EventBusName": self.bus_name, "Time": envelope.occurred_at})
            if len(batch) == MAX_ENTRIES:
                self._put(batch)
                batch = []
        if batch:
            self._put(batch)

    def _put(self, entries: list[dict[str, Any]]) -> None:
        response = self.client.put_events(Entries=entries)
        if response.get("FailedEntryCount", 0):
            failures = [entry.get("ErrorCode") for entry in response["Entries"] if entry.get("ErrorCode")]
            raise PublishError(f"PutEvents failed for {len(failures)} of {len(entries)} entries: {failures}")


def envelope_from_bus_event(body: str | dict[str, Any]) -> EventEnvelope:
    """The envelope inside an EventBridge event as it reaches an SQS queue (detail = envelope)."""
    event = json.loads(body) if isinstance(body, str) else body
    return EventEnvelope.model_validate(event["detail"])
