"""Stock flows: ERP changes reach each store as sellable quantities; reconciliation repairs drift."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from synchub.flows.inventory import WATERMARK_SOURCE, StoreTarget, publish_stock_changes, push_stock
from synchub.flows.reconcile import CHUNK_TOPIC, apply_reconcile_chunk, plan_reconciliation
from synchub.models import StockLevel

from tests.fakes import FakeErp, FakeStorefront, InMemoryMappingStore, InMemoryReports, RecordingPublisher

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LOCATIONS = {"WH": "gid://shopify/Location/1"}
LOC = LOCATIONS["WH"]


def level(sku: str, on_hand: int, reserved: int = 0, minutes: int = 0) -> StockLevel:
    return StockLevel(sku=sku, warehouse="WH", on_hand=on_hand, reserved=reserved,
                      updated_at=T0 + timedelta(minutes=minutes))


def test_poll_publishes_changes_and_moves_the_watermark():
    erp = FakeErp(stock=[level("MUG-CER-01", 300, 2, minutes=1), level("CAP-NVY-OS", 65, minutes=2)])
    mappings, publisher = InMemoryMappingStore(), RecordingPublisher()

    result = publish_stock_changes(erp=erp, mappings=mappings, publisher=publisher, warehouses=["WH"])

    assert result.changed == 2
    [event] = publisher.published
    assert event.topic == "stock.changed"
    assert {item["sku"] for item in event.payload["levels"]} == {"MUG-CER-01", "CAP-NVY-OS"}
    assert mappings.get_watermark(WATERMARK_SOURCE) == (T0 + timedelta(minutes=2)).isoformat()


def test_failed_publish_leaves_the_watermark_so_the_next_run_repeats():
    erp = FakeErp(stock=[level("MUG-CER-01", 300, minutes=1)])
    mappings, publisher = InMemoryMappingStore(), RecordingPublisher(fail=True)
    mappings.set_watermark(WATERMARK_SOURCE, T0.isoformat())

    with pytest.raises(RuntimeError):
        publish_stock_changes(erp=erp, mappings=mappings, publisher=publisher, warehouses=["WH"])

    assert mappings.get_watermark(WATERMARK_SOURCE) == T0.isoformat()
    publisher.fail = False
    result = publish_stock_changes(erp=erp, mappings=mappings, publisher=publisher, warehouses=["WH"])
    assert result.changed == 1


def stock_event(*levels: StockLevel, event_id: str = "stock:1"):
    from synchub.models import EventEnvelope

    return EventEnvelope(event_id=event_id, source="erp", store="erp", topic="stock.changed", entity="stock",
                         entity_id="0", occurred_at=T0,
                         payload={"levels": [item.model_dump(mode="json") for item in levels]})


def test_push_sets_sellable_quantity_minus_reserved_and_buffer_never_below_zero():
    store = FakeStorefront({("MUG-CER-01", LOC): 300, ("CAP-NVY-OS", LOC): 10})
    target = StoreTarget("main", store, LOCATIONS)

    push_stock(stock_event(level("MUG-CER-01", 300, reserved=7), level("CAP-NVY-OS", 3, reserved=2)),
               stores=[target], mappings=InMemoryMappingStore(), safety_buffer=2)

    assert store.available[("MUG-CER-01", LOC)] == 291
    assert store.available[("CAP-NVY-OS", LOC)] == 0


def test_older_stock_level_arriving_late_is_not_applied_over_a_newer_one():
    store = FakeStorefront({("MUG-CER-01", LOC): 300})
    target, mappings = StoreTarget("main", store, LOCATIONS), InMemoryMappingStore()

    push_stock(stock_event(level("MUG-CER-01", 250, minutes=5), event_id="new"), stores=[target], mappings=mappings)
    outcome = push_stock(stock_event(level("MUG-CER-01", 280, minutes=1), event_id="old"), stores=[target],
                         mappings=mappings)

    assert outcome.reason == "stale"
    assert store.available[("MUG-CER-01", LOC)] == 250


def test_erp_product_the_store_does_not_sell_is_skipped_not_failed():
    store = FakeStorefront({("MUG-CER-01", LOC): 1})
    outcome = push_stock(stock_event(level("NOT-IN-STORE", 5), level("MUG-CER-01", 9)),
                         stores=[StoreTarget("main", store, LOCATIONS)], mappings=InMemoryMappingStore())

    assert outcome.action == "applied"
    assert outcome.ids["unknown_sku"] == "1"
    assert store.available[("MUG-CER-01", LOC)] == 9


def catalogue(n: int, drift_every: int):
    erp_levels = [level(f"SKU-{i:06d}", 100 + i % 7, reserved=i % 3) for i in range(n)]
    store = {(item.sku, LOC): item.sellable() + (5 if i % drift_every == 0 else 0)
             for i, item in enumerate(erp_levels)}
    return FakeErp(stock=erp_levels), FakeStorefront(store)


def test_reconciliation_pushes_only_the_drifted_skus_in_chunks_and_repairs_them():
    erp, store = catalogue(1000, drift_every=50)  # 2% drift
    target, publisher, reports = StoreTarget("main", store, LOCATIONS), RecordingPublisher(), InMemoryReports()

    plan = plan_reconciliation(run_id="r1", erp=erp, stores=[target], warehouses=["WH"], publisher=publisher,
                               reports=reports, chunk_size=8, page_size=100)

    assert (plan.checked, plan.drifted) == (1000, 20)
    assert [event.topic for event in publisher.published] == [CHUNK_TOPIC] * 3
    for event in publisher.published:
        apply_reconcile_chunk(event, stores=[target], reports=reports)
    assert all(store.available[(item.sku, LOC)] == item.sellable() for item in erp.stock.values())
    assert reports.runs["r1/main"]["fixed"] == 20
    assert store.calls.count("set_available") == 3


def test_dry_run_reports_drift_and_changes_nothing():
    erp, store = catalogue(200, drift_every=10)
    before = dict(store.available)
    publisher, reports = RecordingPublisher(), InMemoryReports()

    plan = plan_reconciliation(run_id="dry", erp=erp, stores=[StoreTarget("main", store, LOCATIONS)],
                               warehouses=["WH"], publisher=publisher, reports=reports, dry_run=True)

    assert plan.drifted == 20
    assert publisher.published == []
    assert store.available == before
    assert {item.status for item in reports.drift.values()} == {"dry_run"}
