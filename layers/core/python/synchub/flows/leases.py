"""One event of an entity applied at a time, where the vendor offers no upsert to make races harmless.

Two different events of one order (orders/create and orders/paid, say) can be processed at the same
moment by two function instances; both would search the ERP, find nothing and create. The lease
makes the second wait (a transient failure, retried shortly) until the first has written.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from synchub.errors import TransientError
from synchub.ports import MappingStore

LEASE_SECONDS = 120  # longer than a flow function's timeout, so a live holder never loses it


@contextmanager
def exclusive(mappings: MappingStore, entity: str, key: str, owner: str) -> Iterator[None]:
    if not mappings.acquire_lease(entity, key, owner, LEASE_SECONDS):
        raise TransientError(f"{entity} is being written by another event", reason="entity_busy", retry_after=2)
    try:
        yield
    finally:
        mappings.release_lease(entity, key, owner)
