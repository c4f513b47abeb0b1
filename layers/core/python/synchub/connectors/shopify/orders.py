"""Shopify orders by id (RecordFetcher) through the GraphQL Admin API, in the REST shape the webhooks carry.

Some events carry no order: `orders/edited` is only the edit (line ids and deltas), and the EventBridge
source cuts payloads over 1 MB to their id. The order flows fetch the order here and map it with the same
`ShopifyPayloads` as any webhook, so current quantities, removed lines and current totals read one way.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from synchub.connectors.shopify.admin import ShopifyAdmin

MONEY = "{ shopMoney { amount } }"
ADDRESS = "{ firstName lastName company address1 address2 city provinceCode zip countryCodeV2 phone }"
ORDER_FIELDS = f"""
    id legacyResourceId name email createdAt updatedAt cancelledAt test taxesIncluded currencyCode
    displayFinancialStatus displayFulfillmentStatus discountCodes
    totalPriceSet {MONEY} subtotalPriceSet {MONEY} totalTaxSet {MONEY} totalDiscountsSet {MONEY}
    totalShippingPriceSet {MONEY}
    currentTotalPriceSet {MONEY} currentSubtotalPriceSet {MONEY} currentTotalTaxSet {MONEY}
    currentTotalDiscountsSet {MONEY}
    totalTipReceivedSet {MONEY} originalTotalDutiesSet {MONEY} currentTotalDutiesSet {MONEY}
    originalTotalAdditionalFeesSet {MONEY} currentTotalAdditionalFeesSet {MONEY}
    customer {{ id firstName lastName defaultEmailAddress {{ emailAddress }} defaultPhoneNumber {{ phoneNumber }} }}
    billingAddress {ADDRESS}
    shippingAddress {ADDRESS}
    shippingLines(first: 20, includeRemovals: true) {{ nodes {{ code title isRemoved originalPriceSet {MONEY}
      discountAllocations {{ allocatedAmountSet {MONEY} }} taxLines {{ priceSet {MONEY} }} }} }}
    refunds(first: 20) {{ refundLineItems(first: 50) {{ nodes {{ quantity lineItem {{ id }} }} }} }}"""
LINE_FIELDS = f"""
    id sku title name quantity currentQuantity isGiftCard variant {{ id }} product {{ id }}
    originalUnitPriceSet {MONEY}
    discountAllocations {{ allocatedAmountSet {MONEY} }} taxLines {{ priceSet {MONEY} }}"""
ORDER_QUERY = f"""query OrderForSync($id: ID!, $lines: Int!) {{
  order(id: $id) {{{ORDER_FIELDS}
    lineItems(first: $lines) {{ nodes {{{LINE_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }}
  }}
}}"""
MORE_LINES = f"""query OrderLines($id: ID!, $lines: Int!, $after: String) {{
  order(id: $id) {{
    lineItems(first: $lines, after: $after) {{ nodes {{{LINE_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }}
  }}
}}"""
LINES_PER_PAGE = 50  # with the rest of the query, under the 1,000-point single-query cost ceiling

FULFILLMENT = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial", "RESTOCKED": "restocked"}
TOTALS = {"total_price": "totalPriceSet", "subtotal_price": "subtotalPriceSet", "total_tax": "totalTaxSet",
          "total_discounts": "totalDiscountsSet", "current_total_price": "currentTotalPriceSet",
          "current_subtotal_price": "currentSubtotalPriceSet", "current_total_tax": "currentTotalTaxSet",
          "current_total_discounts": "currentTotalDiscountsSet"}

MONEY_SETS = {"original_total_duties_set": "originalTotalDutiesSet",
              "current_total_duties_set": "currentTotalDutiesSet",
              "original_total_additional_fees_set": "originalTotalAdditionalFeesSet",
              "current_total_additional_fees_set": "currentTotalAdditionalFeesSet"}


class ShopifyOrders:
    """RecordFetcher for Shopify orders (entity "order" only)."""

    def __init__(self, admin: ShopifyAdmin) -> None:
        self.admin = admin

    def fetch(self, entity: str, record_id: str) -> dict[str, Any] | None:
        if entity != "order":
            raise ValueError(f"Shopify records of {entity!r} are not fetched")
        order_id = f"gid://shopify/Order/{int(record_id)}"
        data = self.admin.execute(ORDER_QUERY, {"id": order_id, "lines": LINES_PER_PAGE})
        order = data.get("order")
        if not isinstance(order, dict):
            return None
        lines = list(self._lines(order_id, order["lineItems"]))
        return rest_order(order, lines)

    def _lines(self, order_id: str, page: dict[str, Any]) -> Iterator[dict[str, Any]]:
        while True:
            yield from page.get("nodes") or ()
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return
            data = self.admin.execute(MORE_LINES, {"id": order_id, "lines": LINES_PER_PAGE,
                                                   "after": info.get("endCursor")})
            page = ((data.get("order") or {}).get("lineItems")) or {}


def rest_order(order: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """A GraphQL Order as the REST / webhook order body (the fields `ShopifyPayloads` reads)."""
    customer = order.get("customer")
    body: dict[str, Any] = {
        "id": int(order["legacyResourceId"]),
        "admin_graphql_api_id": order["id"],
        "name": order.get("name"),
        "email": order.get("email"),
        "created_at": order.get("createdAt"),
        "updated_at": order.get("updatedAt"),
        "cancelled_at": order.get("cancelledAt"),
        "test": bool(order.get("test")),
        "taxes_included": bool(order.get("taxesIncluded")),
        "currency": order.get("currencyCode"),
        "financial_status": (order.get("displayFinancialStatus") or "").lower() or None,
        "fulfillment_status": FULFILLMENT.get(order.get("displayFulfillmentStatus") or ""),
        "discount_codes": [{"code": code} for code in order.get("discountCodes") or ()],
        "total_shipping_price_set": {"shop_money": {"amount": _amount(order.get("totalShippingPriceSet"))}},
        "customer": None if not isinstance(customer, dict) else {
            "id": _number(customer.get("id")),
            "email": ((customer.get("defaultEmailAddress") or {}).get("emailAddress")),
            "phone": ((customer.get("defaultPhoneNumber") or {}).get("phoneNumber")),
            "first_name": customer.get("firstName"), "last_name": customer.get("lastName")},
        "billing_address": _address(order.get("billingAddress")),
        "shipping_address": _address(order.get("shippingAddress")),
        "line_items": [_line(line) for line in lines],
        "shipping_lines": [{
            "code": line.get("code"), "title": line.get("title"), "is_removed": bool(line.get("isRemoved")),
            "price": _amount(line.get("originalPriceSet")),
            "discount_allocations": [{"amount": _amount(item.get("allocatedAmountSet"))}
                                     for item in line.get("discountAllocations") or ()],
            "tax_lines": [{"price": _amount(item.get("priceSet"))} for item in line.get("taxLines") or ()],
        } for line in ((order.get("shippingLines") or {}).get("nodes") or ())],
        "refunds": [{"refund_line_items": [
            {"line_item_id": _number((item.get("lineItem") or {}).get("id")), "quantity": item.get("quantity")}
            for item in ((refund.get("refundLineItems") or {}).get("nodes") or ())]}
            for refund in order.get("refunds") or ()],
    }
    body.update({field: _amount(order.get(name)) for field, name in TOTALS.items()})
    # The parts of the total beyond lines, shipping and tax (mapping.py): tip, duties, additional fees.
    body["total_tip_received"] = _amount(order.get("totalTipReceivedSet"))
    body.update({field: {"shop_money": {"amount": amount}} for field, name in MONEY_SETS.items()
                 if (amount := _amount(order.get(name))) is not None})
    return body


def _line(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": _number(line.get("id")),
        "admin_graphql_api_id": line.get("id"),
        "sku": line.get("sku"),
        "title": line.get("title"),
        "name": line.get("name"),
        "quantity": line.get("quantity"),
        "current_quantity": line.get("currentQuantity"),
        "gift_card": bool(line.get("isGiftCard")),
        "product_id": _number((line.get("product") or {}).get("id")),
        "variant_id": _number((line.get("variant") or {}).get("id")),
        "price": _amount(line.get("originalUnitPriceSet")),
        "discount_allocations": [{"amount": _amount(item.get("allocatedAmountSet"))}
                                 for item in line.get("discountAllocations") or ()],
        "tax_lines": [{"price": _amount(item.get("priceSet"))} for item in line.get("taxLines") or ()],
    }


def _amount(money_bag: Any) -> str | None:
    shop = (money_bag or {}).get("shopMoney") if isinstance(money_bag, dict) else None
    return str(shop["amount"]) if isinstance(shop, dict) and shop.get("amount") is not None else None


def _number(gid: Any) -> int | None:
    """The numeric id of a `gid://shopify/<Type>/<n>` (REST bodies carry numbers)."""
    if not isinstance(gid, str):
        return None
    tail = gid.rsplit("/", 1)[-1].split("?", 1)[0]
    return int(tail) if tail.isdigit() else None


def _address(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    return {"first_name": raw.get("firstName"), "last_name": raw.get("lastName"), "company": raw.get("company"),
            "address1": raw.get("address1"), "address2": raw.get("address2"), "city": raw.get("city"),
            "province_code": raw.get("provinceCode"), "zip": raw.get("zip"), "country_code": raw.get("countryCodeV2"),
            "phone": raw.get("phone")}
