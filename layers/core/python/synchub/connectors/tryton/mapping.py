"""Canonical models to Tryton record values and back: parties, addresses, sale lines, stock watermarks."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from synchub.models import Address, Customer, TotalBreakdown, TotalPart
from synchub.models.order_totals import to_minor_unit
from synchub.ports import SalesOrderRef

SALE_FIELDS = ["number", "state", "reference", "total_amount", "shipment_state", "invoice_state"]
_EPOCH = dt.datetime(1970, 1, 1)


def party_name(customer: Customer) -> str:
    """First and last name exactly as given (any script); e-mail or store id when the store has no name."""
    return customer.display_name


def street(address: Address) -> str | None:
    lines = [line for line in (address.line1, address.line2) if line]
    return "\n".join(lines) or None


def address_values(address: Address, country_id: int | None) -> dict[str, Any]:
    names = " ".join(part for part in (address.first_name, address.last_name) if part)
    return {
        "party_name": names or None,
        "name": address.company or None,
        "street": street(address),
        "city": address.city or None,
        "postal_code": address.postal_code or None,
        "country": country_id,
    }


def address_key(values: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two addresses the same place for the same recipient; read rows and new values alike."""
    def text(value: Any) -> str:
        return (value or "").strip()

    return (text(values.get("party_name")), text(values.get("name")), text(values.get("street")),
            text(values.get("city")), text(values.get("postal_code")), values.get("country"))


def contact_values(customer: Customer) -> list[dict[str, str]]:
    """E-mail and phone as contact mechanisms. A phone that is not E.164 is kept as "other", never dropped:
    Tryton rejects phone values it cannot parse."""
    mechanisms = []
    if customer.email:
        mechanisms.append({"type": "email", "value": customer.email})
    if customer.phone:
        kind = "phone" if customer.phone.startswith("+") else "other"
        mechanisms.append({"type": kind, "value": customer.phone})
    return mechanisms


def sale_ref(row: dict[str, Any], *, cancelled: bool = False) -> SalesOrderRef:
    """`cancelled` marks a processed sale whose shipments and invoices were all cancelled (see erp.py)."""
    total = row.get("total_amount")
    return SalesOrderRef(id=str(row["id"]), number=row.get("number") or None,
                         state="cancelled" if cancelled else row["state"], reference=row.get("reference") or "",
                         total=str(total) if total is not None else None)


@dataclass(frozen=True)
class LineSpec:
    """One sale line as SyncHub wants it: product, quantity, unit price and a description."""

    product: int
    quantity: Decimal
    unit_price: Decimal
    description: str

    def key(self) -> tuple[int, Decimal, Decimal]:
        return self.product, self.quantity.normalize(), self.unit_price.normalize()


# ERP service products (codes) for the parts of an order total that are not catalogue products. Shipping and
# fees come from the connection's settings (ErpSettings.shipping_product / fee_product).
DISCOUNT_PRODUCT = "DISCOUNT"
TAX_PRODUCT = "TAX"
TIP_PRODUCT = "TIP"
DUTY_PRODUCT = "DUTY"
GIFT_CARD_PRODUCT = "GIFT_CARD"  # gift cards sold: book it to the gift-card liability account, not revenue
ADJUSTMENT_PRODUCT = "ADJUSTMENT"
SERVICE_PRODUCTS: dict[TotalPart, str] = {
    TotalPart.DISCOUNT: DISCOUNT_PRODUCT, TotalPart.TAX: TAX_PRODUCT, TotalPart.TIP: TIP_PRODUCT,
    TotalPart.DUTY: DUTY_PRODUCT, TotalPart.GIFT_CARD: GIFT_CARD_PRODUCT, TotalPart.ADJUSTMENT: ADJUSTMENT_PRODUCT,
}


PRICE_PLACES = Decimal("0.0001")  # Tryton's default price_digits (16, 4): a unit price with more is refused


def sale_line_specs(breakdown: TotalBreakdown, products: dict[str, str],
                    service: Callable[[TotalPart], int]) -> list[LineSpec]:
    """One sale line per piece of the order total, so the sale's total is the store's to the minor unit.

    A catalogue line keeps its quantity and the store's unit price (Tryton rounds its amount as the piece
    was rounded); every other piece is one unit at its rounded amount. `products` maps a line's
    `product_key` to the ERP product; `service` gives the ERP service product of a non-catalogue part.
    A unit price finer than Tryton's four places is rounded to them, and what that moves in the sale total
    (a fraction of a minor unit per line) is booked on one ADJUSTMENT line, "Rounding".
    """
    specs = []
    for piece in breakdown.pieces:
        line = piece.line
        if piece.part is TotalPart.ITEM and line is not None:
            product = int(products[line.product_key or ""])
        elif line is not None:  # a fee or a gift card sold: keeps its quantity and unit price
            product = service(piece.part)
        else:
            specs.append(LineSpec(service(piece.part), Decimal(1), piece.amount, piece.title))
            continue
        specs.append(LineSpec(product, piece.quantity, piece.unit_price.quantize(PRICE_PLACES, ROUND_HALF_EVEN),
                              piece.title))
    booked = sum((to_minor_unit(spec.quantity * spec.unit_price, breakdown.exponent) for spec in specs), Decimal(0))
    if booked != breakdown.store_total:
        specs.append(LineSpec(service(TotalPart.ADJUSTMENT), Decimal(1), breakdown.store_total - booked, "Rounding"))
    return specs


def line_values(spec: LineSpec, unit: int) -> dict[str, Any]:
    return {"type": "line", "product": spec.product, "quantity": float(spec.quantity), "unit": unit,
            "unit_price": spec.unit_price, "description": spec.description}


def same_lines(wanted: Sequence[LineSpec], current: Iterable[dict[str, Any]]) -> bool:
    """Compare as multisets: order of lines and price scale (24.00 vs 24.0000) do not matter."""
    have = sorted((row["product"], Decimal(str(row["quantity"])).normalize(), Decimal(row["unit_price"]).normalize())
                  for row in current if row.get("type", "line") == "line")
    return have == sorted(spec.key() for spec in wanted)


# Stock watermark: "<max stamp ISO>|<move id>:<stamp µs>,...". The listed moves are those already
# returned inside the overlap window, so a re-read of the window skips them without skipping a move
# that committed late with an older stamp (Tryton stamps rows with the transaction's start time).

def move_stamp(row: dict[str, Any]) -> dt.datetime:
    return row.get("write_date") or row["create_date"]


def move_key(row: dict[str, Any]) -> str:
    return f"{row['id']}:{(move_stamp(row) - _EPOCH) // dt.timedelta(microseconds=1)}"


def encode_watermark(newest: dt.datetime, seen: Iterable[str]) -> str:
    keys = ",".join(sorted(set(seen)))
    return f"{newest.isoformat()}|{keys}" if keys else newest.isoformat()


def decode_watermark(value: str) -> tuple[dt.datetime, frozenset[str]]:
    stamp, _, keys = value.partition("|")
    try:
        newest = dt.datetime.fromisoformat(stamp)
    except ValueError:
        raise ValueError(f"not a Tryton stock watermark: {value[:40]!r}") from None
    return newest.replace(tzinfo=None), frozenset(key for key in keys.split(",") if key)


def as_utc(stamp: dt.datetime | None) -> dt.datetime | None:
    """Tryton keeps naive UTC timestamps."""
    return stamp.replace(tzinfo=dt.UTC) if stamp else None
