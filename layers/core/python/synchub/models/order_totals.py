"""What a store order's total is made of, in the currency's minor units: the pieces an ERP books, and whether
they add up to the store's total.

Every piece is rounded to the currency's minor unit (ISO 4217: JPY 0 places, EUR 2, KWD 3) the way an ERP
rounds a line amount (half to even, the usual ERP default), so "balanced" means the booked lines sum to
the store total to the minor unit.
A gift card *redeemed* is not a piece: it is a payment already inside the total (see Order.gift_card_payments).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from synchub.models.money import minor_unit_exponent, to_minor_unit
from synchub.models.order import Order, OrderLine

__all__ = ["TotalBreakdown", "TotalPart", "TotalPiece", "minor_unit_exponent", "order_total_breakdown",
           "to_minor_unit"]


class TotalPart(StrEnum):
    ITEM = "item"            # a catalogue product sold
    FEE = "fee"              # a charge with no product (gift wrap, custom item)
    GIFT_CARD = "gift_card"  # a gift card sold: a liability, not revenue
    SHIPPING = "shipping"
    TAX = "tax"              # tax collected on top of the prices (none when prices include tax)
    TIP = "tip"
    DUTY = "duty"
    ADJUSTMENT = "adjustment"  # order-level charge or credit, and sub-minor-unit rounding
    DISCOUNT = "discount"


@dataclass(frozen=True)
class TotalPiece:
    """One amount to book: `quantity` * `unit_price`, its `amount` rounded to the minor unit."""

    part: TotalPart
    title: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    line: OrderLine | None = None


@dataclass(frozen=True)
class TotalBreakdown:
    currency: str
    exponent: int
    pieces: tuple[TotalPiece, ...]
    store_total: Decimal

    @property
    def expected(self) -> Decimal:
        return sum((piece.amount for piece in self.pieces), Decimal(0))

    @property
    def difference(self) -> Decimal:
        """Store total minus what the pieces add up to: zero when the order is explained."""
        return self.store_total - self.expected

    @property
    def balanced(self) -> bool:
        return self.difference == 0

    def figures(self) -> dict[str, str]:
        """Each component summed, the expected and store totals and the difference, as decimal strings."""
        sums: dict[str, Decimal] = {}
        for piece in self.pieces:
            sums[piece.part.value] = sums.get(piece.part.value, Decimal(0)) + piece.amount
        places = Decimal(1).scaleb(-self.exponent)
        shown = {part: str(amount.quantize(places)) for part, amount in sums.items()}
        return {**shown, "expected_total": str(self.expected.quantize(places)),
                "store_total": str(self.store_total.quantize(places)),
                "difference": str(self.difference.quantize(places)), "currency": self.currency}


def order_total_breakdown(order: Order) -> TotalBreakdown:
    """The pieces of `order.total`, each rounded to the minor unit, plus a rounding piece when the only gap
    is what per-line rounding of sub-minor-unit prices can leave (at most half a minor unit per line)."""
    exponent = minor_unit_exponent(order.currency)
    one = Decimal(1)

    def piece(part: TotalPart, title: str, unit_price: Decimal, quantity: Decimal = one,
              line: OrderLine | None = None) -> TotalPiece:
        return TotalPiece(part, title, quantity, unit_price, to_minor_unit(quantity * unit_price, exponent), line)

    pieces = [piece(_line_part(line), line.title, line.unit_price.amount, Decimal(line.quantity), line)
              for line in order.lines]
    pieces += [piece(TotalPart.SHIPPING, shipping.title, shipping.price.amount) for shipping in order.shipping_lines]
    if not order.taxes_included and order.total_tax.amount:
        pieces.append(piece(TotalPart.TAX, "Tax collected by the store", order.total_tax.amount))
    if order.total_tip is not None and order.total_tip.amount:
        pieces.append(piece(TotalPart.TIP, "Tip", order.total_tip.amount))
    if order.total_duties is not None and order.total_duties.amount:
        pieces.append(piece(TotalPart.DUTY, "Duties", order.total_duties.amount))
    pieces += [piece(TotalPart.ADJUSTMENT, adjustment.title, adjustment.amount.amount)
               for adjustment in order.adjustments if adjustment.amount.amount]
    if order.total_discount.amount:
        codes = ", ".join(order.discount_codes)
        pieces.append(piece(TotalPart.DISCOUNT, f"Discount ({codes})" if codes else "Discount",
                            -order.total_discount.amount))
    store_total = to_minor_unit(order.total.amount, exponent)
    gap = store_total - sum((p.amount for p in pieces), Decimal(0))
    if gap and abs(gap) <= _rounding_allowance(pieces, exponent):
        pieces.append(piece(TotalPart.ADJUSTMENT, "Rounding", gap))
    return TotalBreakdown(order.currency, exponent, tuple(pieces), store_total)


def _line_part(line: OrderLine) -> TotalPart:
    if line.gift_card:
        return TotalPart.GIFT_CARD
    return TotalPart.FEE if line.is_fee else TotalPart.ITEM


def _rounding_allowance(pieces: Iterable[TotalPiece], exponent: int) -> Decimal:
    """Half a minor unit for each piece whose exact amount was finer than the minor unit."""
    inexact = sum(1 for p in pieces if p.quantity * p.unit_price != p.amount)
    return Decimal(inexact) * Decimal(1).scaleb(-exponent) / 2
