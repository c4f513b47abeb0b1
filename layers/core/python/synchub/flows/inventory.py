"""Stock flows: ERP changes reach the stores within a poll, as sellable quantities per location.

Sellable = on hand - reserved - safety buffer, never below zero. The poll's watermark only moves
after every change up to it was published, so a failed run repeats and never skips.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from synchub.errors import TransientError
from synchub.flows.guard import is_echo
from synchub.models import EventEnvelope, StockLevel, StockUpdate, StockUpdateResult, topics
from synchub.models.outcome import Outcome, content_hash
from synchub.ports import EventPublisher, MappingStore, StockSource, StoreStockPayloads, StoreTarget

WATERMARK_SOURCE = "erp_stock"
STOCK_ENTITY = "stock"
LEVELS_PER_EVENT = 200  # keeps a stock.changed event far below EventBridge's 256 KB


@dataclass(frozen=True)
class PollResult:
    changed: int
    events: int
    since: str | None
    watermark: str


def publish_stock_changes(*, erp: StockSource, mappings: MappingStore, publisher: EventPublisher,
                          warehouses: Sequence[str], now: datetime | None = None) -> PollResult:
    since = mappings.get_watermark(WATERMARK_SOURCE)
    changes = erp.stock_changes(since, warehouses)
    now = now or datetime.now(UTC)
    levels = list(changes.levels)
    envelopes = [
        EventEnvelope(event_id=f"stock:{since or 'start'}:{changes.watermark}:{index}", source="erp", store="erp",
                      topic=topics.STOCK_CHANGED.name, entity=topics.STOCK_CHANGED.entity, entity_id=f"{index}",
                      occurred_at=now,
                      payload={"levels": [level.model_dump(mode="json") for level in chunk]})
        for index, chunk in enumerate(_chunks(levels, LEVELS_PER_EVENT))
    ]
    if envelopes:
        publisher.publish(envelopes)  # raises on any failed entry: the watermark stays put
    mappings.set_watermark(WATERMARK_SOURCE, changes.watermark)
    return PollResult(changed=len(levels), events=len(envelopes), since=since, watermark=changes.watermark)


def push_stock(envelope: EventEnvelope, *, stores: Sequence[StoreTarget], mappings: MappingStore,
               safety_buffer: int = 0) -> Outcome:
    levels = [StockLevel.model_validate(item) for item in envelope.payload.get("levels", [])]
    pushed = stale = unknown = 0
    for store in stores:
        updates: list[StockUpdate] = []
        for level in levels:
            location = store.locations.get(level.warehouse)
            if location is None:
                continue
            key = stock_key(store.store_id, level.sku, location)
            if level.updated_at and not mappings.claim_version(STOCK_ENTITY, key, level.updated_at, scope="push"):
                stale += 1  # a newer stock level already reached this store
                continue
            updates.append(StockUpdate(sku=level.sku, location_id=location, available=level.sellable(safety_buffer)))
        if not updates:
            continue
        results = store.storefront.set_available(updates, idempotency_key=f"{envelope.event_id}:{store.store_id}")
        for result in results:
            if result.ok:  # the store will report this level back: its webhook is then our echo
                mappings.remember_written(STOCK_ENTITY, stock_key(store.store_id, result.sku, result.location_id),
                                          store.store_id, content_hash(written_level(result.after)))
        retry = [result for result in results if not result.ok and result.reason not in ("unknown_sku",)]
        unknown += sum(1 for result in results if result.reason == "unknown_sku")
        pushed += sum(1 for result in results if result.ok)
        if retry:
            raise TransientError(f"{len(retry)} stock update(s) failed in store {store.store_id}",
                                 reason="stock_push_incomplete", reasons=sorted({r.reason or "" for r in retry}))
    if not pushed:
        return Outcome.skipped("stale" if stale else "filtered:no_store_sku", unknown_sku=str(unknown))
    return Outcome.applied(pushed=str(pushed), stale=str(stale), unknown_sku=str(unknown))


def stock_key(store_id: str, sku: str, location_id: str) -> str:
    return f"{store_id}:{sku}:{location_id}"


def written_level(available: int | None) -> dict[str, int | None]:
    """What a stock push writes, as the echo check compares it."""
    return {"available": available}


def watch_store_stock(envelope: EventEnvelope, *, stock_payloads: StoreStockPayloads,
                      mappings: MappingStore) -> Outcome:
    """A store's own stock webhook: our push coming back is an echo and is dropped; any other change (a sale,
    an edit in the store's admin) is a store-side change, logged with its SKUs for the reconciliation."""
    levels = stock_payloads.stock_levels(envelope.store, envelope.entity, envelope.payload)
    if not levels:
        return Outcome.skipped("filtered:no_synced_stock")
    changed = [level for level in levels if not is_echo(
        mappings, entity=STOCK_ENTITY, key=stock_key(envelope.store, level.sku, level.location_id),
        system=envelope.store, content=written_level(level.available))]
    if not changed:
        return Outcome.skipped("echo")
    return Outcome.skipped("filtered:store_side_change", skus=",".join(sorted({level.sku for level in changed})))


def failed(results: Sequence[StockUpdateResult]) -> list[StockUpdateResult]:
    return [result for result in results if not result.ok]


def _chunks(items: list, size: int) -> list[list]:
    return [items[start:start + size] for start in range(0, len(items), size)]
