"""Tryton payments: a store payment pays the sale's customer invoice through account_invoice's pay wizard.

The invoice (created when the sale is processed, sale invoice method "order") is posted first, then
`account.invoice.pay` books a posted move on the payment method's journal, its description carrying our
payment reference: that move is what `find_payment` searches, so a repeat finds it and pays nothing twice.
A payment smaller than what is left to pay is a partial payment; the last one reconciles the invoice,
which Tryton then marks paid.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from synchub.errors import PermanentError, TransientError, UnknownPaymentMethod, VendorError
from synchub.models import Payment
from synchub.ports import SalesOrderRef

if TYPE_CHECKING:
    from synchub.connectors.tryton.erp import TrytonErp

logger = Logger(service="synchub")

PAY_WIZARD = "account.invoice.pay"
_POSTABLE = ("draft", "validated")


class TrytonPayments:
    def __init__(self, erp: TrytonErp) -> None:
        self.erp = erp
        self.client = erp.client
        self._methods: dict[str, int] = {}

    def find_payment(self, reference: str) -> str | None:
        found = self.client.model("account.move", "search", [("description", "=", reference),
                                                              ("origin", "like", "account.invoice,%")],
                                  0, 1, [("id", "ASC")])
        return str(found[0]) if found else None

    def record_payment(self, sale: SalesOrderRef, payment: Payment, *, method: str) -> str:
        method_id = self._method(method)
        invoice = self.customer_invoice(sale)
        if invoice["state"] in _POSTABLE:
            self.client.model("account.invoice", "post", [invoice["id"]])
            invoice = self._read_invoice(invoice["id"])
        if invoice["state"] == "paid" or invoice["amount_to_pay"] <= 0:
            raise PermanentError(f"invoice of sale {sale.number or sale.id} is already paid",
                                 reason="invoice_already_paid", sale_id=sale.id)
        currency, = self.client.model("currency.currency", "read", [invoice["currency"]], ["code"])
        if currency["code"] != payment.amount.currency:
            raise PermanentError(f"payment in {payment.amount.currency}, invoice in {currency['code']}",
                                 reason="payment_currency_mismatch", sale_id=sale.id)
        day = (payment.processed_at or dt.datetime.now(dt.UTC)).date()
        self._pay(invoice, payment, method_id, day)
        payment_id = self.find_payment(payment.reference)
        if payment_id is None:
            raise VendorError(f"tryton: the payment of invoice {invoice['id']} was not recorded", vendor="tryton")
        logger.info("ERP invoice paid", extra={"invoice_id": invoice["id"], "payment_id": payment_id})
        return payment_id

    def customer_invoice(self, sale: SalesOrderRef) -> dict[str, Any]:
        """The sale's (first) customer invoice still standing; TransientError until processing created it."""
        row, = self.client.model("sale.sale", "read", [int(sale.id)], ["invoices", "state"])
        invoices = [self._read_invoice(i) for i in sorted(row["invoices"])] if row["invoices"] else []
        standing = [i for i in invoices if i["state"] != "cancelled" and i["total_amount"] > 0]
        if not standing:
            raise TransientError(f"sale {sale.number or sale.id} has no invoice yet", reason="invoice_not_yet_created",
                                 retry_after=10)
        return standing[0]

    def _read_invoice(self, invoice_id: int) -> dict[str, Any]:
        row, = self.client.model("account.invoice", "read", [invoice_id],
                                 ["state", "total_amount", "amount_to_pay", "currency", "type"])
        return row  # type: ignore[no-any-return]

    def _method(self, name: str) -> int:
        if name not in self._methods:
            found = self.client.model("account.invoice.payment.method", "search", [("name", "=", name)], 0, 1,
                                      [("id", "ASC")])
            if not found:
                raise UnknownPaymentMethod(f"no Tryton payment method named {name!r}", method=name)
            self._methods[name] = found[0]
        return self._methods[name]

    def _pay(self, invoice: dict[str, Any], payment: Payment, method_id: int, day: dt.date) -> None:
        """The pay wizard as the client drives it: start (amount, method, description) -> choice -> ask -> pay."""
        context = {**self.client.context, "active_model": "account.invoice", "active_id": invoice["id"],
                   "active_ids": [invoice["id"]]}
        session, _, _ = self.client.call(f"wizard.{PAY_WIZARD}.create", [context])
        try:
            shown = self.client.call(f"wizard.{PAY_WIZARD}.execute", [session, {}, "start", context])
            start = {**_plain(shown["view"]["defaults"]), "amount": payment.amount.amount,
                     "payment_method": method_id, "description": payment.reference, "date": day}
            answer = self.client.call(f"wizard.{PAY_WIZARD}.execute", [session, {"start": start}, "choice", context])
            if answer.get("view"):  # less (or more) than what is left to pay: Tryton asks how to settle
                ask = _plain(answer["view"]["defaults"])
                if payment.amount.amount < invoice["amount_to_pay"]:
                    ask["type"] = "partial"
                self.client.call(f"wizard.{PAY_WIZARD}.execute", [session, {"start": start, "ask": ask}, "pay",
                                                                   context])
        finally:
            self.client.call(f"wizard.{PAY_WIZARD}.delete", [session, context])


def _plain(defaults: dict[str, Any]) -> dict[str, Any]:
    """A wizard view's defaults without the display values (`payee.`, `currency.rec_name`) it adds."""
    return {key: value for key, value in defaults.items() if "." not in key}
