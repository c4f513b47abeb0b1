"""The guard of flows/guard.py over a whole queue batch, so a flow can make one vendor call for many records.

Per record, as in `guarded_write`: the newest version of each key wins (an older one, in the batch or
already applied, is skipped as stale), content equal to what was last written is skipped as unchanged,
and what was written is linked and remembered. A failure reading or writing one record's state is that
record's result alone.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

from synchub.flows.guard import remember, unchanged
from synchub.models.outcome import Outcome, content_hash
from synchub.ports import MappingStore

T = TypeVar("T")
RecordResult = Outcome | Exception  # what one record of a batch came to; the runner classifies exceptions
Results = list[RecordResult | None]  # by the record's position in the batch; None: not decided yet


@dataclass(frozen=True)
class Candidate(Generic[T]):
    """One record that wants a write: its position in the batch, mapping key, source version, the content
    that would be written (hashed for the unchanged check) and what the flow needs to write it."""

    index: int
    key: str
    version: datetime | None
    content: BaseModel
    item: T


@dataclass(frozen=True)
class Claimed(Generic[T]):
    """A candidate that will be written, with the hash of its content."""

    candidate: Candidate[T]
    digest: str

    @property
    def index(self) -> int:
        return self.candidate.index


def claim_batch(mappings: MappingStore, candidates: Sequence[Candidate[T]], results: Results, *, entity: str,
                system: str, scope: str | None = None) -> list[Claimed[T]]:
    """The candidates to write now; every other one gets its result (stale, duplicate, unchanged, or the
    error that reading its state raised)."""
    newest: dict[str, Candidate[T]] = {}
    for candidate in candidates:
        held = newest.get(candidate.key)
        if held is not None and not _supersedes(candidate, held):
            results[candidate.index] = _superseded(candidate, held)
            continue
        if held is not None:
            results[held.index] = _superseded(held, candidate)
        newest[candidate.key] = candidate
    claimed: list[Claimed[T]] = []
    for candidate in newest.values():
        try:
            if candidate.version is not None and not mappings.claim_version(
                    entity, candidate.key, candidate.version, scope=scope or system):
                results[candidate.index] = Outcome.skipped("stale")
                continue
            digest = content_hash(candidate.content)
            known = unchanged(mappings, entity=entity, key=candidate.key, system=system, digest=digest)
        except Exception as error:  # noqa: BLE001 - this record's state could not be read: its own failure
            results[candidate.index] = error
            continue
        if known is not None:
            results[candidate.index] = Outcome.skipped("unchanged", **{system: known})
            continue
        claimed.append(Claimed(candidate, digest))
    return claimed


def settle(mappings: MappingStore, write: Claimed[T], system_id: str, results: Results, *, entity: str,
           system: str) -> None:
    """Link the id and remember what was written; the record is applied (or fails if that state write did)."""
    try:
        remember(mappings, entity=entity, key=write.candidate.key, system=system, system_id=system_id,
                 digest=write.digest)
    except Exception as error:  # noqa: BLE001 - retried: the vendor write is an upsert, safe to repeat
        results[write.index] = error
        return
    results[write.index] = Outcome.applied(**{system: system_id})


def decided(results: Results) -> list[RecordResult]:
    """Every record's result; a record a flow forgot is a bug, reported as that record's failure."""
    return [result if result is not None else RuntimeError("batch flow left the record without a result")
            for result in results]


def _supersedes(later: Candidate[T], held: Candidate[T]) -> bool:
    """Whether a later record of the same key replaces the one held: a newer or equal version (or no version)."""
    return later.version is None or held.version is None or later.version >= held.version


def _superseded(older: Candidate[T], newer: Candidate[T]) -> Outcome:
    same = older.version is None or newer.version is None or older.version == newer.version
    return Outcome.skipped("duplicate" if same else "stale")
