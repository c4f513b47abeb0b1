"""Stock reconciliation: repair drift between the ERP's sellable stock and every store.

The planner streams the store's bulk export into a dict and walks the ERP's stock page by page,
so memory grows with the store's SKU count only; it pushes nothing itself. Drifted SKUs go out as
chunk events (through the bus to an SQS queue), and each chunk is applied by its own invocation
with compare-and-swap against the quantity the store had when read, so no invocation comes near
Lambda's time limit at 100,000 SKUs and a store sale in between is never overwritten blindly.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from synchub.errors import TransientError
from synchub.models import EventEnvelope, StockUpdate, topics
from synchub.models.outcome import Outcome
from synchub.ports import DriftItem, EventPublisher, ReconcileReports, StockSource, StoreTarget

CHUNK_TOPIC = topics.RECONCILE_CHUNK.name


@dataclass(frozen=True)
class StoreReconciliation:
    store: str
    checked: int
    drifted: int
    not_in_store: int
    chunks: int


@dataclass(frozen=True)
class ReconcilePlan:
    run_id: str
    dry_run: bool
    stores: tuple[StoreReconciliation, ...]

    @property
    def checked(self) -> int:
        return sum(store.checked for store in self.stores)

    @property
    def drifted(self) -> int:
        return sum(store.drifted for store in self.stores)


def plan_reconciliation(*, run_id: str, erp: StockSource, stores: Sequence[StoreTarget], warehouses: Sequence[str],
                        publisher: EventPublisher, reports: ReconcileReports, safety_buffer: int = 0,
                        chunk_size: int = 1000, page_size: int = 1000, dry_run: bool = False,
                        now: datetime | None = None) -> ReconcilePlan:
    now = now or datetime.now(UTC)
    results = []
    for store in stores:
        store_stock = {(row.sku, row.location_id): (row.available, row.inventory_item_id)
                       for row in store.storefront.read_inventory()}
        checked = not_in_store = 0
        drift: list[DriftItem] = []
        for page in erp.iter_stock(warehouses, page_size):
            for level in page:
                location = store.locations.get(level.warehouse)
                if location is None:
                    continue
                known = store_stock.get((level.sku, location))
                if known is None:
                    not_in_store += 1  # an ERP product this store does not sell
                    continue
                checked += 1
                have, item_id = known
                want = level.sellable(safety_buffer)
                if have != want:
                    drift.append(DriftItem(store=store.store_id, sku=level.sku, location_id=location,
                                           before=have, after=want, status="dry_run" if dry_run else "drifted",
                                           inventory_item_id=item_id))
        chunks = [] if dry_run else [drift[i:i + chunk_size] for i in range(0, len(drift), chunk_size)]
        reports.start_run(run_id, store=store.store_id, checked=checked, drifted=len(drift), chunks=len(chunks),
                          not_in_store=not_in_store, dry_run=dry_run)
        reports.record_drift(run_id, drift)
        if chunks:
            publisher.publish(
                EventEnvelope(event_id=f"{run_id}:{store.store_id}:{index}", source="synchub", store=store.store_id,
                              topic=CHUNK_TOPIC, entity="reconcile_chunk", entity_id=f"{run_id}:{index}",
                              occurred_at=now,
                              payload={"run_id": run_id, "items": [item.model_dump(mode="json") for item in chunk]})
                for index, chunk in enumerate(chunks))
        results.append(StoreReconciliation(store=store.store_id, checked=checked, drifted=len(drift),
                                           not_in_store=not_in_store, chunks=len(chunks)))
    return ReconcilePlan(run_id=run_id, dry_run=dry_run, stores=tuple(results))


def apply_reconcile_chunk(envelope: EventEnvelope, *, stores: Sequence[StoreTarget],
                          reports: ReconcileReports) -> Outcome:
    run_id = envelope.payload["run_id"]
    items = [DriftItem.model_validate(item) for item in envelope.payload.get("items", [])]
    store = next((target for target in stores if target.store_id == envelope.store), None)
    if store is None:
        return Outcome.skipped("filtered:store_not_configured")
    updates = [StockUpdate(sku=item.sku, location_id=item.location_id, available=item.after, expected=item.before,
                           inventory_item_id=item.inventory_item_id) for item in items]
    results = store.storefront.set_available(updates, idempotency_key=envelope.event_id)
    by_key = {(result.sku, result.location_id): result for result in results}
    fixed: list[DriftItem] = []
    failed: list[DriftItem] = []
    for item in items:
        result = by_key.get((item.sku, item.location_id))
        if result is not None and result.ok:
            fixed.append(item.model_copy(update={"status": "fixed"}))
        else:
            reason = result.reason if result is not None else "no_result"
            failed.append(item.model_copy(update={"status": f"failed:{reason}"}))
    transient = [item for item in failed if item.status not in ("failed:unknown_sku",)]
    if transient and len(transient) == len(items):
        raise TransientError(f"no SKU of chunk {envelope.entity_id} could be set", reason="reconcile_chunk_failed")
    reports.record_chunk(run_id, envelope.store, fixed, failed)
    return Outcome.applied(fixed=str(len(fixed)), failed=str(len(failed)))
