"""The Shopify sandbox's orders: placed and edited the way the shop admin does it, read through `order(id:)`.

Orders are kept in the REST shape Shopify's order webhooks carry (what local mode and the tests send), and
served to GraphQL as the documented `Order` object (2026-01 field names: `currentQuantity`, `totalPriceSet`,
`currentTotalPriceSet`, `displayFinancialStatus`, ...). `edit` plays a committed order edit
(`orderEditBegin` ... `orderEditCommit` in the admin): it changes `current_quantity`, appends added line
items, recomputes the `current_*` and `total_*` figures (Shopify's "before returns" totals include edits),
stamps `updated_at`, and returns the `orders/edited` body Shopify sends then, beside the updated order.
"""
from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from infra.local.sandboxes.shopify_store import Connection, Shop, gid

CENT = Decimal("0.01")
FULFILLMENT = {None: "UNFULFILLED", "partial": "PARTIALLY_FULFILLED", "fulfilled": "FULFILLED",
               "restocked": "RESTOCKED"}


class Orders:
    """The shop's orders by numeric id, in the webhook (REST) shape."""

    def __init__(self, shop: Shop, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.shop = shop
        self.clock = clock
        self.records: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(7_700_000_000_000_000)

    def add(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Place an order (a copy of `payload`); lines with a catalogue SKU are tied to its variant."""
        order = copy.deepcopy(dict(payload))
        for line in order.get("line_items") or ():
            line.setdefault("current_quantity", line.get("quantity"))
            variants = self.shop.variants_for_sku(line["sku"]) if line.get("sku") else []
            if variants:
                line["variant_id"], line["product_id"] = variants[0].id, variants[0].product_id
        self.records[int(order["id"])] = order
        return copy.deepcopy(order)

    def get(self, order_id: int) -> dict[str, Any] | None:
        order = self.records.get(order_id)
        return copy.deepcopy(order) if order is not None else None

    def edit(self, order_id: int, *, quantities: Mapping[int, int] | None = None,
             add: Sequence[Mapping[str, Any]] | None = None, staff_note: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
        """Commit an order edit: `quantities` sets line id -> new current quantity (0 removes the line), `add`
        appends `{"sku", "quantity"}` lines at the catalogue price. Returns (orders/edited body, the order)."""
        order = self.records[order_id]
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
        for entry in add or ():
            variant = self.shop.variants_for_sku(entry["sku"])[0]
            line_id = next(self._ids)
            order["line_items"].append({
                "id": line_id, "admin_graphql_api_id": gid("LineItem", line_id), "sku": variant.sku,
                "title": self.shop.products[variant.product_id].title, "name": self.shop.products[variant.product_id].title,
                "variant_id": variant.id, "product_id": variant.product_id, "price": variant.price,
                "quantity": int(entry["quantity"]), "current_quantity": int(entry["quantity"]),
                "discount_allocations": [], "tax_lines": []})
            additions.append({"id": line_id, "delta": int(entry["quantity"])})
        self._recompute(order)
        stamp = self.clock().replace(microsecond=0)
        order["updated_at"] = stamp.isoformat()
        edit_id = next(self._ids)
        edited: dict[str, Any] = {"order_edit": {
            "id": edit_id, "app_id": None, "created_at": stamp.isoformat(), "committed_at": stamp.isoformat(),
            "notify_customer": False, "order_id": order_id, "staff_note": staff_note, "user_id": None,
            "line_items": {"additions": additions, "removals": removals},
            "discounts": {"line_item": {"additions": [], "removals": []}},
            "shipping_lines": {"additions": [], "removals": []}}}
        return edited, copy.deepcopy(order)

    @staticmethod
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


def graphql_order(order: Mapping[str, Any], shop: Shop) -> dict[str, Any]:
    """A REST order as the GraphQL `Order` object (the sandbox's default resolvers read dict keys)."""
    currency = order.get("currency") or "USD"

    def bag(amount: Any) -> dict[str, Any] | None:
        if amount in (None, ""):
            return None
        money = {"amount": str(amount), "currencyCode": currency}
        return {"shopMoney": money, "presentmentMoney": money}

    def allocations(item: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [{"allocatedAmountSet": bag(a.get("amount"))} for a in item.get("discount_allocations") or ()]

    def taxes(item: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [{"priceSet": bag(t.get("price")), "title": t.get("title") or "Tax", "rate": t.get("rate")}
                for t in item.get("tax_lines") or ()]

    lines = {int(line["id"]): line for line in order.get("line_items") or ()}

    def line_item(line: Mapping[str, Any]) -> dict[str, Any]:
        variant = shop.variants.get(int(line["variant_id"])) if line.get("variant_id") else None
        product = shop.products.get(int(line["product_id"])) if line.get("product_id") else None
        return {"_key": int(line["id"]), "id": gid("LineItem", int(line["id"])), "sku": line.get("sku"),
                "title": line.get("title") or "", "name": line.get("name") or line.get("title") or "",
                "quantity": int(line["quantity"]), "currentQuantity": int(line.get("current_quantity",
                                                                                   line["quantity"])),
                "variant": variant, "product": product, "originalUnitPriceSet": bag(line.get("price")),
                "discountAllocations": allocations(line), "taxLines": taxes(line)}

    def line_items(info: Any, **args: Any) -> Connection:
        return Connection([line_item(line) for line in lines.values()], args, bulk=False, key=lambda r: r["_key"])

    def shipping_lines(info: Any, includeRemovals: bool = False, **args: Any) -> Connection:
        rows = [{"_key": index, "id": gid("ShippingLine", index), "code": s.get("code"), "title": s.get("title") or "",
                 "isRemoved": bool(s.get("is_removed")), "originalPriceSet": bag(s.get("price")),
                 "discountAllocations": allocations(s), "taxLines": taxes(s)}
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
        "customer": None if not customer else {
            "id": gid("Customer", int(customer["id"])), "firstName": customer.get("first_name"),
            "lastName": customer.get("last_name"),
            "defaultEmailAddress": {"emailAddress": customer["email"]} if customer.get("email") else None,
            "defaultPhoneNumber": {"phoneNumber": customer["phone"]} if customer.get("phone") else None},
        "billingAddress": _address(order.get("billing_address")),
        "shippingAddress": _address(order.get("shipping_address")),
        "lineItems": line_items, "shippingLines": shipping_lines, "refunds": refunds,
    }


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
