"""In-memory stand-ins for the shipment capabilities: an ERP with customer shipments, and a store that keeps
fulfilments per order with what is left to ship. Same contracts as the real adapters (tests/conformance)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from synchub.models import FulfillmentStatus, Shipment, StoreFulfillment
from synchub.ports import FulfillmentResult, ShipmentChanges


@dataclass
class FakeShipmentErp:
    """Done shipments in the order they were done; open shipments per order reference."""

    done: list[Shipment] = field(default_factory=list)
    open_orders: dict[str, list[str]] = field(default_factory=dict)  # order reference -> open shipment ids
    closed: list[tuple[str, StoreFulfillment]] = field(default_factory=list)

    def ship(self, shipment: Shipment) -> None:
        self.done.append(shipment)

    def shipments_since(self, since: str | None) -> ShipmentChanges:
        start = int(since or 0)
        return ShipmentChanges(shipments=tuple(self.done[start:]), watermark=str(len(self.done)))

    def close_shipments(self, fulfillment: StoreFulfillment) -> list[str]:
        ids = self.open_orders.pop(fulfillment.order_reference, [])
        self.closed += [(shipment_id, fulfillment) for shipment_id in ids]
        return ids


@dataclass
class FakeOrder:
    remaining: dict[str, int]
    fulfillments: dict[str, tuple[str, ...]] = field(default_factory=dict)  # id -> tracking numbers
    total: int = 0
    notified: int = 0


class FakeFulfillmentStore:
    def __init__(self) -> None:
        self.orders: dict[str, FakeOrder] = {}
        self.creates = 0
        self.fail_after_write = False  # the store writes, then the caller dies before our mapping write

    def add_order(self, order_id: str, lines: dict[str, int]) -> None:
        self.orders[order_id] = FakeOrder(dict(lines), total=sum(lines.values()))

    def status(self, order_id: str) -> FulfillmentStatus:
        order = self.orders[order_id]
        left = sum(order.remaining.values())
        if left == 0:
            return FulfillmentStatus.FULFILLED
        return FulfillmentStatus.PARTIAL if left < order.total else FulfillmentStatus.UNFULFILLED

    def fulfil(self, shipment: Shipment) -> FulfillmentResult | None:
        order = self.orders[shipment.order_id]
        for fulfillment_id, numbers in order.fulfillments.items():
            if set(numbers) & set(shipment.tracking_numbers):
                return FulfillmentResult(fulfillment_id=fulfillment_id, created=False,
                                         order_status=self.status(shipment.order_id))
        take: dict[str, int] = defaultdict(int)
        for line in shipment.lines:
            take[line.sku] += min(line.quantity, order.remaining.get(line.sku, 0) - take[line.sku])
        if not any(take.values()):
            return None
        for sku, quantity in take.items():
            order.remaining[sku] -= quantity
        self.creates += 1
        fulfillment_id = f"f-{self.creates}"
        order.fulfillments[fulfillment_id] = shipment.tracking_numbers
        order.notified += 1
        if self.fail_after_write:
            self.fail_after_write = False
            raise RuntimeError("function died after the store wrote the fulfilment")
        return FulfillmentResult(fulfillment_id=fulfillment_id, created=True,
                                 order_status=self.status(shipment.order_id))

    def update_tracking(self, fulfillment_id: str, shipment: Shipment) -> None:
        order = self.orders[shipment.order_id]
        order.fulfillments[fulfillment_id] = shipment.tracking_numbers


class FakeFulfillmentPayloads:
    """Payloads shaped {"order_id", "id", "status", "tracking": [..], "lines": {sku: qty}}."""

    def fulfillment(self, store_id: str, entity: str, payload: dict) -> StoreFulfillment | None:
        if entity != "fulfillment":
            return None
        from synchub.models import ShippedLine, Tracking

        return StoreFulfillment(store=store_id, order_id=str(payload["order_id"]), fulfillment_id=str(payload["id"]),
                                status=payload.get("status", "success"),
                                tracking=tuple(Tracking(number=n) for n in payload.get("tracking", ())),
                                lines=tuple(ShippedLine(sku=s, quantity=q) for s, q in payload.get("lines", {}).items()),
                                updated_at=datetime.fromisoformat(payload.get("updated_at", "2026-01-01T00:00:00+00:00"))
                                .astimezone(UTC))
