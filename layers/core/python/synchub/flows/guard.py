"""The guard every write-through flow keeps, in one place: claim the version, skip what is unchanged,
write, link the ids, remember what was written; and recognise our own writes coming back as echoes.

- stale: an event older than the version already applied by this scope is acknowledged and dropped;
- unchanged: what we would write equals what we last wrote there (by hash), so nothing is sent;
- echo: a change arriving *from* a system equal to what SyncHub last wrote *to* it is our own write
  coming back (a store's stock webhook after our stock push), never applied again.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from synchub.models.outcome import Outcome, content_hash
from synchub.ports import MappingStore


def guarded_write(mappings: MappingStore, *, entity: str, key: str, system: str, content: BaseModel | dict[str, Any],
                  write: Callable[[], str], version: datetime | None = None, scope: str | None = None) -> Outcome:
    """Apply `write()` (which returns the id in `system`) once per distinct content, newest version first."""
    if version is not None and not mappings.claim_version(entity, key, version, scope=scope or system):
        return Outcome.skipped("stale")
    digest = content_hash(content)
    known = unchanged(mappings, entity=entity, key=key, system=system, digest=digest)
    if known is not None:
        return Outcome.skipped("unchanged", **{system: known})
    system_id = write()
    remember(mappings, entity=entity, key=key, system=system, system_id=system_id, digest=digest)
    return Outcome.applied(**{system: system_id})


def unchanged(mappings: MappingStore, *, entity: str, key: str, system: str, digest: str) -> str | None:
    """The id in `system` when what we would write there now is what we last wrote; else None."""
    current = mappings.get(entity, key)
    if current is not None and current.written.get(system) == digest and system in current.ids:
        return current.ids[system]
    return None


def remember(mappings: MappingStore, *, entity: str, key: str, system: str, system_id: str,
             digest: str | None = None) -> None:
    """Link the id and, when given, remember the hash of what was written (for unchanged and echo checks)."""
    mappings.link(entity, key, system, system_id)
    if digest is not None:
        mappings.remember_written(entity, key, system, digest)


def is_echo(mappings: MappingStore, *, entity: str, key: str, system: str,
            content: BaseModel | dict[str, Any]) -> bool:
    """Whether a change reported by `system` is exactly what SyncHub last wrote there."""
    current = mappings.get(entity, key)
    return current is not None and current.written.get(system) == content_hash(content)
