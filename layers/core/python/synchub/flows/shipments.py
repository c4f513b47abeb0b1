"""Shipment flows: what the fulfilment master ships reaches the other side once, with its tracking.

- ERP master (the default): the shipment poll publishes every customer shipment the ERP marked done since
  its watermark (exactly as the stock poll: the watermark moves only after publishing); `ship_to_store`
  fulfils just the shipped lines on the store order with carrier, tracking number and URL, customer
  notified. The store is searched for the shipment before any create, so a repeat or a crash between the
  store write and our mapping write never makes a second fulfilment; a later tracking change is an update.
- Store master (a store that ships itself or through a 3PL): the store's fulfilment webhooks (or an order
  it reports completed) close the ERP shipments, with the store's tracking, once.

One store has one master, so a fulfilment we wrote coming back as a webhook is skipped, never re-applied.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from synchub.flows.leases import exclusive
from synchub.models import EventEnvelope, Shipment, topics
from synchub.models.outcome import Outcome, content_hash
from synchub.ports import (
    EventPublisher,
    FulfillmentPayloads,
    Fulfillments,
    MappingStore,
    ShipmentSink,
    ShipmentSource,
)

WATERMARK_SOURCE = "erp_shipments"
FIRST_POLL_LOOKBACK = timedelta(days=1)  # what a new deployment's first poll still sends to the stores
SHIPMENT_ENTITY = "shipment"  # key: Shipment.key (the ERP shipment); ids: store id -> fulfilment id
FULFILLMENT_ENTITY = "fulfillment"  # key: StoreFulfillment.key; ids: "erp" -> closed shipment ids, "origin"
ERP_MASTER, STORE_MASTER = "erp", "store"
ECHO = "echo"


@dataclass(frozen=True)
class ShipmentPollResult:
    shipments: int
    since: str | None
    watermark: str


def publish_shipments(*, erp: ShipmentSource, mappings: MappingStore, publisher: EventPublisher,
                      now: datetime | None = None,
                      first_lookback: timedelta = FIRST_POLL_LOOKBACK) -> ShipmentPollResult:
    """Publish the shipments the ERP marked done since the watermark. The first poll of a deployment (no
    watermark yet) publishes only what shipped within `first_lookback`: the ERP's history was fulfilled
    before SyncHub, and replaying years of shipments into the stores would notify every past customer."""
    since = mappings.get_watermark(WATERMARK_SOURCE)
    changes = erp.shipments_since(since)
    now = now or datetime.now(UTC)
    shipments = changes.shipments if since is not None else tuple(
        shipment for shipment in changes.shipments if shipment.shipped_at >= now - first_lookback)
    envelopes = [
        # The event id names the shipment and what it says: the same shipment polled twice is one event
        # (dropped as a duplicate); a tracking change is a new one.
        EventEnvelope(event_id=f"shipment:{shipment.source_id}:{content_hash(written(shipment))[:16]}",
                      source="erp", store="erp", topic=topics.SHIPMENT_SHIPPED.name,
                      entity=topics.SHIPMENT_SHIPPED.entity, entity_id=shipment.source_id, occurred_at=now,
                      payload=shipment.model_dump(mode="json"))
        for shipment in shipments
    ]
    if envelopes:
        publisher.publish(envelopes)  # raises on any failed entry: the watermark stays put
    mappings.set_watermark(WATERMARK_SOURCE, changes.watermark)
    return ShipmentPollResult(shipments=len(envelopes), since=since, watermark=changes.watermark)


def written(shipment: Shipment) -> dict[str, object]:
    """What a store fulfilment carries of a shipment: a change here is a tracking update."""
    return {"carrier": shipment.carrier, "tracking": [parcel.model_dump(mode="json") for parcel in shipment.tracking]}


def ship_to_store(envelope: EventEnvelope, *, fulfillments: Callable[[str], Fulfillments],
                  master: Callable[[str], str | None], mappings: MappingStore) -> Outcome:
    """One ERP shipment becomes one fulfilment of its store order (or updates the one written before).
    `master` names a store's fulfilment master, None for a store not configured here (an ERP sale from
    another channel), whose shipments are none of our business."""
    shipment = Shipment.model_validate(envelope.payload)
    store = shipment.store
    owner = master(store)
    if owner is None:
        return Outcome.skipped("filtered:unknown_store", store=store)
    if owner != ERP_MASTER:
        return Outcome.skipped("filtered:store_is_fulfilment_master", store=store)
    digest = content_hash(written(shipment))
    with exclusive(mappings, "shipment:store", shipment.key, owner=envelope.event_id):
        known = mappings.get(SHIPMENT_ENTITY, shipment.key)
        if known is not None and store in known.ids:
            if known.written.get(store) == digest:
                return Outcome.skipped("duplicate", **{store: known.ids[store]})
            fulfillments(store).update_tracking(known.ids[store], shipment)
            mappings.remember_written(SHIPMENT_ENTITY, shipment.key, store, digest)
            return Outcome.applied(**{store: known.ids[store], "tracking": "updated"})
        result = fulfillments(store).fulfil(shipment)
        if result is None:
            return Outcome.skipped("filtered:nothing_left_to_fulfil", store=store)
        mappings.link(SHIPMENT_ENTITY, shipment.key, store, result.fulfillment_id)
        mappings.remember_written(SHIPMENT_ENTITY, shipment.key, store, digest)
        # The store reports this fulfilment back (fulfillments/create): remembered as ours, it is an echo.
        mappings.link(FULFILLMENT_ENTITY, f"{store}:{result.fulfillment_id}", "origin", ERP_MASTER)
        return Outcome.applied(**{store: result.fulfillment_id, "order_status": result.order_status.value,
                                  "created": str(result.created).lower()})


def fulfilment_to_erp(envelope: EventEnvelope, *, payloads: FulfillmentPayloads, shipments: ShipmentSink,
                      master: str, mappings: MappingStore) -> Outcome:
    """A store's own fulfilment (or order completed by its 3PL) closes the ERP shipment, once."""
    fulfillment = payloads.fulfillment(envelope.store, envelope.entity, envelope.payload)
    if fulfillment is None:
        return Outcome.skipped("filtered:not_a_fulfilment")
    known = mappings.get(FULFILLMENT_ENTITY, fulfillment.key)
    if known is not None and known.ids.get("origin") == ERP_MASTER:
        return Outcome.skipped(ECHO)  # the fulfilment SyncHub wrote from an ERP shipment
    if master != STORE_MASTER:
        # The ERP ships this store's orders: a store-side fulfilment must not close ERP shipments (no loop).
        return Outcome.skipped("filtered:erp_is_fulfilment_master")
    if fulfillment.status != "success":
        return Outcome.skipped(f"filtered:fulfilment_{fulfillment.status}")
    if known is not None and "erp" in known.ids:
        return Outcome.skipped("duplicate", erp=known.ids["erp"])
    if not mappings.claim_version(FULFILLMENT_ENTITY, fulfillment.key, fulfillment.updated_at, scope="erp"):
        return Outcome.skipped("stale")
    with exclusive(mappings, "shipment:erp", fulfillment.order_reference, owner=envelope.event_id):
        closed = shipments.close_shipments(fulfillment)  # a shipment already done is never closed twice
        mappings.link(FULFILLMENT_ENTITY, fulfillment.key, "erp", ",".join(closed) or "-")
    if not closed:
        return Outcome.skipped("filtered:nothing_open_in_erp")
    return Outcome.applied(erp=",".join(closed))
