"""The Shopify sandbox's orders and fulfilments: orders seeded from their webhook body, one fulfilment order
per order at the shop's first location, `fulfillmentCreate` and `fulfillmentTrackingInfoUpdate` with the
documented input shapes and userErrors, and the order's fulfilment status moving as Shopify's does
(UNFULFILLED, PARTIALLY_FULFILLED, FULFILLED; REST `fulfillment_status` null, "partial", "fulfilled").

The sandbox sends no webhooks (none of its writes does); instead each fulfilment leaves in `outbox` the
`fulfillments/create` and `orders/updated` bodies Shopify would deliver, for a test to deliver.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infra.local.sandboxes.shopify_store import gid, now, parse_gid

# Tracking pages Shopify builds for carriers it knows when no URL is given (as in Shopify's own fixtures).
TRACKING_PAGES = {"UPS": "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums={}",
                  "USPS": "https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1={}",
                  "TNT": "https://www.tnt.com/express/en_us/site/tracking.html?searchType=con&cons={}"}


@dataclass
class LineItem:
    id: int
    sku: str | None
    name: str
    quantity: int


@dataclass
class FulfillmentOrderLine:
    id: int
    line_item_id: int
    total: int
    remaining: int


@dataclass
class FulfillmentOrder:
    id: int
    order_id: int
    location_id: int | None
    lines: list[FulfillmentOrderLine]
    status: str = "OPEN"


@dataclass
class TrackingInfo:
    company: str | None
    number: str | None
    url: str | None


@dataclass
class Fulfillment:
    id: int
    order_id: int
    name: str
    lines: list[tuple[int, int]]  # (line item id, quantity)
    tracking: list[TrackingInfo]
    notify_customer: bool
    status: str = "SUCCESS"
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class Order:
    id: int
    name: str
    line_items: dict[int, LineItem]
    payload: dict[str, Any]  # the REST body it was seeded from, for the webhooks it would send
    fulfillment_order_ids: list[int] = field(default_factory=list)
    fulfillment_ids: list[int] = field(default_factory=list)


class UserErrors(Exception):
    def __init__(self, field_path: list[str] | None, message: str) -> None:
        super().__init__(message)
        self.error = {"field": field_path, "message": message}


class OrderBook:
    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}
        self.fulfillment_orders: dict[int, FulfillmentOrder] = {}
        self.fo_lines: dict[int, FulfillmentOrderLine] = {}
        self.fulfillments: dict[int, Fulfillment] = {}
        self.outbox: list[tuple[str, dict[str, Any]]] = []  # (webhook topic, body) Shopify would send
        self.notifications: list[dict[str, Any]] = []  # shipping confirmations e-mailed to customers
        self._next = {"FulfillmentOrder": 6_400_000_000_000, "FulfillmentOrderLineItem": 14_000_000_000_000,
                      "Fulfillment": 5_100_000_000_000}

    def _id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind]

    # -- seeding ------------------------------------------------------------------------------------
    def add_order(self, payload: dict[str, Any], location_id: int | None) -> Order:
        order_id = int(payload["id"])
        items = {int(line["id"]): LineItem(int(line["id"]), line.get("sku") or None,
                                           line.get("name") or line.get("title") or "",
                                           int(line.get("quantity") or 0))
                 for line in payload.get("line_items") or ()}
        order = Order(order_id, str(payload.get("name") or f"#{order_id}"), items, copy.deepcopy(payload))
        fo = FulfillmentOrder(self._id("FulfillmentOrder"), order_id, location_id, [])
        for item in items.values():
            line = FulfillmentOrderLine(self._id("FulfillmentOrderLineItem"), item.id, item.quantity, item.quantity)
            fo.lines.append(line)
            self.fo_lines[line.id] = line
        self.fulfillment_orders[fo.id] = fo
        order.fulfillment_order_ids.append(fo.id)
        self.orders[order_id] = order
        return order

    # -- reads --------------------------------------------------------------------------------------
    def display_status(self, order: Order) -> str:
        lines = [line for fo_id in order.fulfillment_order_ids for line in self.fulfillment_orders[fo_id].lines]
        remaining = sum(line.remaining for line in lines)
        if remaining == 0 and lines:
            return "FULFILLED"
        if remaining < sum(line.total for line in lines):
            return "PARTIALLY_FULFILLED"
        return "UNFULFILLED"

    def rest_fulfillment_status(self, order: Order) -> str | None:
        return {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(self.display_status(order))

    def order_of(self, number: int | None) -> Order | None:
        return self.orders.get(number or -1)

    # -- mutations ----------------------------------------------------------------------------------
    def create_fulfillment(self, data: dict[str, Any]) -> Fulfillment:
        groups = data.get("lineItemsByFulfillmentOrder") or []
        if not groups:
            raise UserErrors(["fulfillment", "lineItemsByFulfillmentOrder"],
                             "Line items by fulfillment order must not be empty.")
        plan: list[tuple[FulfillmentOrderLine, int]] = []
        orders = set()
        for index, group in enumerate(groups):
            number = parse_gid(group.get("fulfillmentOrderId"), "FulfillmentOrder")
            fo = self.fulfillment_orders.get(number or -1)
            if fo is None:
                raise UserErrors(["fulfillment", "lineItemsByFulfillmentOrder", str(index), "fulfillmentOrderId"],
                                 "Fulfillment order does not exist.")
            if fo.status not in ("OPEN", "IN_PROGRESS"):
                raise UserErrors(["fulfillment"], f"Fulfillment order {fo.id} has an unfulfillable status= "
                                                  f"{fo.status.lower()}.")
            orders.add(fo.order_id)
            wanted = group.get("fulfillmentOrderLineItems")
            if wanted is None:  # blank: everything left on the fulfilment order
                plan += [(line, line.remaining) for line in fo.lines if line.remaining]
                continue
            for item in wanted:
                line = self.fo_lines.get(parse_gid(item.get("id"), "FulfillmentOrderLineItem") or -1)
                if line is None or line not in fo.lines:
                    raise UserErrors(["fulfillment"], "Invalid fulfillment order line item id.")
                quantity = int(item.get("quantity") or 0)
                if quantity <= 0 or quantity > line.remaining:
                    raise UserErrors(["fulfillment"], "Invalid fulfillment order line item quantity requested.")
                plan.append((line, quantity))
        if len(orders) != 1:
            raise UserErrors(["fulfillment"], "Fulfillment orders must belong to the same order.")
        if not plan:
            raise UserErrors(["fulfillment"], "Fulfillment has no line items to fulfill.")
        order = self.orders[orders.pop()]
        for line, quantity in plan:
            line.remaining -= quantity
        for fo_id in order.fulfillment_order_ids:
            fo = self.fulfillment_orders[fo_id]
            if fo.status in ("OPEN", "IN_PROGRESS"):
                fo.status = "CLOSED" if all(line.remaining == 0 for line in fo.lines) else (
                    "IN_PROGRESS" if any(line.remaining < line.total for line in fo.lines) else "OPEN")
        fulfillment = Fulfillment(self._id("Fulfillment"), order.id, f"{order.name}.{len(order.fulfillment_ids) + 1}",
                                  [(line.line_item_id, quantity) for line, quantity in plan],
                                  tracking_infos(data.get("trackingInfo")), bool(data.get("notifyCustomer")))
        self.fulfillments[fulfillment.id] = fulfillment
        order.fulfillment_ids.append(fulfillment.id)
        self._emit(order, fulfillment, "fulfillments/create")
        return fulfillment

    def update_tracking(self, fulfillment_id: str, tracking: dict[str, Any], notify: bool | None) -> Fulfillment:
        fulfillment = self.fulfillments.get(parse_gid(fulfillment_id, "Fulfillment") or -1)
        if fulfillment is None:
            raise UserErrors(["fulfillmentId"], "Fulfillment does not exist.")
        if fulfillment.status in ("CANCELLED", "ERROR", "FAILURE"):
            raise UserErrors(["fulfillmentId"], "Tracking can't be updated on a cancelled fulfillment.")
        fulfillment.tracking = tracking_infos(tracking)
        fulfillment.updated_at = now()
        if notify is not None:
            fulfillment.notify_customer = notify
        self._emit(self.orders[fulfillment.order_id], fulfillment, "fulfillments/update")
        return fulfillment

    # -- what Shopify would send ------------------------------------------------------------------------
    def rest_fulfillment(self, fulfillment: Fulfillment) -> dict[str, Any]:
        order = self.orders[fulfillment.order_id]
        first = fulfillment.tracking[0] if fulfillment.tracking else TrackingInfo(None, None, None)
        return {
            "id": fulfillment.id, "order_id": order.id, "status": fulfillment.status.lower(),
            "created_at": fulfillment.created_at.isoformat(), "updated_at": fulfillment.updated_at.isoformat(),
            "service": "manual", "tracking_company": first.company, "shipment_status": None,
            "tracking_number": first.number, "tracking_numbers": [t.number for t in fulfillment.tracking if t.number],
            "tracking_url": first.url, "tracking_urls": [t.url for t in fulfillment.tracking if t.url],
            "line_items": [{"id": item_id, "sku": order.line_items[item_id].sku, "quantity": quantity,
                            "name": order.line_items[item_id].name} for item_id, quantity in fulfillment.lines],
            "name": fulfillment.name, "admin_graphql_api_id": gid("Fulfillment", fulfillment.id)}

    def _emit(self, order: Order, fulfillment: Fulfillment, topic: str) -> None:
        body = self.rest_fulfillment(fulfillment)
        self.outbox.append((topic, body))
        if fulfillment.notify_customer:
            self.notifications.append({"order_id": order.id, "fulfillment_id": fulfillment.id, "topic": topic,
                                       "tracking_numbers": body["tracking_numbers"]})
        updated = copy.deepcopy(order.payload)
        updated["fulfillment_status"] = self.rest_fulfillment_status(order)
        updated["fulfillments"] = [self.rest_fulfillment(self.fulfillments[i]) for i in order.fulfillment_ids]
        updated["updated_at"] = fulfillment.updated_at.isoformat()
        self.outbox.append(("orders/updated", updated))


def tracking_infos(data: dict[str, Any] | None) -> list[TrackingInfo]:
    """FulfillmentTrackingInput to tracking infos: `numbers`/`urls` win over `number`/`url`."""
    if not data:
        return []
    company = data.get("company") or None
    numbers = list(data.get("numbers") or ([data["number"]] if data.get("number") else []))
    urls = list(data.get("urls") or ([data["url"]] if data.get("url") else []))
    infos = []
    for index, number in enumerate(numbers):
        url = urls[index] if index < len(urls) else None
        if url is None and company in TRACKING_PAGES:
            url = TRACKING_PAGES[company].format(number)
        infos.append(TrackingInfo(company, number, url))
    return infos
