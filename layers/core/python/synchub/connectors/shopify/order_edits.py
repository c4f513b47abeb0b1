"""A Shopify order as it stands after order edits: the quantity still sold per line, and which totals to read.

Shopify keeps a line's `quantity` as first ordered. `current_quantity` (REST 2024-01 and later, GraphQL
`currentQuantity`) is "the number of units ordered, excluding refunded and removed units": it drops both the
units an order edit removed and the units refunded. Refunds reach the ERP as credit notes of their own, so the
sale must keep refunded units: the quantity sold is `current_quantity` plus the units refunded on that line
(`refunds[].refund_line_items[]`). A line whose quantity sold is 0 was removed by an edit and is not sold.

Totals follow the same rule. The `current_*` totals reflect "order edits, returns, and refunds"; they are read
when the order was edited and nothing was refunded, where they are exactly the edited order. Otherwise the
`total_*` figures stand (Shopify's "before returns" totals), so a refund never lowers the sale a second time.
A line lowered by an edit keeps its discount per unit: its `discount_allocations` (stated for the units
ordered) are prorated to the units still sold.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

TOTALS = ("total_price", "subtotal_price", "total_tax", "total_discounts")
SETS = ("total_duties_set", "total_additional_fees_set")  # money sets, `original_*` as placed


def refunded_units(payload: dict[str, Any]) -> Counter[str]:
    """Units refunded per line item id, over every refund the order carries."""
    units: Counter[str] = Counter()
    for refund in _objects(payload.get("refunds")):
        for item in _objects(refund.get("refund_line_items")):
            line_id = item.get("line_item_id")
            quantity = item.get("quantity")
            if line_id is not None and isinstance(quantity, int) and not isinstance(quantity, bool):
                units[str(line_id)] += quantity
    return units


def sold_quantity(item: dict[str, Any], refunded: Counter[str]) -> Any:
    """The units of this line still sold after edits (refunded units included); `quantity` before 2024-01."""
    current = item.get("current_quantity")
    if not isinstance(current, int) or isinstance(current, bool):
        return item.get("quantity")  # left to the model's validation when absent or malformed
    return current + refunded.get(str(item.get("id")), 0)


def kept_discount(item: dict[str, Any], refunded: Counter[str], allocated: Decimal, exponent: int) -> Decimal:
    """The part of a line's `discount_allocations` (stated for the units ordered) on the units still sold: an
    edit that lowers a line keeps its discount per unit, as Shopify's `current_total_discounts` does."""
    ordered, sold = item.get("quantity"), sold_quantity(item, refunded)
    if not isinstance(ordered, int) or not isinstance(sold, int) or not ordered or sold >= ordered:
        return allocated
    return (allocated * sold / ordered).quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)


def is_removed(item: Any, refunded: Counter[str]) -> bool:
    """A line an order edit took out entirely: its current quantity, refunds added back, is 0."""
    if not isinstance(item, dict) or not isinstance(item.get("current_quantity"), int):
        return False
    return bool(sold_quantity(item, refunded) == 0 != item.get("quantity"))


def was_edited(payload: dict[str, Any], refunded: Counter[str]) -> bool:
    """Whether an order edit changed some line's quantity (a line removed, raised or lowered)."""
    return any(sold_quantity(item, refunded) != item.get("quantity") for item in _objects(payload.get("line_items")))


def total_fields(payload: dict[str, Any]) -> dict[str, str]:
    """Canonical total -> the payload field to read it from: `current_*` for an edited, unrefunded order.

    Duties and additional fees move with them (`total_duties_set` / `total_additional_fees_set` name the
    `original_*` sets, or the `current_*` ones for an edited order): an edit that removes a dutiable line
    lowers `current_total_duties_set`, and `current_total_price` is net of it."""
    refunded = refunded_units(payload)
    current = not refunded and not _objects(payload.get("refunds")) and was_edited(payload, refunded)
    fields = {name: f"current_{name}" if current and payload.get(f"current_{name}") not in (None, "") else name
              for name in TOTALS}
    for name in SETS:
        fields[name] = (f"current_{name}" if current and payload.get(f"current_{name}") is not None
                        else f"original_{name}")
    return fields


def _objects(value: Any) -> list[dict[str, Any]]:
    items: Iterable[Any] = value if isinstance(value, list) else ()
    return [item for item in items if isinstance(item, dict)]
