"""Shipment source and sink (ERP), fulfilments and fulfilment payloads (stores): every provider, fake or real,
keeps one contract."""
from __future__ import annotations

from datetime import UTC, datetime

from synchub.models import FulfillmentStatus, Shipment, ShippedLine, StoreFulfillment, Tracking, split_reference

from tests.eventdata import load_json


def test_a_shipped_order_is_reported_once_after_the_watermark(shipment_source) -> None:
    source = shipment_source.adapter
    start = source.shipments_since(None).watermark
    reference, sale = shipment_source.extra["place_order"]()
    shipment_source.extra["ship"](sale)
    changes = source.shipments_since(start)
    [shipment] = [s for s in changes.shipments if s.order_reference == reference]
    assert shipment.carrier == "UPS" and shipment.tracking_numbers and shipment.lines
    assert [s for s in source.shipments_since(changes.watermark).shipments if s.order_reference == reference] == []


def test_closing_an_orders_shipments_happens_once(shipment_sink) -> None:
    reference, _ = shipment_sink.extra["place_order"]()
    store, order_id = split_reference(reference)
    fulfillment = StoreFulfillment(store=store, order_id=order_id, fulfillment_id="conf-1", carrier="UPS",
                                   tracking=(Tracking(number="3PL-1"),), updated_at=datetime.now(UTC))
    assert len(shipment_sink.adapter.close_shipments(fulfillment)) == 1
    assert shipment_sink.adapter.close_shipments(fulfillment) == []


def _shipment(order_id: str, source_id: str, lines: dict[str, int], number: str, complete: bool) -> Shipment:
    return Shipment(source_id=source_id, order_reference=f"conformance:{order_id}", carrier="UPS",
                    tracking=(Tracking(number=number),),
                    lines=tuple(ShippedLine(sku=sku, quantity=qty) for sku, qty in lines.items()),
                    shipped_at=datetime(2026, 11, 21, tzinfo=UTC), complete=complete)


def test_a_partial_shipment_then_the_rest_and_repeats_make_no_second_fulfilment(fulfillments) -> None:
    store = fulfillments.adapter
    order_id = fulfillments.extra["new_order"]({"MUG-CER-01": 2, "CAP-NVY-OS": 1})
    first = store.fulfil(_shipment(order_id, "s1", {"MUG-CER-01": 2}, "PARCEL-1", complete=False))
    assert first is not None and first.created and first.order_status == FulfillmentStatus.PARTIAL
    again = store.fulfil(_shipment(order_id, "s1", {"MUG-CER-01": 2}, "PARCEL-1", complete=False))
    assert again is not None and not again.created and again.fulfillment_id == first.fulfillment_id
    rest = store.fulfil(_shipment(order_id, "s2", {"CAP-NVY-OS": 1}, "PARCEL-2", complete=True))
    assert rest is not None and rest.created and rest.order_status == FulfillmentStatus.FULFILLED
    assert fulfillments.extra["fulfilments"](order_id) == 2


def test_a_published_fulfilment_body_reads_as_a_store_fulfilment(fulfillment_payloads) -> None:
    entity, sample, order_id, numbers = fulfillment_payloads.extra["sample"]
    payload = load_json(sample) if isinstance(sample, str) else sample
    fulfillment = fulfillment_payloads.adapter.fulfillment("conformance", entity, payload)
    assert fulfillment is not None
    assert fulfillment.order_reference == f"conformance:{order_id}" and fulfillment.tracking_numbers == numbers
    assert fulfillment_payloads.adapter.fulfillment("conformance", "customer", {"id": 1}) is None
