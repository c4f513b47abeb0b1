"""Shopify refunds (the refunds/create body, or an entry of an order's `refunds`) to the canonical Refund.

- A refund line's `subtotal` is after discounts and before tax; `total_tax` its tax (shop money `_set`
  amounts preferred over the deprecated numbers).
- `restock_type` `return`, `cancel` and `legacy_restock` put the units back into stock at `location_id`;
  `no_restock` gives money only.
- Shipping refunded: `refund_shipping_lines` (newer API versions) or `order_adjustments` of kind
  `shipping_refund` (negative amounts); other adjustments (refund discrepancies) are not itemised: the
  money actually returned, the successful `refund` transactions, is the refund's total.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from synchub.connectors.shopify.mapping import _decimal, _text, _time
from synchub.errors import InvalidPayload
from synchub.models import Money, Refund, RefundLine, topics

RESTOCKED = {"return", "cancel", "legacy_restock"}


def _shop_money(item: dict[str, Any], field: str) -> dict[str, Any]:
    return (item.get(f"{field}_set") or {}).get("shop_money") or {}


def _amount(item: dict[str, Any], field: str) -> Decimal:
    money = _shop_money(item, field)
    return _decimal(money["amount"] if money.get("amount") not in (None, "") else item.get(field), field)


def _currency(payload: dict[str, Any]) -> str:
    for item in payload.get("refund_line_items") or ():
        code = _shop_money(item, "subtotal").get("currency_code")
        if code:
            return str(code)
    for transaction in payload.get("transactions") or ():
        if transaction.get("currency"):
            return str(transaction["currency"])
    for line in payload.get("refund_shipping_lines") or ():
        code = ((line.get("subtotal_amount_set") or {}).get("shop_money") or {}).get("currency_code")
        if code:
            return str(code)
    raise InvalidPayload("refund without a currency", field="refund_line_items")


def shopify_refund(store_id: str, payload: dict[str, Any]) -> Refund:
    try:
        return _refund(store_id, payload)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()})
        raise InvalidPayload(f"shopify refund does not map: {', '.join(fields)}", fields=fields) from error


def _refund(store_id: str, payload: dict[str, Any]) -> Refund:
    if payload.get("id") in (None, "") or payload.get("order_id") in (None, ""):
        raise InvalidPayload("refund without id or order_id", field="id")
    currency = _currency(payload)

    def money(amount: Decimal) -> Money:
        return Money(amount=amount, currency=currency)

    lines = []
    tax = Decimal(0)
    for item in payload.get("refund_line_items") or ():
        line_item = item.get("line_item") or {}
        line_tax = _amount(item, "total_tax")
        tax += line_tax
        lines.append(RefundLine(
            source_line_id=item.get("line_item_id") or line_item.get("id"),
            sku=_text(line_item.get("sku")),
            title=_text(line_item.get("title")) or _text(line_item.get("name")) or "",
            product_ref=_text(line_item.get("product_id")),
            variant_ref=_text(line_item.get("variant_id")),
            quantity=item.get("quantity"),
            amount=money(_amount(item, "subtotal")),
            tax=money(line_tax),
            restock=item.get("restock_type") in RESTOCKED,
            location=_text(item.get("location_id")),
        ))
    shipping = Decimal(0)
    shipping_lines = payload.get("refund_shipping_lines") or ()
    for line in shipping_lines:
        shipping += _decimal(((line.get("subtotal_amount_set") or {}).get("shop_money") or {}).get("amount"),
                             "refund_shipping_lines.subtotal_amount_set")
        tax += _decimal(((line.get("total_tax_set") or {}).get("shop_money") or {}).get("amount"),
                        "refund_shipping_lines.total_tax_set")
    if not shipping_lines:
        for adjustment in payload.get("order_adjustments") or ():
            if adjustment.get("kind") == "shipping_refund":
                shipping += abs(_decimal(adjustment.get("amount"), "order_adjustments.amount"))
                tax += abs(_decimal(adjustment.get("tax_amount"), "order_adjustments.tax_amount"))
    refunds = [t for t in payload.get("transactions") or ()
               if isinstance(t, dict) and t.get("kind") == "refund" and t.get("status") == "success"]
    returned = sum((_decimal(t.get("amount"), "transactions.amount") for t in refunds), Decimal(0))
    itemised = sum((line.amount.amount for line in lines), Decimal(0)) + shipping + tax
    created = _time(payload.get("processed_at") or payload.get("created_at"), "created_at")
    if created is None:
        raise InvalidPayload("refund without created_at", field="created_at")
    return Refund(
        store=store_id, source_id=payload["id"], order_id=payload["order_id"], currency=currency,
        lines=tuple(lines), shipping=money(shipping), tax=money(tax),
        total=money(returned if refunds else itemised),
        gateway=_text(refunds[0].get("gateway")) if refunds else None,
        note=_text(payload.get("note")), created_at=created)


class ShopifyRefunds:
    """RefundReader for Shopify: the refunds/create body is the refund; an order body lists its refunds."""

    def refund_ids(self, topic: str, payload: dict) -> list[str]:
        if topic == topics.REFUND_CREATED.name:
            return [str(payload["id"])] if payload.get("id") not in (None, "") else []
        return [str(refund["id"]) for refund in payload.get("refunds") or ()
                if isinstance(refund, dict) and refund.get("id") not in (None, "")]

    def read_refund(self, store_id: str, topic: str, payload: dict, refund_id: str) -> Refund:
        if topic == topics.REFUND_CREATED.name:
            return shopify_refund(store_id, payload)
        for refund in payload.get("refunds") or ():
            if isinstance(refund, dict) and str(refund.get("id")) == refund_id:
                return shopify_refund(store_id, {"order_id": payload.get("id"), **refund})
        raise InvalidPayload(f"order has no refund {refund_id}", field="refunds")
