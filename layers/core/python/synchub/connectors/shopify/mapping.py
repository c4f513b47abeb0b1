"""Shopify order and customer payloads (webhook / REST shape) to the canonical Order and Customer.

Amounts are the shop-currency decimal strings (`price`, `total_price`, ...), never floats. A payload
that cannot make a valid order raises InvalidPayload with the offending field, so it is parked.

What `total_price` holds beyond lines, shipping, tax and `total_discounts` (which includes shipping discounts):
- tips: `total_tip_received`. A tip can also come as a line item carrying `tip_payment_gateway` ("present
  only on tips"); such a line is the tip, not a sale line, so it is taken out of the lines.
- duties: `original_total_duties_set` (what was charged when the order was placed, the figure `total_price`
  holds; `current_total_duties_set` moves with later refunds), else the sum of the lines' `duties`. An edited,
  unrefunded order is read from its `current_*` figures (order_edits.py), and then duties and fees from
  `current_total_duties_set` / `current_total_additional_fees_set`, in step with `current_total_price`.
- additional fees: `original_total_additional_fees_set`, an order-level adjustment.
- a gift card *sold* is a line with `"gift_card": true`: money the shop owes, booked apart from product sales.
- a gift card *redeemed* is not a price reduction: Shopify records it as a payment transaction (gateway
  `gift_card`) and leaves `total_price` whole; only `total_outstanding` drops. So it adds no sale line; the
  order body carries no redeemed amount (it lives in the order's transactions), so `gift_card_payments` stays
  unset here.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from synchub.connectors.shopify.order_edits import (
    is_removed,
    kept_discount,
    refunded_units,
    sold_quantity,
    total_fields,
)
from synchub.connectors.shopify.webhooks import parse_timestamp
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
    minor_unit_exponent,
    normalise_email,
)

logger = Logger(service="synchub")

FINANCIAL: dict[str, FinancialStatus] = {
    "pending": FinancialStatus.PENDING,
    "authorized": FinancialStatus.AUTHORIZED,
    "partially_paid": FinancialStatus.PARTIALLY_PAID,
    "paid": FinancialStatus.PAID,
    "partially_refunded": FinancialStatus.PARTIALLY_REFUNDED,
    "refunded": FinancialStatus.REFUNDED,
    "voided": FinancialStatus.VOIDED,
    # An authorisation that lapsed took no money, like a voided one.
    "expired": FinancialStatus.VOIDED,
}

FULFILLMENT: dict[str | None, FulfillmentStatus] = {
    None: FulfillmentStatus.UNFULFILLED,
    "unfulfilled": FulfillmentStatus.UNFULFILLED,
    "partial": FulfillmentStatus.PARTIAL,
    "fulfilled": FulfillmentStatus.FULFILLED,
    # Shipped items came back to stock: nothing is out with the customer any more.
    "restocked": FulfillmentStatus.UNFULFILLED,
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    cleaned = str(value).strip()
    return cleaned or None


def _decimal(value: Any, field: str) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    try:
        # str() first: a float that slipped in is taken at its printed value, not its binary one.
        return Decimal(str(value))
    except InvalidOperation as error:
        raise InvalidPayload(f"not a decimal amount: {field}", field=field) from error


def _sum(items: Iterable[dict[str, Any]] | None, key: str, field: str) -> Decimal:
    return sum((_decimal(item.get(key), field) for item in items or () if isinstance(item, dict)), Decimal(0))


def _shop_money(value: Any, field: str) -> Decimal | None:
    """The shop-currency amount of a Shopify money set (`{"shop_money": {"amount": ...}, ...}`); None when absent."""
    shop = value.get("shop_money") if isinstance(value, dict) else None
    amount = shop.get("amount") if isinstance(shop, dict) else None
    return None if amount in (None, "") else _decimal(amount, field)


def _is_tip(item: Any) -> bool:
    return isinstance(item, dict) and bool(item.get("tip_payment_gateway"))


def _duties(payload: dict[str, Any], field: str = "original_total_duties_set") -> Decimal:
    total = _shop_money(payload.get(field), field)
    if total is not None:
        return total
    duties = Decimal(0)
    for item in payload.get("line_items") or ():
        for duty in (item.get("duties") or ()) if isinstance(item, dict) else ():
            if isinstance(duty, dict):
                amount = _shop_money(duty, "line_items.duties")
                if amount is None:
                    amount = _shop_money(duty.get("price_set"), "line_items.duties.price_set")
                duties += amount or Decimal(0)
    return duties


def _tip(payload: dict[str, Any]) -> Decimal:
    received = _decimal(payload.get("total_tip_received"), "total_tip_received")
    if received:
        return received
    return sum((_decimal(item.get("price"), "line_items.price") * int(item.get("quantity") or 1)
                for item in payload.get("line_items") or () if _is_tip(item)), Decimal(0))


def _time(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    moment = parse_timestamp(value)
    if moment is None:
        raise InvalidPayload(f"not a timestamp: {field}", field=field)
    return moment


def _required(payload: dict[str, Any], field: str) -> Any:
    value = payload.get(field)
    if value is None or value == "":
        raise InvalidPayload(f"missing field: {field}", reason="invalid_payload", field=field)
    return value


def address(raw: dict[str, Any] | None) -> Address | None:
    """A Shopify address; None when absent or empty."""
    if not isinstance(raw, dict):
        return None
    mapped = Address(
        first_name=_text(raw.get("first_name")),
        last_name=_text(raw.get("last_name")),
        company=_text(raw.get("company")),
        line1=_text(raw.get("address1")),
        line2=_text(raw.get("address2")),
        city=_text(raw.get("city")),
        province_code=_text(raw.get("province_code")),
        postal_code=_text(raw.get("zip")),
        country_code=_text(raw.get("country_code")),
        phone=_text(raw.get("phone")),
    )
    return None if mapped == Address() else mapped


def _refunded(payload: dict[str, Any]) -> Decimal | None:
    """Money returned so far: the successful refund transactions of the order's refunds; None if it has none."""
    refunds = [refund for refund in payload.get("refunds") or () if isinstance(refund, dict)]
    if not refunds:
        return None
    return sum((_decimal(transaction.get("amount"), "refunds.transactions.amount")
                for refund in refunds for transaction in refund.get("transactions") or ()
                if isinstance(transaction, dict) and transaction.get("kind") == "refund"
                and transaction.get("status") == "success"), Decimal(0))


class ShopifyPayloads:
    """StorePayloads for Shopify."""

    def order(self, store_id: str, payload: dict) -> Order:
        try:
            return self._order(store_id, payload)
        except ValidationError as error:
            fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()})
            raise InvalidPayload(f"shopify order does not map: {', '.join(fields)}", fields=fields) from error

    def customer(self, payload: dict) -> Customer:
        try:
            return self._customer(payload)
        except ValidationError as error:
            fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()})
            raise InvalidPayload(f"shopify customer does not map: {', '.join(fields)}", fields=fields) from error

    def _order(self, store_id: str, payload: dict[str, Any]) -> Order:
        order_id = _required(payload, "id")
        currency = str(_required(payload, "currency"))
        created_at = _time(_required(payload, "created_at"), "created_at")
        updated_at = _time(payload.get("updated_at"), "updated_at") or created_at

        def money(amount: Decimal) -> Money:
            return Money(amount=amount, currency=currency)

        # After an order edit: current quantities, lines the edit removed left out (order_edits.py); a tip line
        # is the tip, not a sale line.
        refunded = refunded_units(payload)
        totals = total_fields(payload)
        exponent = minor_unit_exponent(currency)
        lines = tuple(self._line(item, money, refunded, exponent) for item in payload.get("line_items") or ()
                      if not is_removed(item, refunded) and not _is_tip(item))
        if not lines:
            raise InvalidPayload("order has no line items", field="line_items")
        shipping_lines = tuple(
            ShippingLine(
                code=_text(line.get("code")),
                title=_text(line.get("title")) or "Shipping",
                price=money(_decimal(line.get("price"), "shipping_lines.price")),
                discount=money(_sum(line.get("discount_allocations"), "amount", "shipping_lines.discount_allocations")),
                tax=money(_sum(line.get("tax_lines"), "price", "shipping_lines.tax_lines")),
            )
            # Shipping lines removed by an order edit stay in the payload, flagged; they are not charged.
            for line in payload.get("shipping_lines") or () if isinstance(line, dict) and not line.get("is_removed")
        )
        shipping_set = (payload.get("total_shipping_price_set") or {}).get("shop_money") or {}
        total_shipping = (_decimal(shipping_set.get("amount"), "total_shipping_price_set")
                          if shipping_set.get("amount") not in (None, "")
                          else sum((line.price.amount for line in shipping_lines), Decimal(0)))
        financial = payload.get("financial_status")
        if financial is not None and financial not in FINANCIAL:
            logger.warning("unknown shopify financial_status, taken as pending", extra={"status": financial})
        fulfillment = payload.get("fulfillment_status")
        if fulfillment not in FULFILLMENT:
            logger.warning("unknown shopify fulfillment_status, taken as unfulfilled", extra={"status": fulfillment})
        customer = self._customer(payload["customer"]) if isinstance(payload.get("customer"), dict) else None
        email = normalise_email(_text(payload.get("email")) or _text(payload.get("contact_email")))
        if customer is not None and customer.email is None and email:
            # Order payloads may carry the e-mail on the order only; the contact key needs it.
            customer = customer.model_copy(update={"email": email})
        return Order(
            store=store_id,
            source_id=order_id,
            reference=_text(payload.get("name")) or f"#{payload.get('order_number') or order_id}",
            email=email,
            customer=customer,
            currency=currency,
            lines=lines,
            shipping_lines=shipping_lines,
            discount_codes=tuple(code for item in payload.get("discount_codes") or ()
                                 if isinstance(item, dict) and (code := _text(item.get("code")))),
            subtotal=money(_decimal(payload.get(totals["subtotal_price"]), totals["subtotal_price"])),
            total_discount=money(self._total_discount(payload, totals["total_discounts"], lines, shipping_lines)),
            total_tax=money(_decimal(payload.get(totals["total_tax"]), totals["total_tax"])),
            total_shipping=money(total_shipping),
            total=money(_decimal(_required(payload, totals["total_price"]), totals["total_price"])),
            taxes_included=bool(payload.get("taxes_included")),
            total_tip=money(_tip(payload)),
            total_duties=money(_duties(payload, totals["total_duties_set"])),
            adjustments=tuple(
                OrderAdjustment(title="Additional fees", amount=money(fees))
                for fees in (_shop_money(payload.get(totals["total_additional_fees_set"]),
                                         totals["total_additional_fees_set"]),) if fees),
            financial_status=FINANCIAL.get(financial or "", FinancialStatus.PENDING),
            fulfillment_status=FULFILLMENT.get(fulfillment, FulfillmentStatus.UNFULFILLED),
            cancelled_at=_time(payload.get("cancelled_at"), "cancelled_at"),
            created_at=created_at,
            updated_at=updated_at,
            billing_address=address(payload.get("billing_address")),
            shipping_address=address(payload.get("shipping_address")),
            test=bool(payload.get("test")),
            refunded=money(refunded_total) if (refunded_total := _refunded(payload)) is not None else None,
        )

    @staticmethod
    def _total_discount(payload: dict[str, Any], field: str, lines: Iterable[OrderLine],
                        shipping_lines: Iterable[ShippingLine]) -> Decimal:
        """`total_discounts`, or the lines' and shipping lines' discount allocations when they say more: a
        shipping discount appears in the shipping line's `discount_allocations` whether or not the order's
        `total_discounts` counts it, and `total_price` is always net of it. `field` is `current_total_discounts`
        for an edited order (order_edits.total_fields)."""
        stated = _decimal(payload.get(field), field)
        allocated = (sum((line.discount.amount for line in lines), Decimal(0))
                     + sum((shipping.discount.amount for shipping in shipping_lines), Decimal(0)))
        return max(stated, allocated)

    @staticmethod
    def _line(item: dict[str, Any], money: Callable[[Decimal], Money], refunded: Counter[str],
              exponent: int) -> OrderLine:
        if not isinstance(item, dict):
            raise InvalidPayload("line item is not an object", field="line_items")
        return OrderLine(
            source_line_id=_required(item, "id"),
            sku=_text(item.get("sku")),
            title=_text(item.get("title")) or _text(item.get("name")) or "",
            # Custom items (added by hand, or by apps) carry no product or variant: only they are fees.
            product_ref=_text(item.get("product_id")),
            variant_ref=_text(item.get("variant_id")),
            quantity=sold_quantity(item, refunded),
            unit_price=money(_decimal(item.get("price"), "line_items.price")),
            discount=money(kept_discount(item, refunded, _sum(item.get("discount_allocations"), "amount",
                                                              "line_items.discount_allocations"), exponent)),
            tax=money(_sum(item.get("tax_lines"), "price", "line_items.tax_lines")),
            gift_card=item.get("gift_card") is True,
        )

    @staticmethod
    def _customer(payload: dict[str, Any]) -> Customer:
        default = address(payload.get("default_address"))
        addresses = tuple(mapped for raw in payload.get("addresses") or () if (mapped := address(raw)))
        if default is not None and default not in addresses:
            addresses = (default, *addresses)
        return Customer(
            source_id=_required(payload, "id"),
            email=_text(payload.get("email")),
            phone=_text(payload.get("phone")),
            first_name=_text(payload.get("first_name")),
            last_name=_text(payload.get("last_name")),
            addresses=addresses,
            default_address=default,
            created_at=_time(payload.get("created_at"), "created_at"),
            updated_at=_time(payload.get("updated_at"), "updated_at"),
        )
