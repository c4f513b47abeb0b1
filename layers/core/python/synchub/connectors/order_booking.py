"""What every ERP adapter checks before it books a store order: each catalogue line has its ERP product, and
the parts of the total add up to the store's total (models/order_totals); then it books the breakdown."""
from __future__ import annotations

from synchub.errors import MissingSku, TotalMismatch, UnknownSku
from synchub.models import Order
from synchub.models.order_totals import TotalBreakdown, order_total_breakdown


def bookable_breakdown(order: Order, products: dict[str, str]) -> TotalBreakdown:
    """The order's total, part by part, once every line can be booked; `products` maps a line's product key."""
    unknown = [line.sku for line in order.lines if line.sku and line.needs_product and not products.get(line.sku)]
    if unknown:
        raise UnknownSku(unknown)
    unresolved = [line for line in order.lines_without_sku if not products.get(line.product_key or "")]
    if unresolved:  # never book a catalogue product on the fee service
        raise MissingSku([line.source_line_id for line in unresolved],
                         [line.store_item_ref or "" for line in unresolved])
    breakdown = order_total_breakdown(order)
    if not breakdown.balanced:  # the flow checks first; a direct caller must not book invented money
        raise TotalMismatch(order.reference, breakdown.figures())
    return breakdown
