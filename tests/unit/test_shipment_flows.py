"""Shipment flows over in-memory ports: one fulfilment per ERP shipment whatever the repeats and crashes,
partial shipments, tracking updates, and one fulfilment master per store (no loop)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from synchub.flows.shipments import (
    WATERMARK_SOURCE,
    fulfilment_to_erp,
    publish_shipments,
    ship_to_store,
)
from synchub.models import EventEnvelope, FulfillmentStatus, Shipment, ShippedLine, Tracking

from tests.fakes import InMemoryMappingStore, RecordingPublisher
from tests.fakes_shipments import FakeFulfillmentPayloads, FakeFulfillmentStore, FakeShipmentErp

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def shipment(source_id: str = "41", *, lines: dict[str, int] | None = None, tracking: tuple[str, ...] = ("1Z999",),
             complete: bool = True, order: str = "main:1001") -> Shipment:
    return Shipment(source_id=source_id, number=f"OUT/{source_id}", order_reference=order, carrier="UPS",
                    tracking=tuple(Tracking(number=n, url=f"https://ups.example/{n}") for n in tracking),
                    lines=tuple(ShippedLine(sku=s, quantity=q) for s, q in (lines or {"TEE-BLK-M": 2}).items()),
                    shipped_at=T0, complete=complete)


def polled(erp: FakeShipmentErp, mappings: InMemoryMappingStore) -> list[EventEnvelope]:
    publisher = RecordingPublisher()
    publish_shipments(erp=erp, mappings=mappings, publisher=publisher, now=T0)
    return publisher.published


def deliver(envelope: EventEnvelope, store: FakeFulfillmentStore, mappings: InMemoryMappingStore,
            master: str = "erp"):
    return ship_to_store(envelope, fulfillments=lambda _: store, master=lambda _: master, mappings=mappings)


@pytest.fixture
def world():
    erp, store, mappings = FakeShipmentErp(), FakeFulfillmentStore(), InMemoryMappingStore()
    store.add_order("1001", {"TEE-BLK-M": 2, "MUG-CER-01": 1})
    return erp, store, mappings


def test_the_poll_publishes_each_shipment_once_and_moves_the_watermark(world):
    erp, _, mappings = world
    erp.ship(shipment("41"))
    [event] = polled(erp, mappings)
    assert event.topic == "shipment.shipped" and event.entity_id == "41"
    assert Shipment.model_validate(event.payload).tracking_numbers == ("1Z999",)
    assert polled(erp, mappings) == []  # the watermark moved: the next poll has nothing new
    assert mappings.get_watermark(WATERMARK_SOURCE) == "1"


def test_a_failed_publish_keeps_the_watermark_so_the_next_poll_repeats(world):
    erp, _, mappings = world
    erp.ship(shipment("41"))
    with pytest.raises(RuntimeError):
        publish_shipments(erp=erp, mappings=mappings, publisher=RecordingPublisher(fail=True), now=T0)
    assert mappings.get_watermark(WATERMARK_SOURCE) is None
    assert len(polled(erp, mappings)) == 1


def test_the_same_shipment_polled_twice_is_one_event_id_and_one_fulfilment(world):
    erp, store, mappings = world
    erp.ship(shipment("41"))
    first = polled(erp, mappings)
    mappings.watermarks.clear()  # an overlap window re-reads it
    second = polled(erp, mappings)
    assert first[0].event_id == second[0].event_id
    assert deliver(first[0], store, mappings).action == "applied"
    assert deliver(second[0], store, mappings).reason == "duplicate"
    assert store.creates == 1 and store.orders["1001"].notified == 1


def test_a_crash_between_the_store_write_and_the_mapping_write_does_not_duplicate(world):
    erp, store, mappings = world
    erp.ship(shipment("41"))
    [event] = polled(erp, mappings)
    store.fail_after_write = True
    with pytest.raises(RuntimeError):
        deliver(event, store, mappings)
    outcome = deliver(event, store, mappings)  # the retry finds the fulfilment by its tracking number
    assert outcome.action == "applied" and outcome.ids["created"] == "false"
    assert store.creates == 1 and len(store.orders["1001"].fulfillments) == 1


def test_a_partial_shipment_then_the_rest_fulfils_the_order_in_two_parcels(world):
    erp, store, mappings = world
    erp.ship(shipment("41", lines={"TEE-BLK-M": 2}, tracking=("1ZA",), complete=False))
    [first] = polled(erp, mappings)
    assert deliver(first, store, mappings).ids["order_status"] == FulfillmentStatus.PARTIAL.value
    assert store.orders["1001"].remaining == {"TEE-BLK-M": 0, "MUG-CER-01": 1}
    erp.ship(shipment("42", lines={"MUG-CER-01": 1}, tracking=("1ZB", "1ZC")))
    [rest] = polled(erp, mappings)
    assert deliver(rest, store, mappings).ids["order_status"] == FulfillmentStatus.FULFILLED.value
    assert sorted(store.orders["1001"].fulfillments.values()) == [("1ZA",), ("1ZB", "1ZC")]


def test_a_tracking_change_in_the_erp_updates_the_fulfilment_instead_of_adding_one(world):
    erp, store, mappings = world
    erp.ship(shipment("41", tracking=("1ZOLD",)))
    erp.ship(shipment("41", tracking=("1ZNEW",)))
    first, changed = polled(erp, mappings)
    assert first.event_id != changed.event_id
    deliver(first, store, mappings)
    outcome = deliver(changed, store, mappings)
    assert outcome.ids["tracking"] == "updated"
    assert list(store.orders["1001"].fulfillments.values()) == [("1ZNEW",)]


def test_nothing_left_to_fulfil_is_skipped(world):
    erp, store, mappings = world
    store.orders["1001"].remaining = {"TEE-BLK-M": 0, "MUG-CER-01": 0}
    erp.ship(shipment("41", tracking=()))
    [event] = polled(erp, mappings)
    assert deliver(event, store, mappings).reason == "filtered:nothing_left_to_fulfil"


def test_a_store_that_ships_itself_takes_no_erp_shipment(world):
    erp, store, mappings = world
    erp.ship(shipment("41"))
    [event] = polled(erp, mappings)
    assert deliver(event, store, mappings, master="store").reason == "filtered:store_is_fulfilment_master"
    assert store.creates == 0


def fulfilment_event(payload: dict, event_id: str = "evt-1") -> EventEnvelope:
    return EventEnvelope(event_id=event_id, source="shopify", store="main", topic="fulfillment.created",
                         entity="fulfillment", entity_id=str(payload["id"]), occurred_at=T0, payload=payload)


def test_a_store_master_fulfilment_closes_the_erp_shipment_exactly_once():
    erp, mappings = FakeShipmentErp(open_orders={"main:1001": ["77"]}), InMemoryMappingStore()
    event = fulfilment_event({"order_id": 1001, "id": 5, "tracking": ["TNT1"]})
    first = fulfilment_to_erp(event, payloads=FakeFulfillmentPayloads(), shipments=erp, master="store",
                              mappings=mappings)
    again = fulfilment_to_erp(event, payloads=FakeFulfillmentPayloads(), shipments=erp, master="store",
                              mappings=mappings)
    assert first.ids == {"erp": "77"} and again.reason == "duplicate"
    assert [(shipment_id, f.tracking_numbers) for shipment_id, f in erp.closed] == [("77", ("TNT1",))]


def test_an_erp_master_store_never_closes_erp_shipments_from_its_webhooks():
    erp, mappings = FakeShipmentErp(open_orders={"main:1001": ["77"]}), InMemoryMappingStore()
    outcome = fulfilment_to_erp(fulfilment_event({"order_id": 1001, "id": 5}), payloads=FakeFulfillmentPayloads(),
                                shipments=erp, master="erp", mappings=mappings)
    assert outcome.reason == "filtered:erp_is_fulfilment_master" and erp.closed == []


def test_our_own_fulfilment_coming_back_as_a_webhook_is_an_echo(world):
    erp, store, mappings = world
    erp.ship(shipment("41"))
    [event] = polled(erp, mappings)
    written = deliver(event, store, mappings)
    echo = fulfilment_event({"order_id": 1001, "id": written.ids["main"], "tracking": ["1Z999"]})
    # Even were the store's master switched to "store" later, the fulfilment we wrote is never applied back.
    outcome = fulfilment_to_erp(echo, payloads=FakeFulfillmentPayloads(), shipments=erp, master="store",
                                mappings=mappings)
    assert outcome.reason == "echo" and erp.closed == []


def test_a_cancelled_store_fulfilment_closes_nothing():
    erp, mappings = FakeShipmentErp(open_orders={"main:1001": ["77"]}), InMemoryMappingStore()
    outcome = fulfilment_to_erp(fulfilment_event({"order_id": 1001, "id": 5, "status": "cancelled"}),
                                payloads=FakeFulfillmentPayloads(), shipments=erp, master="store", mappings=mappings)
    assert outcome.reason == "filtered:fulfilment_cancelled" and erp.closed == []


def test_a_shipment_of_a_store_not_configured_here_is_skipped(world):
    erp, store, mappings = world
    erp.ship(shipment("41", order="pos:77"))
    [event] = polled(erp, mappings)
    outcome = ship_to_store(event, fulfillments=lambda _: store, master=lambda _: None, mappings=mappings)
    assert outcome.reason == "filtered:unknown_store" and store.creates == 0


def test_a_new_deployments_first_poll_sends_only_the_last_days_shipments_not_the_erps_history(world):
    erp, _, mappings = world
    erp.ship(shipment("7").model_copy(update={"shipped_at": T0 - timedelta(days=400)}))  # shipped before SyncHub
    erp.ship(shipment("41").model_copy(update={"shipped_at": T0 - timedelta(hours=2)}))
    assert [event.entity_id for event in polled(erp, mappings)] == ["41"]
    assert mappings.get_watermark(WATERMARK_SOURCE) is not None  # past the history: it is never sent
    erp.ship(shipment("42").model_copy(update={"shipped_at": T0 - timedelta(days=3)}))  # stamped late, shipped now
    assert [event.entity_id for event in polled(erp, mappings)] == ["42"]  # after the first poll, all count
