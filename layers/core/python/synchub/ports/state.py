"""Ports of SyncHub's own state and plumbing: mappings, the bus, dead letters, reconciliation reports.

Implemented by synchub.state (DynamoDB) and synchub.runtime (EventBridge, SQS); in tests by tests/fakes.py.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from synchub.models import EventEnvelope, PayloadRef


class Mapping(BaseModel):
    """What SyncHub knows about one entity across systems."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    entity: str
    key: str  # canonical key, e.g. the order's store_reference
    ids: dict[str, str] = {}  # system -> id
    versions: dict[str, datetime] = {}  # scope (flow) -> source updated_at last applied
    written: dict[str, str] = {}  # system -> hash of what SyncHub last wrote there


class MappingStore(Protocol):
    def get(self, entity: str, key: str) -> Mapping | None: ...

    def find(self, entity: str, system: str, system_id: str) -> Mapping | None:
        """Look a mapping up from any side."""

    def link(self, entity: str, key: str, system: str, system_id: str) -> None: ...

    def claim_version(self, entity: str, key: str, version: datetime, *, scope: str = "default") -> bool:
        """Record `version` as applied by `scope` (a flow) unless an older-than-stored one; False when stale.

        Equal versions are allowed: re-applying the same version is harmless (writes are upserts) and a
        retry after a failed apply must get through.
        """

    def remember_written(self, entity: str, key: str, system: str, content_hash: str) -> None: ...

    def acquire_lease(self, entity: str, key: str, owner: str, seconds: int) -> bool:
        """Hold `key` for `seconds` so two events of one entity are never applied at once; False if held."""

    def release_lease(self, entity: str, key: str, owner: str) -> None: ...

    def get_watermark(self, source: str) -> str | None: ...

    def set_watermark(self, source: str, value: str) -> None: ...


class EventPublisher(Protocol):
    def publish(self, envelopes: Iterable[EventEnvelope]) -> None:
        """Put every envelope on the bus or raise; a partial failure is a failure."""


class DeadLetters(Protocol):
    """A flow's DLQ: where a message that cannot succeed is parked with its reason."""

    def park(self, body: str, reason: str, detail: dict | None = None) -> None: ...


class DriftItem(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    store: str
    sku: str
    location_id: str
    before: int  # the store's available quantity when read
    after: int  # the ERP's sellable quantity the store should show
    status: str = "drifted"  # drifted | fixed | failed:<reason> | dry_run
    inventory_item_id: str | None = None  # from the store's export, so applying needs no SKU lookup


class ReconcileReports(Protocol):
    """Where a reconciliation run's summary and drifted SKUs are kept for operators."""

    def start_run(self, run_id: str, *, store: str, checked: int, drifted: int, chunks: int,
                  not_in_store: int, dry_run: bool) -> None: ...

    def record_drift(self, run_id: str, items: Sequence[DriftItem]) -> None: ...

    def record_chunk(self, run_id: str, store: str, fixed: Sequence[DriftItem],
                     failed: Sequence[DriftItem]) -> None: ...

    def summary(self, run_id: str) -> dict: ...


class PayloadStore(Protocol):
    """Claim checks: keeps bytes too large for a bus entry or a DLQ message, and hands them back."""

    def put(self, key: str, data: bytes) -> PayloadRef: ...

    def get(self, ref: PayloadRef) -> bytes:
        """The stored bytes; raises PermanentError (`payload_missing`) when they are gone for good."""
