"""WooCommerce order and customer payloads (REST v3 / webhook shape) to the canonical Order and Customer.

Choices, so both stores mean the same thing by the canonical fields:
- WooCommerce stores line amounts net of tax (`subtotal`, `total`) and their taxes apart. When the shop
  enters prices with tax (`prices_include_tax`), unit prices, discounts, shipping and subtotal get the
  tax added back, which is what Shopify's `taxes_included` prices mean.
- `price` is a JSON number (a float) in WooCommerce; the unit price is `subtotal / quantity` instead,
  from the decimal strings.
- Fee lines (gift wrap, surcharges) become order lines with no SKU and no product; no fee reaches the ERP
  as a stock item. A negative fee (a credit some plugins and shop managers add as a "fee") is an
  order-level adjustment, not a sale line. A product line with a blank SKU keeps its product and
  variation ids: it is a catalogue product, not a fee.
- `total` is lines + fees + shipping + `total_tax` - `discount_total` (coupons, `coupon_lines`). The
  "WooCommerce Gift Cards" extension adds `gift_cards: [{id, code, amount}]` to the order and takes the
  redeemed amount off `total` (what the gateway charges). A redemption is a payment, not a price cut, so
  the canonical total adds it back (the order's full value, as Shopify's `total_price`) and
  `gift_card_payments` says how much of it the gift cards paid.
- WooCommerce has no test-order flag (the REST order has none), so `Order.test` stays False.
- Guest orders (customer_id 0) get a customer keyed `guest:<hash of e-mail>`: stable across orders and
  free of personal data, since ids appear in logs.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from synchub.connectors.woocommerce.webhooks import parse_gmt
from synchub.errors import InvalidPayload
from synchub.models import (
    Address,
    Customer,
    FinancialStatus,
    FulfillmentStatus,
    Money,
    Order,
    OrderAdjustment,
    OrderLine,
    ShippingLine,
    normalise_email,
)

logger = Logger(service="synchub")

# status -> (financial, fulfillment). cancelled is handled apart: it also sets cancelled_at.
STATUSES: dict[str, tuple[FinancialStatus, FulfillmentStatus]] = {
    "pending": (FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED),
    "on-hold": (FinancialStatus.AUTHORIZED, FulfillmentStatus.UNFULFILLED),
    "processing": (FinancialStatus.PAID, FulfillmentStatus.UNFULFILLED),
    "completed": (FinancialStatus.PAID, FulfillmentStatus.FULFILLED),
    "refunded": (FinancialStatus.REFUNDED, FulfillmentStatus.UNFULFILLED),
    "failed": (FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED),
}

Money_ = Callable[[Decimal], Money]
UNIT_PLACES = Decimal("0.000001")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    cleaned = str(value).strip()
    return cleaned or None


def _decimal(value: Any, field: str) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation as error:
        raise InvalidPayload(f"not a decimal amount: {field}", field=field) from error


def _block(payload: dict[str, Any], field: str) -> dict[str, Any]:
    value = payload.get(field)
    return value if isinstance(value, dict) else {}


def _required(payload: dict[str, Any], field: str) -> Any:
    value = payload.get(field)
    if value is None or value == "":
        raise InvalidPayload(f"missing field: {field}", field=field)
    return value


def _time(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    moment = parse_gmt(value)
    if moment is None:
        raise InvalidPayload(f"not a timestamp: {field}", field=field)
    return moment


def address(raw: dict[str, Any] | None) -> Address | None:
    """A billing or shipping block; None when WooCommerce sent it empty (virtual orders)."""
    if not isinstance(raw, dict):
        return None
    mapped = Address(
        first_name=_text(raw.get("first_name")),
        last_name=_text(raw.get("last_name")),
        company=_text(raw.get("company")),
        line1=_text(raw.get("address_1")),
        line2=_text(raw.get("address_2")),
        city=_text(raw.get("city")),
        province_code=_text(raw.get("state")),  # "ISO code or name" per WooCommerce; codes in practice
        postal_code=_text(raw.get("postcode")),
        country_code=_text(raw.get("country")),
        phone=_text(raw.get("phone")),
    )
    return None if mapped == Address() else mapped


def _unit_price(line_amount: Decimal, quantity: int) -> Decimal:
    """Exact when it divides (it nearly always does); else six places, enough to rebuild the line."""
    unit = line_amount / quantity
    if unit * quantity == line_amount and unit.as_tuple().exponent >= -6:  # type: ignore[operator]
        return unit
    return unit.quantize(UNIT_PLACES)


def _catalogue_id(value: Any) -> str | None:
    """A product or variation id; WooCommerce sends 0 for "none" (a simple product, a deleted one)."""
    text = _text(value)
    return None if text in (None, "0") else text


def _invalid(kind: str, error: ValidationError) -> InvalidPayload:
    fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()})
    return InvalidPayload(f"woocommerce {kind} does not map: {', '.join(fields)}", fields=fields)


class WooCommercePayloads:
    """StorePayloads for WooCommerce."""

    def order(self, store_id: str, payload: dict) -> Order:
        try:
            return self._order(store_id, payload)
        except ValidationError as error:
            raise _invalid("order", error) from error

    def customer(self, payload: dict) -> Customer:
        try:
            return self._customer(payload)
        except ValidationError as error:
            raise _invalid("customer", error) from error

    def _order(self, store_id: str, payload: dict[str, Any]) -> Order:
        order_id = _required(payload, "id")
        currency = str(_required(payload, "currency"))
        with_tax = bool(payload.get("prices_include_tax"))
        created_at = _time(_required(payload, "date_created_gmt"), "date_created_gmt")
        updated_at = _time(payload.get("date_modified_gmt"), "date_modified_gmt") or created_at

        def money(amount: Decimal) -> Money:
            return Money(amount=amount, currency=currency)

        def gross(net: Any, tax: Any, field: str) -> Decimal:
            amount = _decimal(net, field)
            return amount + _decimal(tax, field) if with_tax else amount

        items = [item for item in payload.get("line_items") or () if isinstance(item, dict)]
        if not items:
            raise InvalidPayload("order has no line items", field="line_items")
        lines = [self._line(item, money, gross) for item in items]
        fees = [self._fee(fee, money, gross) for fee in payload.get("fee_lines") or () if isinstance(fee, dict)]
        lines += [fee for fee in fees if fee.unit_price.amount >= 0]
        credits = tuple(OrderAdjustment(title=fee.title, amount=fee.unit_price) for fee in fees
                        if fee.unit_price.amount < 0)
        gift_cards = sum((_decimal(card.get("amount"), "gift_cards.amount")
                          for card in payload.get("gift_cards") or () if isinstance(card, dict)), Decimal(0))
        shipping_lines = tuple(
            ShippingLine(
                code=_text(line.get("method_id")),
                title=_text(line.get("method_title")) or "Shipping",
                price=money(gross(line.get("total"), line.get("total_tax"), "shipping_lines.total")),
                discount=money(Decimal(0)),  # WooCommerce shipping totals are already after discounts
                tax=money(_decimal(line.get("total_tax"), "shipping_lines.total_tax")),
            )
            for line in payload.get("shipping_lines") or () if isinstance(line, dict)
        )
        status = str(payload.get("status") or "pending")
        paid = payload.get("date_paid_gmt") not in (None, "")
        cancelled_at = None
        if status == "cancelled":
            # No cancellation date in the payload: the modification that cancelled it is the best we have.
            financial, fulfillment = (FinancialStatus.PAID if paid else FinancialStatus.VOIDED,
                                      FulfillmentStatus.UNFULFILLED)
            cancelled_at = updated_at
        elif status in STATUSES:
            financial, fulfillment = STATUSES[status]
        else:
            logger.warning("unknown woocommerce order status, taken as pending", extra={"status": status})
            financial, fulfillment = FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED
        billing = _block(payload, "billing")
        return Order(
            store=store_id,
            source_id=order_id,
            reference=f"#{_text(payload.get('number')) or order_id}",
            email=normalise_email(_text(billing.get("email"))),
            customer=self._order_customer(payload),
            currency=currency,
            lines=tuple(lines),
            shipping_lines=shipping_lines,
            discount_codes=tuple(code for line in payload.get("coupon_lines") or ()
                                 if isinstance(line, dict) and (code := _text(line.get("code")))),
            subtotal=money(sum((gross(item.get("total"), item.get("total_tax"), "line_items.total")
                                for item in items), Decimal(0))),
            total_discount=money(gross(payload.get("discount_total"), payload.get("discount_tax"), "discount_total")),
            total_tax=money(_decimal(payload.get("total_tax"), "total_tax")),
            total_shipping=money(gross(payload.get("shipping_total"), payload.get("shipping_tax"), "shipping_total")),
            total=money(_decimal(_required(payload, "total"), "total") + gift_cards),
            taxes_included=with_tax,
            adjustments=credits,
            gift_card_payments=money(gift_cards) if gift_cards else None,
            financial_status=financial,
            fulfillment_status=fulfillment,
            cancelled_at=cancelled_at,
            created_at=created_at,
            updated_at=updated_at,
            billing_address=address(billing),
            shipping_address=address(payload.get("shipping")),
        )

    @staticmethod
    def _line(item: dict[str, Any], money: Money_, gross: Callable[[Any, Any, str], Decimal]) -> OrderLine:
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise InvalidPayload("line item quantity is not a positive integer", field="line_items.quantity")
        before_discount = gross(item.get("subtotal"), item.get("subtotal_tax"), "line_items.subtotal")
        after_discount = gross(item.get("total"), item.get("total_tax"), "line_items.total")
        return OrderLine(
            source_line_id=_required(item, "id"),
            sku=_text(item.get("sku")),
            title=_text(item.get("name")) or "",
            product_ref=_catalogue_id(item.get("product_id")),
            variant_ref=_catalogue_id(item.get("variation_id")),
            quantity=quantity,
            unit_price=money(_unit_price(before_discount, quantity)),
            discount=money(before_discount - after_discount),
            tax=money(_decimal(item.get("total_tax"), "line_items.total_tax")),
        )

    @staticmethod
    def _fee(fee: dict[str, Any], money: Money_, gross: Callable[[Any, Any, str], Decimal]) -> OrderLine:
        return OrderLine(
            source_line_id=_required(fee, "id"),
            sku=None,
            title=_text(fee.get("name")) or "Fee",
            quantity=1,
            unit_price=money(gross(fee.get("total"), fee.get("total_tax"), "fee_lines.total")),
            discount=money(Decimal(0)),
            tax=money(_decimal(fee.get("total_tax"), "fee_lines.total_tax")),
        )

    @staticmethod
    def _order_customer(payload: dict[str, Any]) -> Customer | None:
        billing = _block(payload, "billing")
        email = normalise_email(_text(billing.get("email")))
        customer_id = payload.get("customer_id")
        if customer_id not in (None, 0, "0", ""):
            source_id = str(customer_id)
        elif email:
            source_id = "guest:" + hashlib.sha256(email.encode("utf-8")).hexdigest()[:24]
        else:
            return None
        billing_address = address(billing)
        shipping_address = address(payload.get("shipping"))
        return Customer(
            source_id=source_id,
            email=email,
            phone=_text(billing.get("phone")),
            first_name=_text(billing.get("first_name")),
            last_name=_text(billing.get("last_name")),
            addresses=tuple(dict.fromkeys(a for a in (billing_address, shipping_address) if a is not None)),
            default_address=billing_address or shipping_address,
        )

    @staticmethod
    def _customer(payload: dict[str, Any]) -> Customer:
        billing = _block(payload, "billing")
        billing_address = address(billing)
        shipping_address = address(payload.get("shipping"))
        return Customer(
            source_id=_required(payload, "id"),
            email=_text(payload.get("email")) or _text(billing.get("email")),
            phone=_text(billing.get("phone")),
            first_name=_text(payload.get("first_name")) or _text(billing.get("first_name")),
            last_name=_text(payload.get("last_name")) or _text(billing.get("last_name")),
            addresses=tuple(dict.fromkeys(a for a in (billing_address, shipping_address) if a is not None)),
            default_address=billing_address or shipping_address,
            created_at=_time(payload.get("date_created_gmt"), "date_created_gmt"),
            updated_at=_time(payload.get("date_modified_gmt"), "date_modified_gmt"),
        )
