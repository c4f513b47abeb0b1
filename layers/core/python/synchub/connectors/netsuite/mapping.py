"""Canonical models to NetSuite REST record bodies and back: external ids, customers, sales order lines and
statuses, SuiteQL literals and the stock watermark."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from synchub.models import Customer
from synchub.ports import SalesOrderRef

# salesOrder.orderStatus ids as SalesOrderRef reports them. A Pending Approval order (A) can be cancelled (C);
# an approved one is closed line by line, which NetSuite reports as Closed (H): both are "cancelled" to us.
STATUSES = {"A": "draft", "B": "confirmed", "C": "cancelled", "D": "confirmed", "E": "confirmed", "F": "done",
            "G": "done", "H": "cancelled"}
PENDING_APPROVAL, PENDING_FULFILLMENT, CANCELLED, CLOSED = "A", "B", "C", "H"
STAMP = "%Y-%m-%d %H:%M:%S"  # what TO_CHAR(..., 'YYYY-MM-DD HH24:MI:SS') gives and TO_TIMESTAMP reads
STAMP_FORMAT = "YYYY-MM-DD HH24:MI:SS"
_SAFE = re.compile(r"[A-Za-z0-9-]")


def external_id(reference: str) -> str:
    """Our reference as a NetSuite external id, which holds letters, digits, '_' and '-' only: every other
    character (and '_' itself) becomes `_XX` (its hex code), so the mapping is one-to-one and reversible."""
    return "".join(char if _SAFE.fullmatch(char) else "".join(f"_{byte:02X}" for byte in char.encode())
                   for char in reference)


def reference_of(external: str) -> str:
    """external_id's inverse."""
    raw = re.sub(r"_([0-9A-F]{2})", lambda match: f"%{match.group(1)}", external)
    from urllib.parse import unquote

    return unquote(raw)


def ref_id(value: Any) -> str | None:
    """A record reference as read (`{"id": "7", "refName": ...}`) to its id."""
    if isinstance(value, dict) and value.get("id") is not None:
        return str(value["id"])
    return None


def customer_body(customer: Customer, subsidiary: str | None) -> dict[str, Any]:
    """An individual customer (isPerson) with e-mail, phone and the default (else first) address."""
    address = customer.default_address or (customer.addresses[0] if customer.addresses else None)
    last = customer.last_name or (None if customer.first_name else customer.display_name)
    body: dict[str, Any] = {"isPerson": True, "firstName": customer.first_name or "", "lastName": last or "",
                            "email": customer.email or "",
                            "phone": customer.phone or (address.phone if address else None) or ""}
    if subsidiary:
        body["subsidiary"] = {"id": subsidiary}
    if address is not None:
        fields = {"addressee": " ".join(p for p in (address.first_name, address.last_name) if p)
                  or customer.display_name, "addr1": address.line1, "addr2": address.line2, "city": address.city,
                  "state": address.province_code, "zip": address.postal_code, "country": address.country_code}
        body["addressBook"] = {"items": [{"defaultBilling": True, "defaultShipping": True,
                                          "addressBookAddress": {k: v for k, v in fields.items() if v}}]}
    return body


@dataclass(frozen=True)
class LineSpec:
    """One sales order line as SyncHub wants it: item internal id, quantity, rate and a description."""

    item: str
    quantity: Decimal
    rate: Decimal
    description: str

    def key(self) -> tuple[str, Decimal, Decimal]:
        return self.item, self.quantity.normalize(), self.rate.normalize()


def line_items(specs: Sequence[LineSpec], tax_code: str | None) -> list[dict[str, Any]]:
    """The `item` sublist's items. `amount` is sent so NetSuite never recomputes a rounded rate."""
    lines = []
    for spec in specs:
        line: dict[str, Any] = {"item": {"id": spec.item}, "quantity": float(spec.quantity),
                                "rate": float(spec.rate), "amount": float(spec.quantity * spec.rate),
                                "description": spec.description[:4000]}
        if tax_code:
            line["taxCode"] = {"id": tax_code}
        lines.append(line)
    return lines


def sublist(record: dict[str, Any], name: str = "item") -> list[dict[str, Any]]:
    """A sublist as GET ...?expandSubResources=true returns it (`{"items": [...]}`)."""
    value = record.get(name)
    items = value.get("items") if isinstance(value, dict) else None
    return [row for row in items if isinstance(row, dict)] if isinstance(items, list) else []


def same_lines(wanted: Sequence[LineSpec], record: dict[str, Any]) -> bool:
    """Compare the record's open lines with the wanted ones as multisets (order and float scale ignored)."""
    have = sorted((ref_id(row.get("item")) or "", Decimal(str(row.get("quantity") or 0)).normalize(),
                   Decimal(str(row.get("rate") or 0)).normalize())
                  for row in sublist(record) if not row.get("isClosed"))
    return have == sorted(spec.key() for spec in wanted)


def fulfilled(record: dict[str, Any]) -> bool:
    return any(Decimal(str(row.get("quantityFulfilled") or 0)) > 0 for row in sublist(record))


def status(record: dict[str, Any]) -> str:
    return ref_id(record.get("orderStatus")) or ""


def sale_ref(record: dict[str, Any]) -> SalesOrderRef:
    total = record.get("total")
    code = status(record)
    return SalesOrderRef(id=str(record["id"]), number=record.get("tranId") or None, state=STATUSES.get(code, code),
                         reference=reference_of(str(record.get("externalId") or "")),
                         total=str(Decimal(str(total))) if total is not None else None)


# SuiteQL ----------------------------------------------------------------------------------------

def literal(value: str) -> str:
    """A SuiteQL string literal (single quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def in_list(values: Iterable[str], *, numeric: bool = False) -> str:
    items = [str(int(v)) if numeric else literal(v) for v in values]
    return "(" + ", ".join(items) + ")"


def chunks(values: Sequence[Any], size: int = 1000) -> Iterable[Sequence[Any]]:
    """Oracle takes at most 1,000 expressions in one IN list."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


# Stock watermark: "<newest lastmodifieddate>|<transaction id>@<stamp>,...". Every stock movement in NetSuite is a
# transaction (sales order commitment, fulfilment, receipt, adjustment, transfer); a transaction's
# lastmodifieddate has whole seconds and a transaction may commit after a later-stamped one was read, so each
# poll re-reads an overlap window and skips the versions listed, which were already reported.

def parse_stamp(value: str) -> dt.datetime:
    return dt.datetime.strptime(value[:19], STAMP)


def transaction_key(row: dict[str, Any]) -> str:
    return f"{row['id']}@{row['modified']}"


def encode_watermark(newest: dt.datetime, seen: Iterable[str]) -> str:
    keys = ",".join(sorted(set(seen)))
    stamp = newest.strftime(STAMP)
    return f"{stamp}|{keys}" if keys else stamp


def decode_watermark(value: str) -> tuple[dt.datetime, frozenset[str]]:
    stamp, _, keys = value.partition("|")
    try:
        newest = parse_stamp(stamp)
    except ValueError:
        raise ValueError(f"not a NetSuite stock watermark: {value[:40]!r}") from None
    return newest, frozenset(key for key in keys.split(",") if key)
