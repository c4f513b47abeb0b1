"""The Shopify sandbox's orders: one store serving the fulfilment operations and the order reads and edits.

Orders are seeded from their webhook (REST) body, which stays the order of record (`Order.payload`), with one
fulfilment order per order at the shop's first location:
- fulfilments: `fulfillmentCreate` and `fulfillmentTrackingInfoUpdate` with the documented input shapes and
  userErrors, the order's fulfilment status moving as Shopify's does (UNFULFILLED, PARTIALLY_FULFILLED,
  FULFILLED; REST `fulfillment_status` null, "partial", "fulfilled"). The sandbox sends no webhooks (none of its
  writes does); each fulfilment leaves in `outbox` the `fulfillments/create` and `orders/updated` bodies Shopify
  would deliver, for a test to deliver.
- reads: `order(id:)` serves the documented `Order` object (2026-01 field names: `currentQuantity`,
  `totalPriceSet`, `currentTotalPriceSet`, `displayFinancialStatus`, fulfilment orders, fulfilments, ...).
- edits: `edit` plays a committed order edit (`orderEditBegin` ... `orderEditCommit` in the admin): it changes
  `current_quantity`, appends added line items, recomputes the `current_*` and `total_*` figures (Shopify's
  "before returns" totals include edits), moves the fulfilment order lines with the quantities, stamps
  `updated_at`, and returns the `orders/edited` body Shopify sends then, beside the updated order.
"""
from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from infra.local.sandboxes.shopify_store import Connection, gid, now, parse_gid

if TYPE_CHECKING:
    from infra.local.sandboxes.shopify_store import Shop

CENT = Decimal("0.01")
FULFILLMENT = {None: "UNFULFILLED", "partial": "PARTIALLY_FULFILLED", "fulfilled": "FULFILLED",
               "restocked": "RESTOCKED"}


# Tracking pages Shopify builds for carriers it knows when no URL is given (as in Shopify's own fixtures).
TRACKING_PAGES = {"UPS": "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums={}",
                  "USPS": "https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1={}",
                  "TNT": "https://www.tnt.com/express/en_us/site/tracking.html?searchType=con&cons={}"}


@dataclass
class LineItem:
    id: int
    sku: str | None
    name: str
    quantity: int  # as ordered (units an edit added included); `currentQuantity` is read from the order body
    order_id: int = 0


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
    """The shop's orders by numeric id, their fulfilment orders and fulfilments."""

    def __init__(self, shop: Shop, clock: Callable[[], datetime] = now) -> None:
        self.shop = shop
        self.clock = clock
        self.orders: dict[int, Order] = {}
        self.fulfillment_orders: dict[int, FulfillmentOrder] = {}
        self.fo_lines: dict[int, FulfillmentOrderLine] = {}
        self.fulfillments: dict[int, Fulfillment] = {}
        self.outbox: list[tuple[str, dict[str, Any]]] = []  # (webhook topic, body) Shopify would send
        self.notifications: list[dict[str, Any]] = []  # shipping confirmations e-mailed to customers
        self._next = {"FulfillmentOrder": 6_400_000_000_000, "FulfillmentOrderLineItem": 14_000_000_000_000,
                      "Fulfillment": 5_100_000_000_000}
        self._line_ids = itertools.count(7_700_000_000_000_000)  # line items and edits added here

    def _id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind]

    # -- seeding ------------------------------------------------------------------------------------
    def add_order(self, payload: Mapping[str, Any], location_id: int | None) -> Order:
        """Place an order (a copy of `payload`); lines with a catalogue SKU are tied to its variant."""
        record = copy.deepcopy(dict(payload))
        for raw in record.get("line_items") or ():
            raw.setdefault("current_quantity", raw.get("quantity"))
            variants = self.shop.variants_for_sku(raw["sku"]) if raw.get("sku") else []
            if variants:
                raw["variant_id"], raw["product_id"] = variants[0].id, variants[0].product_id
        order_id = int(record["id"])
        items = {int(line["id"]): LineItem(int(line["id"]), line.get("sku") or None,
                                           line.get("name") or line.get("title") or "",
                                           int(line.get("quantity") or 0), order_id)
                 for line in record.get("line_items") or ()}
        order = Order(order_id, str(record.get("name") or f"#{order_id}"), items, record)
        fo = FulfillmentOrder(self._id("FulfillmentOrder"), order_id, location_id, [])
        for raw in record.get("line_items") or ():  # what is left to ship: the current quantity
            current = int(raw.get("current_quantity") or 0)
            line = FulfillmentOrderLine(self._id("FulfillmentOrderLineItem"), int(raw["id"]), current, current)
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

    def get(self, order_id: int) -> dict[str, Any] | None:
        """The order's REST body as it stands now (a copy)."""
        order = self.orders.get(order_id)
        return copy.deepcopy(order.payload) if order is not None else None

    # -- order edits -------------------------------------------------------------------------------
    def edit(self, order_id: int, *, quantities: Mapping[int, int] | None = None,
             add: Sequence[Mapping[str, Any]] | None = None, staff_note: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
        """Commit an order edit: `quantities` sets line id -> new current quantity (0 removes the line), `add`
        appends `{"sku", "quantity"}` lines at the catalogue price. Returns (orders/edited body, the order).
        The fulfilment order lines follow: their total becomes the current quantity (units already fulfilled
        stay fulfilled), an added line joins the order's first fulfilment order."""
        entry = self.orders[order_id]
        order = entry.payload
        additions: list[dict[str, int]] = []
        removals: list[dict[str, int]] = []
        for line in order["line_items"]:
            wanted = (quantities or {}).get(int(line["id"]))
            if wanted is None or wanted == line["current_quantity"]:
                continue
            delta = wanted - line["current_quantity"]
            (additions if delta > 0 else removals).append({"id": line["id"], "delta": abs(delta)})
            line["quantity"] += max(delta, 0)  # units added to a line count as ordered; removed ones stay ordered
            line["current_quantity"] = wanted
            entry.line_items[int(line["id"])].quantity = int(line["quantity"])
            for fo_line in self._fo_lines_of(entry, int(line["id"])):
                fulfilled = fo_line.total - fo_line.remaining
                fo_line.total = max(wanted, fulfilled)
                fo_line.remaining = fo_line.total - fulfilled
        for wanted_line in add or ():
            variant = self.shop.variants_for_sku(wanted_line["sku"])[0]
            line_id = next(self._line_ids)
            title = self.shop.products[variant.product_id].title
            quantity = int(wanted_line["quantity"])
            order["line_items"].append({
                "id": line_id, "admin_graphql_api_id": gid("LineItem", line_id), "sku": variant.sku,
                "title": title, "name": title, "variant_id": variant.id, "product_id": variant.product_id,
                "price": variant.price, "quantity": quantity, "current_quantity": quantity,
                "discount_allocations": [], "tax_lines": []})
            entry.line_items[line_id] = LineItem(line_id, variant.sku, title, quantity, order_id)
            if entry.fulfillment_order_ids:
                fo = self.fulfillment_orders[entry.fulfillment_order_ids[0]]
                fo_line = FulfillmentOrderLine(self._id("FulfillmentOrderLineItem"), line_id, quantity, quantity)
                fo.lines.append(fo_line)
                self.fo_lines[fo_line.id] = fo_line
                if fo.status == "CLOSED":
                    fo.status = "IN_PROGRESS"
            additions.append({"id": line_id, "delta": quantity})
        _recompute(order)
        stamp = self.clock().replace(microsecond=0)
        order["updated_at"] = stamp.isoformat()
        edit_id = next(self._line_ids)
        edited: dict[str, Any] = {"order_edit": {
            "id": edit_id, "app_id": None, "created_at": stamp.isoformat(), "committed_at": stamp.isoformat(),
            "notify_customer": False, "order_id": order_id, "staff_note": staff_note, "user_id": None,
            "line_items": {"additions": additions, "removals": removals},
            "discounts": {"line_item": {"additions": [], "removals": []}},
            "shipping_lines": {"additions": [], "removals": []}}}
        return edited, copy.deepcopy(order)

    def _fo_lines_of(self, order: Order, line_item_id: int) -> list[FulfillmentOrderLine]:
        return [line for fo_id in order.fulfillment_order_ids for line in self.fulfillment_orders[fo_id].lines
                if line.line_item_id == line_item_id]

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


def _recompute(order: dict[str, Any]) -> None:
        """Edited figures: line discounts shrink with the units removed, tax keeps the order's effective rate."""
        before_subtotal = _money(order.get("subtotal_price"))
        before_tax = _money(order.get("total_tax"))
        subtotal = discounts = Decimal(0)
        for line in order["line_items"]:
            quantity, current = int(line["quantity"]), int(line["current_quantity"])
            gross = _money(line["price"]) * current
            allocated = sum((_money(a.get("amount")) for a in line.get("discount_allocations") or ()), Decimal(0))
            share = (allocated * current / quantity).quantize(CENT, ROUND_HALF_UP) if quantity else Decimal(0)
            subtotal += gross - share
            discounts += share
        shipping = sum((_money(s.get("price")) for s in order.get("shipping_lines") or () if not s.get("is_removed")),
                       Decimal(0))
        shipping_tax = sum((_money(t.get("price")) for s in order.get("shipping_lines") or ()
                            if not s.get("is_removed") for t in s.get("tax_lines") or ()), Decimal(0))
        rate = (before_tax - shipping_tax) / before_subtotal if before_subtotal else Decimal(0)
        tax = (rate * subtotal).quantize(CENT, ROUND_HALF_UP) + shipping_tax
        total = subtotal + shipping + (Decimal(0) if order.get("taxes_included") else tax)
        for prefix in ("", "current_"):
            order[f"{prefix}subtotal_price"] = str(subtotal.quantize(CENT))
            order[f"{prefix}total_discounts"] = str(discounts.quantize(CENT))
            order[f"{prefix}total_tax"] = str(tax.quantize(CENT))
            order[f"{prefix}total_price"] = str(total.quantize(CENT))


def _bag(amount: Any, currency: str) -> dict[str, Any] | None:
    if amount in (None, ""):
        return None
    money = {"amount": str(amount), "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": money}


def _allocations(item: Mapping[str, Any], currency: str) -> list[dict[str, Any]]:
    return [{"allocatedAmountSet": _bag(a.get("amount"), currency)} for a in item.get("discount_allocations") or ()]


def _taxes(item: Mapping[str, Any], currency: str) -> list[dict[str, Any]]:
    return [{"priceSet": _bag(t.get("price"), currency), "title": t.get("title") or "Tax", "rate": t.get("rate")}
            for t in item.get("tax_lines") or ()]


def graphql_line_item(line: Mapping[str, Any], currency: str, shop: Shop) -> dict[str, Any]:
    """A REST line item as the GraphQL `LineItem` fields read from the order body."""
    variant = shop.variants.get(int(line["variant_id"])) if line.get("variant_id") else None
    product = shop.products.get(int(line["product_id"])) if line.get("product_id") else None
    return {"_key": int(line["id"]), "id": gid("LineItem", int(line["id"])), "sku": line.get("sku"),
            "title": line.get("title") or "", "name": line.get("name") or line.get("title") or "",
            "quantity": int(line["quantity"]), "currentQuantity": int(line.get("current_quantity", line["quantity"])),
            "isGiftCard": line.get("gift_card") is True,
            "variant": variant, "product": product, "originalUnitPriceSet": _bag(line.get("price"), currency),
            "discountAllocations": _allocations(line, currency), "taxLines": _taxes(line, currency)}


def graphql_order(order: Mapping[str, Any], shop: Shop,
                  line_object: Callable[[int], Any] | None = None) -> dict[str, Any]:
    """A REST order as the GraphQL `Order` fields read from its body (the sandbox's default resolvers read dict
    keys). `line_object` gives the store's line item object for an id (a refund line's `lineItem`)."""
    currency = order.get("currency") or "USD"

    def bag(amount: Any) -> dict[str, Any] | None:
        return _bag(amount, currency)

    lines = {int(line["id"]): line for line in order.get("line_items") or ()}

    def line_item(line: Mapping[str, Any]) -> Any:
        return line_object(int(line["id"])) if line_object else graphql_line_item(line, currency, shop)

    def shipping_lines(info: Any, includeRemovals: bool = False, **args: Any) -> Connection:
        rows = [{"_key": index, "id": gid("ShippingLine", index), "code": s.get("code"), "title": s.get("title") or "",
                 "isRemoved": bool(s.get("is_removed")), "originalPriceSet": bag(s.get("price")),
                 "discountAllocations": _allocations(s, currency), "taxLines": _taxes(s, currency)}
                for index, s in enumerate(order.get("shipping_lines") or (), start=1)
                if includeRemovals or not s.get("is_removed")]
        return Connection(rows, args, bulk=False, key=lambda r: r["_key"])

    def refunds(info: Any, first: int | None = None) -> list[dict[str, Any]]:
        def refund(raw: Mapping[str, Any]) -> dict[str, Any]:
            items = [{"_key": index, "quantity": item.get("quantity"),
                      "lineItem": line_item(lines[int(item["line_item_id"])])}
                     for index, item in enumerate(raw.get("refund_line_items") or (), start=1)]
            return {"id": gid("Refund", int(raw.get("id") or 0)),
                    "refundLineItems": lambda info, **args: Connection(items, args, bulk=False,
                                                                       key=lambda r: r["_key"])}
        return [refund(raw) for raw in (order.get("refunds") or ())[:first]]

    customer = order.get("customer") or None
    shipping = (order.get("total_shipping_price_set") or {}).get("shop_money") or {}
    return {
        "id": gid("Order", int(order["id"])), "legacyResourceId": int(order["id"]), "name": order.get("name"),
        "email": order.get("email"), "createdAt": _utc(order.get("created_at")),
        "updatedAt": _utc(order.get("updated_at") or order.get("created_at")),
        "cancelledAt": _utc(order.get("cancelled_at")), "test": bool(order.get("test")),
        "taxesIncluded": bool(order.get("taxes_included")), "currencyCode": currency,
        "displayFinancialStatus": (order.get("financial_status") or "pending").upper(),
        "displayFulfillmentStatus": FULFILLMENT.get(order.get("fulfillment_status"), "UNFULFILLED"),
        "discountCodes": [d.get("code") for d in order.get("discount_codes") or () if d.get("code")],
        "edited": any(line.get("current_quantity") != line.get("quantity") for line in lines.values()),
        "totalPriceSet": bag(order.get("total_price")), "subtotalPriceSet": bag(order.get("subtotal_price")),
        "totalTaxSet": bag(order.get("total_tax")), "totalDiscountsSet": bag(order.get("total_discounts")),
        "totalShippingPriceSet": bag(shipping.get("amount", "0.00")),
        "currentTotalPriceSet": bag(order.get("current_total_price", order.get("total_price"))),
        "currentSubtotalPriceSet": bag(order.get("current_subtotal_price", order.get("subtotal_price"))),
        "currentTotalTaxSet": bag(order.get("current_total_tax", order.get("total_tax"))),
        "currentTotalDiscountsSet": bag(order.get("current_total_discounts", order.get("total_discounts"))),
        "totalTipReceivedSet": bag(order.get("total_tip_received") or "0.00"),
        **{name: bag(_set_amount(order.get(key))) for key, name in MONEY_SETS.items()},
        "customer": None if not customer else {
            "id": gid("Customer", int(customer["id"])), "firstName": customer.get("first_name"),
            "lastName": customer.get("last_name"),
            "defaultEmailAddress": {"emailAddress": customer["email"]} if customer.get("email") else None,
            "defaultPhoneNumber": {"phoneNumber": customer["phone"]} if customer.get("phone") else None},
        "billingAddress": _address(order.get("billing_address")),
        "shippingAddress": _address(order.get("shipping_address")),
        "shippingLines": shipping_lines, "refunds": refunds,
    }


MONEY_SETS = {"original_total_duties_set": "originalTotalDutiesSet",
              "current_total_duties_set": "currentTotalDutiesSet",
              "original_total_additional_fees_set": "originalTotalAdditionalFeesSet",
              "current_total_additional_fees_set": "currentTotalAdditionalFeesSet"}


def _set_amount(value: Any) -> Any:
    """The shop-money amount of a REST money set (`{"shop_money": {"amount": ...}}`), None when absent."""
    shop = value.get("shop_money") if isinstance(value, Mapping) else None
    return shop.get("amount") if isinstance(shop, Mapping) else None


def _address(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        return None
    return {"firstName": raw.get("first_name"), "lastName": raw.get("last_name"), "company": raw.get("company"),
            "address1": raw.get("address1"), "address2": raw.get("address2"), "city": raw.get("city"),
            "provinceCode": raw.get("province_code"), "zip": raw.get("zip"), "countryCodeV2": raw.get("country_code"),
            "phone": raw.get("phone")}


def _utc(value: Any) -> datetime | None:
    """REST times carry the shop's offset; GraphQL DateTime is UTC."""
    return datetime.fromisoformat(str(value)).astimezone(UTC) if value else None


def _money(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)
