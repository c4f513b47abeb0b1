"""Tryton returns: a store refund becomes a return sale, the shape sale's `sale.return_sale` wizard makes.

The wizard copies a whole sale with negated quantities and `origin` pointing at it; a refund covers only
some lines, so SyncHub creates that return sale itself: `origin` the original sale, `reference` our refund
reference (the crash-safe search key), one negative line per refunded line, shipping and tax, and a
balancing line so the credit equals the money the store returned. Processing it (invoice method
"order") yields a credit note, which is posted, and for goods a customer return shipment
(`stock.shipment.out.return`), which is received and done so the units are back in the warehouse.

A refunded line that is not restocked (Shopify `no_restock`, or no ERP product) is credited on the
refund service product instead of the goods: money back, no stock movement, no return shipment.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from synchub.connectors.tryton.mapping import LineSpec
from synchub.errors import PermanentError, TransientError
from synchub.models import Refund
from synchub.ports import ReturnRef, SalesOrderRef

if TYPE_CHECKING:
    from synchub.connectors.tryton.erp import TrytonErp

logger = Logger(service="synchub")

TAX_PRODUCT = "TAX"
UNIT_PLACES = Decimal("0.0001")  # sale.line unit_price digits
_OPEN = ("draft", "quotation")
_CREDITED = ("posted", "paid")


class TrytonReturns:
    def __init__(self, erp: TrytonErp) -> None:
        self.erp = erp
        self.client = erp.client

    def find_return(self, reference: str) -> ReturnRef | None:
        found = self.client.model("sale.sale", "search", [("reference", "=", reference)], 0, 1, [("id", "ASC")])
        return self._ref(found[0]) if found else None

    def record_return(self, sale: SalesOrderRef, refund: Refund, *, products: dict[str, str],
                      warehouse: str) -> ReturnRef:
        found = self.client.model("sale.sale", "search", [("reference", "=", refund.reference)], 0, 1,
                                  [("id", "ASC")])
        return_id = found[0] if found else self._create(sale, refund, products, warehouse)
        row, = self.client.model("sale.sale", "read", [return_id], ["state"])
        if row["state"] in _OPEN:  # created by an earlier attempt that died before confirming
            self.erp._confirm(return_id, state=row["state"])
        self._complete(return_id)
        ref = self._ref(return_id)
        logger.info("ERP return recorded", extra={"sale_id": return_id, "credit_note": ref.credit_note,
                                                  "complete": ref.complete})
        if not ref.complete:
            raise TransientError(f"return {return_id} is still being processed", reason="return_processing",
                                 retry_after=5)
        return ref

    # -- internals ---------------------------------------------------------------------------------

    def _create(self, sale: SalesOrderRef, refund: Refund, products: dict[str, str], warehouse: str) -> int:
        original, = self.client.model("sale.sale", "read", [int(sale.id)],
                                      ["party", "invoice_address", "shipment_address", "currency", "number"])
        specs = self.line_specs(refund, products)
        values = {
            "party": original["party"],
            "invoice_address": original["invoice_address"],
            "shipment_address": original["shipment_address"],
            "currency": original["currency"],
            "warehouse": self.erp._warehouse(warehouse),
            "origin": f"sale.sale,{sale.id}",
            "reference": refund.reference,
            "description": f"Refund {refund.source_id} of {original['number'] or sale.reference}",
            "sale_date": refund.created_at.date(),
            "lines": [["create", self.erp._line_values(specs)]],
        }
        return_id: int
        return_id, = self.client.model("sale.sale", "create", [values])
        self.erp._confirm(return_id, state="draft")
        logger.info("ERP return sale created", extra={"sale_id": return_id, "reference": refund.reference})
        return return_id

    def line_specs(self, refund: Refund, products: dict[str, str]) -> list[LineSpec]:
        """Negative sale lines whose total is minus the money returned."""
        refund_service = self.erp._service(self.erp.config.refund_product)
        specs = []
        for line in refund.lines:
            product = products.get(line.product_key or "") if line.restock else None
            if product:
                unit = (line.amount.amount / line.quantity).quantize(UNIT_PLACES)
                specs.append(LineSpec(int(product), Decimal(-line.quantity), unit, line.title))
            else:
                label = f"{line.title} ({line.sku})" if line.sku else line.title
                specs.append(LineSpec(refund_service, Decimal(-1), line.amount.amount,
                                      f"{label} x{line.quantity}, refunded without return"))
        if refund.shipping.amount:
            specs.append(LineSpec(self.erp._service(self.erp.config.shipping_product), Decimal(-1),
                                  refund.shipping.amount, "Shipping refunded"))
        if refund.tax.amount:
            specs.append(LineSpec(self.erp._service(TAX_PRODUCT), Decimal(-1), refund.tax.amount,
                                  "Tax refunded by the store"))
        credited = -sum((spec.quantity * spec.unit_price for spec in specs), Decimal(0))
        difference = refund.total.amount - credited
        if difference:  # rounding of unit prices, refund discrepancies, amounts refunded with no line
            specs.append(LineSpec(refund_service, Decimal(-1), difference, "Refund adjustment"))
        if not specs:
            raise PermanentError(f"refund {refund.source_id} credits nothing", reason="empty_refund")
        return specs

    def _complete(self, return_id: int) -> None:
        """Post the credit note and receive the returned goods, whatever an earlier attempt already did."""
        row, = self.client.model("sale.sale", "read", [return_id], ["invoices", "shipment_returns"])
        invoices = self.client.model("account.invoice", "read", row["invoices"], ["state"]) if row["invoices"] else []
        draft = [i["id"] for i in invoices if i["state"] in ("draft", "validated")]
        if draft:
            self.client.model("account.invoice", "post", draft)
        shipments = self._shipments(row["shipment_returns"])
        waiting = [s["id"] for s in shipments if s["state"] == "draft"]
        if waiting:  # incoming moves done; Tryton finishes at once a warehouse whose input is its storage
            self.client.model("stock.shipment.out.return", "receive", waiting)
            shipments = self._shipments(row["shipment_returns"])
        received = [s["id"] for s in shipments if s["state"] == "received"]
        if received:  # inventory moves, input -> storage: the units are available again
            self.client.model("stock.shipment.out.return", "done", received)

    def _shipments(self, ids: list[int]) -> list[dict[str, Any]]:
        return self.client.model("stock.shipment.out.return", "read", ids, ["state"]) if ids else []

    def _ref(self, return_id: int) -> ReturnRef:
        row, = self.client.model("sale.sale", "read", [return_id],
                                 ["reference", "state", "total_amount", "invoices", "shipment_returns", "lines"])
        invoices = self.client.model("account.invoice", "read", row["invoices"], ["state"]) if row["invoices"] else []
        credited = [i for i in invoices if i["state"] in _CREDITED]
        shipments = self._shipments(row["shipment_returns"])
        goods = self._has_goods(row["lines"])
        complete = (row["state"] in ("processing", "done") and bool(credited)
                    and (not goods or (bool(shipments) and all(s["state"] == "done" for s in shipments))))
        return ReturnRef(id=str(return_id), reference=row["reference"] or "",
                         credit_note=str(credited[0]["id"]) if credited else None,
                         total=str(row["total_amount"]), complete=complete)

    def _has_goods(self, line_ids: list[int]) -> bool:
        if not line_ids:
            return False
        lines: list[dict[str, Any]] = self.client.model("sale.line", "read", line_ids, ["product"])
        product_ids = sorted({line["product"] for line in lines if line["product"]})
        goods = self.client.model("product.product", "search", [("id", "in", product_ids), ("type", "=", "goods")],
                                  0, None, None)
        return bool(goods)
