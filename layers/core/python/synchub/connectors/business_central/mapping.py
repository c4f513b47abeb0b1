"""Canonical models to Business Central API v2.0 bodies and back: customers, sales order lines, states."""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from synchub.models import Address, Customer, Order, TotalBreakdown, TotalPart
from synchub.models.order_totals import to_minor_unit
from synchub.ports import SalesOrderRef

# salesOrder `status` (NAV.salesOrderEntityBufferStatus) -> SalesOrderRef.state. The API's "Draft" is the BC
# document status Open (editable), "In Review" is Pending Approval, and the API's "Open" is Released.
STATES = {"Draft": "open", "In Review": "pending_approval", "Open": "released"}
EDITABLE = "Draft"
ORDER_FIELDS = "id,number,externalDocumentNumber,status,totalAmountIncludingTax,currencyCode,customerId"
LINE_FIELDS = "id,sequence,lineType,itemId,lineObjectNumber,quantity,unitPrice,description"
EXTERNAL_DOCUMENT_MAX = 35  # Sales Header "External Document No." is Text[35]
PRICE_PLACES = Decimal("0.00001")  # BC's default unit-amount rounding precision

# Service items (or G/L accounts, via settings.accounts) for the parts of a total that are not catalogue items.
SERVICE_CODES: dict[TotalPart, str] = {
    TotalPart.DISCOUNT: "DISCOUNT", TotalPart.TAX: "TAX", TotalPart.TIP: "TIP", TotalPart.DUTY: "DUTY",
    TotalPart.GIFT_CARD: "GIFT_CARD", TotalPart.ADJUSTMENT: "ADJUSTMENT",
}


def customer_number(reference: str) -> str:
    """The customer No. (Code[20], upper case) SyncHub gives the customer known by `reference`.

    API v2.0 customers have no external-id field, and our references ("shop:115310627314723974") are longer than
    No. and mixed-case, so the No. is "SH" + 18 base32 characters of the reference's SHA-256: stable, unique in
    practice (90 bits), and searchable with `$filter=number eq '...'`. It needs "Manual Nos." on the customer
    number series (BC's default series allow it); otherwise BC refuses the create and the order parks."""
    digest = base64.b32encode(hashlib.sha256(reference.encode("utf-8")).digest()).decode("ascii")
    return "SH" + digest[:18]


def customer_body(customer: Customer) -> dict[str, Any]:
    """customers values: name, e-mail, phone and the default (else first) address, cut to BC's field lengths."""
    address = customer.default_address or (customer.addresses[0] if customer.addresses else None)
    body: dict[str, Any] = {"displayName": customer.display_name[:100], "type": "Person",
                            "email": (customer.email or "")[:80],
                            "phoneNumber": (customer.phone or (address.phone if address else None) or "")[:30]}
    if address is not None:
        body.update({"addressLine1": (address.line1 or "")[:100], "addressLine2": (address.line2 or "")[:50],
                     "city": (address.city or "")[:30], "state": (address.province_code or "")[:30],
                     "country": address.country_code or "", "postalCode": (address.postal_code or "")[:20]})
    return body


def customer_changes(row: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    return {field: value for field, value in wanted.items() if (row.get(field) or "") != (value or "")}


def ship_to(order: Order) -> dict[str, Any]:
    address: Address | None = order.shipping_address or order.billing_address
    if address is None:
        return {}
    name = " ".join(part for part in (address.first_name, address.last_name) if part) or address.company or ""
    return {"shipToName": name[:100], "shipToAddressLine1": (address.line1 or "")[:100],
            "shipToAddressLine2": (address.line2 or "")[:50], "shipToCity": (address.city or "")[:30],
            "shipToState": (address.province_code or "")[:30], "shipToCountry": address.country_code or "",
            "shipToPostCode": (address.postal_code or "")[:20]}


@dataclass(frozen=True)
class LineSpec:
    """One sales order line as SyncHub wants it: an item (by id) or a G/L account (by number)."""

    line_type: str  # "Item" or "Account"
    target: str  # itemId for Item lines, the G/L account number for Account lines
    quantity: Decimal
    unit_price: Decimal
    description: str

    def key(self) -> tuple[str, str, Decimal, Decimal]:
        return self.line_type, self.target.lower(), self.quantity.normalize(), self.unit_price.normalize()


def line_body(spec: LineSpec, tax_code: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"lineType": spec.line_type, "description": spec.description[:100],
                            "quantity": float(spec.quantity), "unitPrice": float(spec.unit_price)}
    body["itemId" if spec.line_type == "Item" else "lineObjectNumber"] = spec.target
    if tax_code:
        body["taxCode"] = tax_code  # a zero rate: the TAX line carries what the store collected
    return body


def row_key(row: dict[str, Any]) -> tuple[str, str, Decimal, Decimal]:
    target = row.get("itemId") if row.get("lineType") == "Item" else row.get("lineObjectNumber")
    return (str(row.get("lineType")), str(target or "").lower(), Decimal(str(row.get("quantity") or 0)).normalize(),
            Decimal(str(row.get("unitPrice") or 0)).normalize())


def same_lines(wanted: Sequence[LineSpec], rows: Iterable[dict[str, Any]]) -> bool:
    """Compare as multisets; comment lines are skipped."""
    have = sorted(row_key(row) for row in rows if row.get("lineType") not in ("Comment", " ", ""))
    return have == sorted(spec.key() for spec in wanted)


def sale_line_specs(breakdown: TotalBreakdown, products: dict[str, str],
                    service: Callable[[TotalPart], tuple[str, str]]) -> list[LineSpec]:
    """One line per piece of the order total, so BC's total is the store's to the minor unit (as for Tryton).

    A catalogue line keeps its quantity and the store's unit price; every other piece is one unit at its rounded
    amount. Unit prices finer than BC's 0.00001 are rounded, and what that moves is booked as "Rounding"."""
    specs = []
    for piece in breakdown.pieces:
        line = piece.line
        if piece.part is TotalPart.ITEM and line is not None:
            kind, target = "Item", products[line.product_key or ""]
        else:
            kind, target = service(piece.part)
        if line is None:
            specs.append(LineSpec(kind, target, Decimal(1), piece.amount, piece.title))
            continue
        specs.append(LineSpec(kind, target, piece.quantity,
                              piece.unit_price.quantize(PRICE_PLACES, ROUND_HALF_EVEN), piece.title))
    booked = sum((to_minor_unit(s.quantity * s.unit_price, breakdown.exponent) for s in specs), Decimal(0))
    if booked != breakdown.store_total:
        kind, target = service(TotalPart.ADJUSTMENT)
        specs.append(LineSpec(kind, target, Decimal(1), breakdown.store_total - booked, "Rounding"))
    return specs


def sale_ref(row: dict[str, Any], *, cancelled: bool = False) -> SalesOrderRef:
    total = row.get("totalAmountIncludingTax")
    return SalesOrderRef(id=str(row["id"]), number=row.get("number") or None,
                         state="cancelled" if cancelled else STATES.get(str(row.get("status")), str(row.get("status"))),
                         reference=row.get("externalDocumentNumber") or "",
                         total=str(Decimal(str(total))) if total is not None else None)


def cancelled_ref(sale: SalesOrderRef) -> SalesOrderRef:
    return sale.model_copy(update={"state": "cancelled"})


def number_filter(field: str, values: Iterable[str]) -> str:
    from synchub.connectors.business_central.client import odata_string

    return " or ".join(f"{field} eq {odata_string(value)}" for value in values)
