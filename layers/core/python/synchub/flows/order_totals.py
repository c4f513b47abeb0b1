"""The total check every order passes before it reaches an ERP: the store's total must be explained, to the
currency's minor unit, by its lines, shipping, tax, tip, duties, order-level adjustments and discounts.

Vendor-neutral: it reads only the canonical Order. An unexplained difference parks the order as
`total_mismatch` with every component in the error, before any ERP write.
"""
from __future__ import annotations

from synchub.errors import TotalMismatch
from synchub.models import Order, TotalBreakdown, order_total_breakdown


def checked_total_breakdown(order: Order) -> TotalBreakdown:
    """The pieces to book for `order`; raises TotalMismatch when they do not add up to the store's total."""
    breakdown = order_total_breakdown(order)
    if not breakdown.balanced:
        raise TotalMismatch(order.reference, breakdown.figures())
    return breakdown
