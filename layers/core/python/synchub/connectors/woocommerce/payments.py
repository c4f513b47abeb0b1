"""WooCommerce payments and refunds.

Payments: WooCommerce records one payment per order on the order itself (`date_paid`, `transaction_id`,
`payment_method`), set when it moves to processing or completed; there is no partial payment. A gateway
that gives no transaction id (bank transfer, cash on delivery) is keyed by the order and its paid date.

Refunds: WooCommerce sends no refund webhook. An order.updated whose `refunds` summary lists a refund
is read with `GET orders/<id>/refunds/<refund_id>`: line items with negative quantities and totals,
`shipping_lines`, and `api_restock` (the REST write flag, default true, echoed by stores that keep it).
WooCommerce has one stock location: restocked units go to the store's one mapped location.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from synchub.connectors.woocommerce.client import WooCommerceClient
from synchub.connectors.woocommerce.mapping import _decimal, _text, _time
from synchub.errors import InvalidPayload, VendorRejected
from synchub.models import Money, Payment, Refund, RefundLine

PAID_STATUSES = ("processing", "completed", "refunded")


def woocommerce_payments(store_id: str, payload: dict[str, Any]) -> list[Payment]:
    """The order's one payment, once WooCommerce marked it paid; [] before."""
    paid = _text(payload.get("date_paid_gmt")) or _text(payload.get("date_paid"))
    if not paid or payload.get("status") not in PAID_STATUSES:
        return []
    order_id = str(_required(payload, "id"))
    transaction = _text(payload.get("transaction_id")) or f"order-{order_id}-paid-{paid}"
    return [Payment(store=store_id, order_id=order_id, transaction_id=transaction,
                    gateway=_text(payload.get("payment_method")) or "",
                    amount=Money(amount=_decimal(_required(payload, "total"), "total"),
                                 currency=str(_required(payload, "currency"))),
                    processed_at=_time(payload.get("date_paid_gmt"), "date_paid_gmt"))]


def woocommerce_refund(store_id: str, order: dict[str, Any], refund: dict[str, Any], *,
                       location: str | None) -> Refund:
    try:
        return _refund(store_id, order, refund, location)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()})
        raise InvalidPayload(f"woocommerce refund does not map: {', '.join(fields)}", fields=fields) from error


def _refund(store_id: str, order: dict[str, Any], refund: dict[str, Any], location: str | None) -> Refund:
    currency = str(_required(order, "currency"))
    restock = refund.get("api_restock", True) is not False

    def money(amount: Decimal) -> Money:
        return Money(amount=amount, currency=currency)

    lines, tax = [], Decimal(0)
    for item in refund.get("line_items") or ():
        if not isinstance(item, dict):
            continue
        line_tax = -_decimal(item.get("total_tax"), "line_items.total_tax")
        tax += line_tax
        refunded_item = next((meta.get("value") for meta in item.get("meta_data") or ()
                              if isinstance(meta, dict) and meta.get("key") == "_refunded_item_id"), None)
        lines.append(RefundLine(
            source_line_id=_text(refunded_item) or str(item.get("id")),
            sku=_text(item.get("sku")), title=_text(item.get("name")) or "",
            product_ref=_catalogue_id(item.get("product_id")), variant_ref=_catalogue_id(item.get("variation_id")),
            quantity=abs(int(item.get("quantity") or 0)),
            amount=money(-_decimal(item.get("total"), "line_items.total")), tax=money(line_tax),
            restock=restock, location=location))
    shipping = Decimal(0)
    for line in refund.get("shipping_lines") or ():
        if isinstance(line, dict):
            shipping -= _decimal(line.get("total"), "shipping_lines.total")
            tax -= _decimal(line.get("total_tax"), "shipping_lines.total_tax")
    created = _time(refund.get("date_created_gmt"), "date_created_gmt")
    if created is None:
        raise InvalidPayload("refund without date_created_gmt", field="date_created_gmt")
    return Refund(store=store_id, source_id=str(_required(refund, "id")), order_id=str(_required(order, "id")),
                  currency=currency, lines=tuple(lines), shipping=money(shipping), tax=money(tax),
                  total=money(abs(_decimal(_required(refund, "amount"), "amount"))),
                  gateway=_text(order.get("payment_method")) if refund.get("refunded_payment") else None,
                  note=_text(refund.get("reason")), created_at=created)


def _catalogue_id(value: Any) -> str | None:
    return None if value in (None, "", 0, "0") else str(value)


def _required(payload: dict[str, Any], field: str) -> Any:
    value = payload.get(field)
    if value is None or value == "":
        raise InvalidPayload(f"missing field: {field}", field=field)
    return value


class WooCommercePayments:
    """OrderTransactions and RefundReader for WooCommerce."""

    def __init__(self, client: WooCommerceClient, *, location: str | None = None) -> None:
        self.client = client
        self.location = location

    def order_payments(self, store_id: str, payload: dict) -> list[Payment]:
        return woocommerce_payments(store_id, payload)

    def refund_ids(self, topic: str, payload: dict) -> list[str]:
        return [str(refund["id"]) for refund in payload.get("refunds") or ()
                if isinstance(refund, dict) and refund.get("id") not in (None, "")]

    def read_refund(self, store_id: str, topic: str, payload: dict, refund_id: str) -> Refund:
        order_id = int(_required(payload, "id"))
        try:
            refund = self.client.get(f"orders/{order_id}/refunds/{int(refund_id)}")
        except VendorRejected as error:
            if error.status == 404:
                raise InvalidPayload(f"refund {refund_id} of order {order_id} not found in the store",
                                     reason="refund_not_found") from error
            raise
        if not isinstance(refund, dict):
            raise InvalidPayload("refund is not an object", field="refund")
        return woocommerce_refund(store_id, payload, refund, location=self.location)
