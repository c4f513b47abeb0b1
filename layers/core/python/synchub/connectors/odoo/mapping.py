"""Canonical models to Odoo record values and back: partners, sale lines and states, stock watermarks."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from synchub.models import Address, Customer
from synchub.ports import SalesOrderRef

SALE_FIELDS = ["name", "state", "client_order_ref", "amount_total", "locked"]
PARTNER_FIELDS = ["name", "email", "phone", "street", "street2", "city", "zip", "country_id"]
# sale.order states (17+: draft, sent, sale, cancel; `done` before 17) as SalesOrderRef reports them.
STATES = {"draft": "draft", "sent": "quotation", "sale": "confirmed", "done": "done", "cancel": "cancelled"}
OPEN = ("draft", "sent")
STAMP = "%Y-%m-%d %H:%M:%S"  # Odoo's datetime wire format, UTC


def many2one_id(value: Any) -> int | None:
    """A many2one as read (`[id, "display name"]`, or `false`) to its id."""
    if isinstance(value, (list, tuple)) and value:
        return int(value[0])
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def partner_values(customer: Customer, reference: str, country_id: int | None) -> dict[str, Any]:
    """res.partner values: name, e-mail, phone and the default (else first) address; `ref` holds our reference."""
    address = customer.default_address or (customer.addresses[0] if customer.addresses else None)
    values: dict[str, Any] = {"name": customer.display_name, "ref": reference, "email": customer.email or False,
                              "phone": customer.phone or (address.phone if address else None) or False}
    if address is not None:
        values.update(address_values(address, country_id))
    return values


def address_values(address: Address, country_id: int | None) -> dict[str, Any]:
    return {"street": address.line1 or False, "street2": address.line2 or False, "city": address.city or False,
            "zip": address.postal_code or False, "country_id": country_id or False}


def partner_changes(row: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """The fields of `wanted` that differ from the partner as read (many2one read as [id, name])."""
    changes = {}
    for field, value in wanted.items():
        if field == "ref":
            continue
        have = many2one_id(row.get(field)) if field.endswith("_id") else row.get(field)
        if (have or False) != (value or False):
            changes[field] = value
    return changes


@dataclass(frozen=True)
class LineSpec:
    """One sale line as SyncHub wants it: product, quantity, unit price and a description."""

    product: int
    quantity: Decimal
    unit_price: Decimal
    description: str

    def key(self) -> tuple[int, Decimal, Decimal]:
        return self.product, self.quantity.normalize(), self.unit_price.normalize()


def line_values(spec: LineSpec, tax_field: str) -> dict[str, Any]:
    """sale.order.line values. Taxes cleared: the store collected them and a TAX line carries them."""
    return {"product_id": spec.product, "product_uom_qty": float(spec.quantity),
            "price_unit": float(spec.unit_price), "name": spec.description, tax_field: [[6, 0, []]]}


def line_commands(specs: Sequence[LineSpec], tax_field: str, *, replace: bool = False) -> list[list[Any]]:
    """`order_line` commands: (0, 0, values) per line, after (5, 0, 0) (drop every line) when replacing."""
    commands: list[list[Any]] = [[5, 0, 0]] if replace else []
    return commands + [[0, 0, line_values(spec, tax_field)] for spec in specs]


def same_lines(wanted: Sequence[LineSpec], current: Iterable[dict[str, Any]]) -> bool:
    """Compare as multisets (order and float scale do not matter); section and note rows are skipped."""
    have = sorted((many2one_id(row["product_id"]) or 0, Decimal(str(row["product_uom_qty"])).normalize(),
                   Decimal(str(row["price_unit"])).normalize())
                  for row in current if not row.get("display_type"))
    return have == sorted(spec.key() for spec in wanted)


def sale_ref(row: dict[str, Any]) -> SalesOrderRef:
    total = row.get("amount_total")
    return SalesOrderRef(id=str(row["id"]), number=row.get("name") or None,
                         state=STATES.get(row["state"], row["state"]), reference=row.get("client_order_ref") or "",
                         total=str(Decimal(str(total))) if total is not None else None)


# Stock watermark: "<newest write_date>|<quant id>@<write_date>#<quantity>/<reserved>,...". Odoo stamps
# write_date with the transaction's start, so a quant can commit after a later-stamped one was read: each
# poll re-reads an overlap window and skips the quant versions listed, which were already reported.

def parse_stamp(value: str) -> dt.datetime:
    return dt.datetime.strptime(value[:19], STAMP)


def quant_key(row: dict[str, Any]) -> str:
    """A quant's version: write_date has whole seconds over the API, so its quantities go in too (a quant
    written twice in one second still changes key)."""
    return f"{row['id']}@{row['write_date']}#{row['quantity']:g}/{row['reserved_quantity']:g}"


def encode_watermark(newest: dt.datetime, seen: Iterable[str]) -> str:
    keys = ",".join(sorted(set(seen)))
    stamp = newest.strftime(STAMP)
    return f"{stamp}|{keys}" if keys else stamp


def decode_watermark(value: str) -> tuple[dt.datetime, frozenset[str]]:
    stamp, _, keys = value.partition("|")
    try:
        newest = parse_stamp(stamp)
    except ValueError:
        raise ValueError(f"not an Odoo stock watermark: {value[:40]!r}") from None
    return newest, frozenset(key for key in keys.split(",") if key)


def as_utc(stamp: dt.datetime | None) -> dt.datetime | None:
    return stamp.replace(tzinfo=dt.UTC) if stamp else None
