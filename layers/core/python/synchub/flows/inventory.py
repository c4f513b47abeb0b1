"""Stock flows: ERP changes reach the stores within a poll, as sellable quantities per location.

Sellable = on hand - reserved - safety buffer, never below zero. The poll's watermark only moves
after every change up to it was published, so a failed run repeats and never skips.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from synchub.errors import TransientError
from synchub.models import EventEnvelope, StockLevel, StockUpdate, StockUpdateResult, topics
from synchub.models.outcome import Outcome
from synchub.ports import EventPublisher, MappingStore, StockSource, StoreTarget

WATERMARK_SOURCE = "erp_stock"
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
            key = f"{store.store_id}:{level.sku}:{location}"
            if level.updated_at and not mappings.claim_version("stock", key, level.updated_at, scope="push"):
                stale += 1  # a newer stock level already reached this store
                continue
            updates.append(StockUpdate(sku=level.sku, location_id=location, available=level.sellable(safety_buffer)))
        if not updates:
            continue
        results = store.storefront.set_available(updates, idempotency_key=f"{envelope.event_id}:{store.store_id}")
        retry = [result for result in results if not result.ok and result.reason not in ("unknown_sku",)]
        unknown += sum(1 for result in results if result.reason == "unknown_sku")
        pushed += sum(1 for result in results if result.ok)
        if retry:
            raise TransientError(f"{len(retry)} stock update(s) failed in store {store.store_id}",
                                 reason="stock_push_incomplete", reasons=sorted({r.reason or "" for r in retry}))
    if not pushed:
        return Outcome.skipped("stale" if stale else "filtered:no_store_sku", unknown_sku=str(unknown))
    return Outcome.applied(pushed=str(pushed), stale=str(stale), unknown_sku=str(unknown))


def failed(results: Sequence[StockUpdateResult]) -> list[StockUpdateResult]:
    return [result for result in results if not result.ok]


def _chunks(items: list, size: int) -> list[list]:
    return [items[start:start + size] for start in range(0, len(items), size)]
