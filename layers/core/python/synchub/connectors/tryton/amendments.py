"""Amending a processing Tryton sale after its store order was edited: lines raised, lowered, removed, added.

Tryton 7.0's `sale_amendment` module changes a sale that is already processing: a `sale.amendment` holds
lines of action `line`, each naming an existing sale line and its new product, quantity, unit price and
description; validating it bumps the sale's revision, rebuilds its draft stock moves and draft invoice lines
from the amended lines (so the reservation follows) and processes the sale again. It cannot add a line:
Tryton creates sale lines on draft sales only (`sale.msg_sale_line_create_draft`). So:

- a line whose quantity or price changed is amended; a line the edit removed is amended to quantity 0;
- a line the edit added takes over a 0-quantity line of the same product when there is one (a product
  removed by an earlier edit and added back), else it goes on a *complementary sale*: a new confirmed sale
  for the same party, addresses, currency and warehouse, referenced `<store reference>/<n>`. The sale and
  its complements together hold the store order, and together they are compared and amended next time.

What Tryton does not check, SyncHub does, before anything is written: a line is never lowered below what
was shipped (`amendment_refused_shipped`), below what a shipment already picked or packed
(`amendment_refused_in_shipment`) or below what a posted invoice bills, nor repriced once invoiced
(`amendment_refused_invoiced`); a sale that is `done` is not amended (`amendment_refused_done`). Each is a
PermanentError with the figures, so the edit is parked, never applied halfway nor silently dropped.

Idempotent: the wanted lines are compared with the ERP's lines first (as `mapping.same_lines` does), so an
edit delivered twice amends once.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from synchub.connectors.tryton.mapping import LineSpec, same_lines
from synchub.errors import PermanentError
from synchub.models import Order
from synchub.ports import SalesOrderRef

if TYPE_CHECKING:
    from synchub.connectors.tryton.client import TrytonClient
    from synchub.connectors.tryton.erp import TrytonErp

logger = Logger(service="synchub")

LINE_FIELDS = ["sale", "type", "product", "product.code", "quantity", "unit", "unit_price", "description", "moves",
               "invoice_lines"]
SALE_FIELDS = ["reference", "state", "party", "invoice_address", "shipment_address", "currency", "warehouse",
               "sale_date", "description"]
_UNSENT_MOVES = ("staging", "draft", "cancelled")  # moves the amendment rebuilds (unless their shipment started)
_INVOICED = ("posted", "paid")
_STARTED_SHIPMENTS = ("assigned", "picked", "packed")


@dataclass
class _Line:
    row: dict[str, Any]
    shipped: Decimal = Decimal(0)  # done moves
    in_shipment: Decimal = Decimal(0)  # moves a shipment already assigned, picked or packed
    invoiced: Decimal = Decimal(0)  # on posted or paid invoices

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def quantity(self) -> Decimal:
        return _decimal(self.row["quantity"])

    @property
    def unit_price(self) -> Decimal:
        return _decimal(self.row["unit_price"])

    def same(self, spec: LineSpec) -> bool:
        return (self.row["product"], self.quantity.normalize(), self.unit_price.normalize()) == spec.key()


def complement_prefix(reference: str) -> str:
    return f"{reference}/"


def order_reference(sale_reference: str) -> str:
    """The store order reference of a sale: a complementary sale's `<store reference>/<n>` is its order's."""
    base, slash, number = sale_reference.rpartition("/")
    return base if slash and base and number.isdigit() else sale_reference


def complement_rows(client: TrytonClient, reference: str, fields: Sequence[str]) -> list[dict[str, Any]]:
    """The complementary sales of a store order, oldest first (exact prefix: `like` would treat `_` as a wildcard)."""
    prefix = complement_prefix(reference)
    rows = client.model("sale.sale", "search_read", [("reference", "like", f"{prefix}%")], 0, None,
                        [("id", "ASC")], list(fields))
    return [row for row in rows if str(row.get("reference") or "").startswith(prefix)
            and order_reference(str(row["reference"])) == reference]


def complements(erp: TrytonErp, reference: str) -> list[dict[str, Any]]:
    """The complementary sales of a store order, oldest first."""
    return complement_rows(erp.client, reference, SALE_FIELDS)


def amend_sale(erp: TrytonErp, sale: dict[str, Any], wanted: Sequence[LineSpec], order: Order) -> SalesOrderRef:
    """Bring a processing sale (and its complements) to the wanted lines; refuse with the figures where Tryton
    cannot follow. Returns the main sale's reference."""
    reference = order.store_reference
    family = [sale, *complements(erp, reference)]
    for extra in family[1:]:
        if extra["state"] in ("draft", "quotation"):  # a complement a crashed attempt left unconfirmed
            erp._confirm(int(extra["id"]), state=extra["state"])
    lines = _read_lines(erp, [int(row["id"]) for row in family if row["state"] != "cancelled"])
    if same_lines(wanted, [line.row for line in lines if line.quantity != 0]):
        return erp._ref(int(sale["id"]))
    changes, additions = _plan(lines, wanted)
    states = {int(row["id"]): row["state"] for row in family}
    done = sorted({int(line.row["sale"]) for line, _ in changes if states.get(int(line.row["sale"])) == "done"})
    if sale["state"] == "done" or done:
        raise PermanentError(f"sale {sale.get('number') or sale['id']} is done: it is not amended",
                             reason="amendment_refused_done", sale_id=str(sale["id"]),
                             done_sales=[str(sale_id) for sale_id in done])
    for line, spec in changes:
        _check(sale, line, spec)
    by_sale: dict[int, list[tuple[_Line, LineSpec]]] = defaultdict(list)
    for line, spec in changes:
        by_sale[int(line.row["sale"])].append((line, spec))
    for sale_id, sale_changes in by_sale.items():
        _amend(erp, sale_id, sale_changes, order)
    if additions:
        _complement(erp, sale, additions, order, number=len(family) + 1)
    logger.info("ERP sales order amended", extra={"sale_id": sale["id"], "lines_changed": len(changes),
                                                   "lines_added": len(additions)})
    return erp._ref(int(sale["id"]))


def _plan(lines: list[_Line], wanted: Sequence[LineSpec]) -> tuple[list[tuple[_Line, LineSpec]], list[LineSpec]]:
    """Pair wanted lines with current ones by product: exact matches stay, the rest are amended (a line
    nothing wants goes to 0); wanted lines left over are additions."""
    current = [line for line in lines if line.row.get("type", "line") == "line"]
    free = sorted(current, key=lambda line: (line.quantity == 0, line.id))  # live lines first, then removed
    remaining = list(wanted)
    for spec in list(remaining):  # unchanged lines first, so a changed one never takes their place
        match = next((line for line in free if line.same(spec)), None)
        if match is not None:
            free.remove(match)
            remaining.remove(spec)
    changes: list[tuple[_Line, LineSpec]] = []
    additions: list[LineSpec] = []
    for spec in remaining:
        match = next((line for line in free if line.row["product"] == spec.product), None)
        if match is None:
            additions.append(spec)
            continue
        free.remove(match)
        changes.append((match, spec))
    for line in free:
        if line.quantity != 0:
            changes.append((line, LineSpec(int(line.row["product"]), Decimal(0), line.unit_price,
                                           str(line.row.get("description") or ""))))
    return changes, additions


def _check(sale: dict[str, Any], line: _Line, spec: LineSpec) -> None:
    product = (line.row.get("product.") or {}).get("code") or str(line.row["product"])
    figures = {"sale_id": str(sale["id"]), "sale_line": line.id, "product": product,
               "ordered": str(line.quantity.normalize()), "wanted": str(spec.quantity.normalize()),
               "shipped": str(line.shipped.normalize()), "in_shipment": str(line.in_shipment.normalize()),
               "invoiced": str(line.invoiced.normalize())}
    label = f"sale {sale.get('number') or sale['id']} line {product}"
    if spec.quantity < line.shipped:
        raise PermanentError(f"{label}: {line.shipped.normalize()} shipped, the edit wants "
                             f"{spec.quantity.normalize()}", reason="amendment_refused_shipped", **figures)
    if spec.quantity < line.shipped + line.in_shipment:
        raise PermanentError(f"{label}: {line.in_shipment.normalize()} already in a shipment, the edit wants "
                             f"{spec.quantity.normalize()}", reason="amendment_refused_in_shipment", **figures)
    if line.invoiced and (spec.quantity < line.invoiced or spec.unit_price.normalize() != line.unit_price.normalize()):
        raise PermanentError(f"{label}: {line.invoiced.normalize()} invoiced at {line.unit_price.normalize()}, "
                             f"the edit wants {spec.quantity.normalize()} at {spec.unit_price.normalize()}",
                             reason="amendment_refused_invoiced", wanted_price=str(spec.unit_price), **figures)


def _amend(erp: TrytonErp, sale_id: int, changes: list[tuple[_Line, LineSpec]], order: Order) -> None:
    values = [{"action": "line", "line": line.id, "product": spec.product, "quantity": float(spec.quantity),
               "unit": line.row["unit"], "unit_price": spec.unit_price, "description": spec.description}
              for line, spec in changes]
    amendment, = erp.client.model("sale.amendment", "create", [{
        "sale": sale_id, "description": f"Store order {order.reference} edited",
        "lines": [["create", values]]}])
    erp.client.model("sale.amendment", "validate_amendment", [amendment])


def _complement(erp: TrytonErp, sale: dict[str, Any], additions: list[LineSpec], order: Order, *,
                number: int) -> None:
    """Lines Tryton cannot add to a processing sale, on a new confirmed sale of the same customer."""
    reference = f"{complement_prefix(order.store_reference)}{number}"
    main, = erp.client.model("sale.sale", "read", [int(sale["id"])], SALE_FIELDS)
    values = {key: main[key] for key in ("party", "invoice_address", "shipment_address", "currency", "warehouse",
                                          "sale_date")}
    values.update({"reference": reference, "description": f"{order.reference} (lines added by an edit)",
                   "lines": [["create", erp._line_values(additions)]]})
    complement, = erp.client.model("sale.sale", "create", [values])
    erp._confirm(complement, state="draft")
    logger.info("ERP complementary sale created", extra={"sale_id": complement, "main_sale_id": sale["id"]})


def _read_lines(erp: TrytonErp, sale_ids: list[int]) -> list[_Line]:
    rows = erp.client.model("sale.line", "search_read", [("sale", "in", sale_ids)], 0, None, [("id", "ASC")],
                            LINE_FIELDS)
    lines = [_Line(row) for row in rows]
    move_ids = [move for line in lines for move in line.row.get("moves") or ()]
    invoice_line_ids = [item for line in lines for item in line.row.get("invoice_lines") or ()]
    moves = {row["id"]: row for row in erp.client.model("stock.move", "read", move_ids,
                                                        ["state", "quantity", "shipment"])} if move_ids else {}
    # A customer shipment the warehouse has started (assigned, picked, packed) keeps its outgoing moves in
    # draft until packing: the shipment's state, not the move's, says whether the units are being shipped.
    started = _started_shipments(erp, [move["shipment"] for move in moves.values()])
    invoiced = {row["id"]: row for row in erp.client.model("account.invoice.line", "read", invoice_line_ids,
                                                           ["invoice_state", "quantity"])} if invoice_line_ids else {}
    for line in lines:
        for move_id in line.row.get("moves") or ():
            move = moves[move_id]
            if move["state"] == "done":
                line.shipped += _decimal(move["quantity"])
            elif move["state"] != "cancelled" and (move["state"] not in _UNSENT_MOVES or move["shipment"] in started):
                line.in_shipment += _decimal(move["quantity"])
        for item_id in line.row.get("invoice_lines") or ():
            item = invoiced[item_id]
            if item.get("invoice_state") in _INVOICED:
                line.invoiced += _decimal(item["quantity"])
    return lines


def _started_shipments(erp: TrytonErp, references: list[Any]) -> set[str]:
    """The `stock.shipment.out,<id>` references among `references` whose shipment is assigned, picked or packed."""
    ids = sorted({int(ref.split(",")[1]) for ref in references
                  if isinstance(ref, str) and ref.startswith("stock.shipment.out,") and ref.split(",")[1].isdigit()})
    if not ids:
        return set()
    rows = erp.client.model("stock.shipment.out", "read", ids, ["state"])
    return {f"stock.shipment.out,{row['id']}" for row in rows if row["state"] in _STARTED_SHIPMENTS}


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else 0))
