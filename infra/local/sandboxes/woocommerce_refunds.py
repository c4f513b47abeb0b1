"""The WooCommerce sandbox's order refunds: `POST/GET orders/<id>/refunds`, `GET orders/<id>/refunds/<id>`,
as the REST API v3 documents them (woocommerce-rest-api-docs, order-refunds.md).

A refund's line items carry negative quantities and totals and `_refunded_item_id` meta naming the order
line; `api_restock` (default true) puts the units back in stock and `api_refund` is write-only, as in
WooCommerce. The order gains a `refunds` summary entry (`id`, `reason`, `total` negative) and becomes
`refunded` once refunds reach its total; WooCommerce sends no refund webhook, only order.updated.
"""
from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Request, Response

from infra.local.sandboxes.woocommerce_rest import ApiError, invalid_param, money, site_now


class OrderRefunds:
    """Mixed into WooCommerceSandbox, which provides `_orders`, `_adjust_stock`, `json` and `_lock`."""

    _orders: dict[int, dict[str, Any]]
    _refunds: dict[int, dict[int, dict[str, Any]]]
    _next_refund: int

    def _init_refunds(self) -> None:
        self._refunds = {}
        # WooCommerce never reuses a post id; a sandbox restarted beside a kept ERP database must not either.
        self._next_refund = 5000 + int(time.time()) % 10**7 * 10

    def _order_or_404(self, oid: int) -> dict[str, Any]:
        order = self._orders.get(oid)
        if order is None:
            raise ApiError(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return order

    def _on_refunds(self, request: Request, body: dict[str, Any], oid: int) -> Response:
        order = self._order_or_404(oid)
        if request.method == "GET":
            return self.json(sorted(self._refunds.get(oid, {}).values(), key=lambda r: -r["id"]))  # type: ignore[attr-defined, no-any-return]
        return self.json(self._create_refund(order, body), 201)  # type: ignore[attr-defined, no-any-return]

    def _on_refund(self, request: Request, body: dict[str, Any], oid: int, rid: int) -> Response:
        self._order_or_404(oid)
        refund = self._refunds.get(oid, {}).get(rid)
        if refund is None:
            raise ApiError(404, "woocommerce_rest_invalid_id", "Invalid ID.")
        return self.json(refund)  # type: ignore[attr-defined, no-any-return]

    def _create_refund(self, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if body.get("amount") in (None, ""):
            raise invalid_param("amount", "amount is required")
        amount = money(body["amount"], "amount")
        refunded = -sum((money(r["total"], "total") for r in order["refunds"]), Decimal(0))
        if amount <= 0 or amount + refunded > money(order["total"], "total"):
            raise ApiError(400, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
        lines: list[dict[str, Any]] = []
        for item in body.get("line_items") or []:
            line = next((li for li in order["line_items"] if str(li["id"]) == str(item.get("id"))), None)
            if line is None:
                raise ApiError(400, "woocommerce_rest_cannot_create_order_refund", "Invalid line item.")
            quantity = int(item.get("quantity") or 0)
            total = money(item.get("refund_total") or 0, "refund_total")
            tax = sum((money(t.get("refund_total") or 0, "refund_total") for t in item.get("refund_tax") or ()),
                      Decimal(0))
            lines.append({"id": self._next_refund * 10 + len(lines) + 1, "name": line.get("name", ""),
                          "product_id": line["product_id"], "variation_id": line["variation_id"],
                          "quantity": -quantity, "tax_class": "", "subtotal": f"{-total:.2f}",
                          "subtotal_tax": f"{-tax:.2f}", "total": f"{-total:.2f}", "total_tax": f"{-tax:.2f}",
                          "taxes": [], "meta_data": [{"id": self._next_refund * 10 + 9, "key": "_refunded_item_id",
                                                      "value": str(line["id"])}],
                          "sku": line.get("sku", ""), "price": float(-total / quantity) if quantity else 0})
            if body.get("api_restock", True) and quantity:
                self._adjust_stock(line["variation_id"] or line["product_id"], quantity)  # type: ignore[attr-defined]
        self._next_refund += 1
        created, created_gmt = site_now()
        refund: dict[str, Any] = {"id": self._next_refund, "date_created": created, "date_created_gmt": created_gmt,
                  "amount": f"{amount:.2f}", "reason": body.get("reason") or "", "refunded_by": 1,
                  "refunded_payment": bool(body.get("api_refund", True)), "meta_data": body.get("meta_data") or [],
                  "line_items": lines, "shipping_lines": [], "tax_lines": [], "fee_lines": []}
        self._refunds.setdefault(order["id"], {})[self._next_refund] = refund
        order["refunds"].insert(0, {"id": refund["id"], "reason": refund["reason"], "total": f"{-amount:.2f}"})
        if amount + refunded >= money(order["total"], "total"):
            order["status"] = "refunded"
        order["date_modified"], order["date_modified_gmt"] = site_now()
        return refund
