"""TrytonShipments against a real Tryton 7.0: done customer shipments published with carrier, tracking and
shipped quantities, by watermark; partial shipments and their back-orders; store-side fulfilments closing
the open shipment once."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from synchub.connectors.tryton.erp import TrytonErp
from synchub.connectors.tryton.shipments import TrytonShipments
from synchub.models import ShippedLine, StoreFulfillment, Tracking

from infra.local.vendors.tryton_warehouse import open_shipment, ship
from tests.e2e.test_tryton_erp import new_order, place

pytestmark = pytest.mark.e2e


@pytest.fixture
def shipments(tryton_erp: TrytonErp) -> TrytonShipments:
    return TrytonShipments(tryton_erp.client)


def ordered(order) -> dict[str, int]:
    quantities: dict[str, int] = {}
    for line in order.lines:
        if line.sku:
            quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
    return quantities


def mine(changes, reference: str):
    return [shipment for shipment in changes.shipments if shipment.order_reference == reference]


def test_a_done_shipment_is_published_once_with_carrier_tracking_and_quantities(tryton_erp, shipments):
    start = shipments.shipments_since(None).watermark
    order = new_order()
    sale = place(tryton_erp, order)
    shipment_id = ship(tryton_erp.client, int(sale.id), carrier="UPS", reference="1Z999AA10123456784")

    changes = shipments.shipments_since(start)
    [shipment] = mine(changes, order.store_reference)
    assert shipment.source_id == str(shipment_id) and shipment.carrier == "UPS"
    assert shipment.tracking == (Tracking(number="1Z999AA10123456784"),)
    assert {line.sku: line.quantity for line in shipment.lines} == ordered(order)
    assert shipment.complete
    assert mine(shipments.shipments_since(changes.watermark), order.store_reference) == []  # polled twice: once


def test_a_partial_shipment_then_the_back_order(tryton_erp, shipments):
    start = shipments.shipments_since(None).watermark
    order = new_order()
    first_sku = next(line.sku for line in order.lines if line.sku)
    sale = place(tryton_erp, order)
    ship(tryton_erp.client, int(sale.id), reference="PART-1", quantities={first_sku: 1})
    changes = shipments.shipments_since(start)
    [partial] = mine(changes, order.store_reference)
    assert partial.lines == (ShippedLine(sku=first_sku, quantity=1),) and not partial.complete

    ship(tryton_erp.client, int(sale.id), carrier="DHL Express", reference="REST-2")  # the back-order
    [rest] = mine(shipments.shipments_since(changes.watermark), order.store_reference)
    assert rest.complete and rest.carrier == "DHL Express" and rest.tracking_numbers == ("REST-2",)
    shipped: dict[str, int] = {}
    for line in (*partial.lines, *rest.lines):
        shipped[line.sku] = shipped.get(line.sku, 0) + line.quantity
    assert shipped == ordered(order)


def test_a_tracking_change_after_done_is_published_again(tryton_erp, shipments):
    start = shipments.shipments_since(None).watermark
    order = new_order()
    sale = place(tryton_erp, order)
    shipment_id = ship(tryton_erp.client, int(sale.id), reference="OLD-1")
    changes = shipments.shipments_since(start)
    tryton_erp.client.model("stock.shipment.out", "write", [shipment_id], {"shipping_reference": "NEW-1"})
    [again] = mine(shipments.shipments_since(changes.watermark), order.store_reference)
    assert again.tracking_numbers == ("NEW-1",)


def test_a_store_fulfilment_closes_the_open_shipment_once(tryton_erp, shipments):
    order = new_order()
    place(tryton_erp, order)
    fulfillment = StoreFulfillment(store=order.store, order_id=order.source_id, fulfillment_id="wc-1",
                                   carrier="UPS", tracking=(Tracking(number="3PL-777"),),
                                   updated_at=datetime.now(UTC))
    closed = shipments.close_shipments(fulfillment)
    assert len(closed) == 1
    row, = tryton_erp.client.model("stock.shipment.out", "read", [int(closed[0])],
                                   ["state", "shipping_reference", "carrier"])
    assert row["state"] == "done" and row["shipping_reference"] == "3PL-777" and row["carrier"]
    assert shipments.close_shipments(fulfillment) == []  # a repeat closes nothing
    assert tryton_erp.find_sales_order(order.store_reference).state in ("processing", "done")


def test_several_parcels_are_the_packages_shipping_references(tryton_erp, shipments):
    """stock_package_shipping: each package of the shipment carries its parcel's tracking reference."""
    client = tryton_erp.client
    start = shipments.shipments_since(None).watermark
    order = new_order()
    sale = place(tryton_erp, order)
    row = open_shipment(client, int(sale.id))
    shipment_id = row["id"]
    if row["state"] == "draft":
        client.model("stock.shipment.out", "wait", [shipment_id])
    carrier, = client.model("carrier", "search", [("party.name", "=", "UPS")], 0, 1, None)
    client.model("stock.shipment.out", "write", [shipment_id], {"carrier": carrier})
    if not client.model("stock.shipment.out", "assign_try", [shipment_id]):
        client.model("stock.shipment.out", "assign_force", [shipment_id])
    client.model("stock.shipment.out", "pick", [shipment_id])
    client.model("stock.shipment.out", "pack", [shipment_id])
    moves = client.model("stock.shipment.out", "read", [shipment_id], ["outgoing_moves"])[0]["outgoing_moves"]
    box = (client.model("stock.package.type", "search", [("name", "=", "Box")], 0, 1, None)
           or client.model("stock.package.type", "create", [{"name": "Box"}]))[0]
    halves = [moves[: len(moves) // 2 or 1], moves[len(moves) // 2 or 1:]]
    for number, part in zip(("PARCEL-1", "PARCEL-2"), halves, strict=True):
        client.model("stock.package", "create", [{"shipment": f"stock.shipment.out,{shipment_id}", "type": box,
                                                  "shipping_reference": number, "moves": [["add", part]]}])
    client.model("stock.shipment.out", "done", [shipment_id])

    [shipment] = mine(shipments.shipments_since(start), order.store_reference)
    assert shipment.tracking_numbers == ("PARCEL-1", "PARCEL-2")
