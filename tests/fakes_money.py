"""In-memory fakes of the money capabilities: an ERP ledger (payments, returns) over a FakeErp's sales and
stock, and a store's transactions and refunds. They keep the contracts tests/conformance checks against
Tryton and the store sandboxes: a payment or return is found by our reference and never written twice, an
unknown payment method is permanent, a sale whose invoice does not exist yet is transient."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from synchub.errors import TransientError, UnknownPaymentMethod
from synchub.models import Payment, Refund, StockLevel
from synchub.ports import ReturnRef, SalesOrderRef

from tests.fakes import FakeErp


@dataclass
class FakePayment:
    id: str
    sale_id: str
    amount: Decimal
    method: str


@dataclass
class FakeLedger:
    """Payments and returns of a FakeErp. `invoice_pending` holds sale ids whose invoice is not created yet."""

    erp: FakeErp
    methods: set[str] = field(default_factory=lambda: {"Card", "Bank", "Cash"})
    payments: dict[str, FakePayment] = field(default_factory=dict)  # by our reference
    returns: dict[str, tuple[str, Refund, str]] = field(default_factory=dict)  # reference -> (id, refund, warehouse)
    invoice_pending: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    fail_after_write: bool = False  # a crash between the ERP's write and our mapping write

    def paid(self, sale_id: str) -> Decimal:
        return sum((p.amount for p in self.payments.values() if p.sale_id == sale_id), Decimal(0))

    def find_payment(self, reference: str) -> str | None:
        self.calls.append("find_payment")
        found = self.payments.get(reference)
        return found.id if found else None

    def record_payment(self, sale: SalesOrderRef, payment: Payment, *, method: str) -> str:
        self.calls.append("record_payment")
        if method not in self.methods:
            raise UnknownPaymentMethod(f"no payment method {method!r}", method=method)
        if sale.id in self.invoice_pending:
            raise TransientError("no invoice yet", reason="invoice_not_yet_created")
        if payment.reference not in self.payments:
            self.payments[payment.reference] = FakePayment(f"pay-{len(self.payments) + 1}", sale.id,
                                                           payment.amount.amount, method)
        if self.fail_after_write:
            self.fail_after_write = False
            raise TransientError("connection reset after the ERP committed", reason="network")
        return self.payments[payment.reference].id

    def find_return(self, reference: str) -> ReturnRef | None:
        self.calls.append("find_return")
        found = self.returns.get(reference)
        return self._ref(reference) if found else None

    def record_return(self, sale: SalesOrderRef, refund: Refund, *, products: dict[str, str],
                      warehouse: str) -> ReturnRef:
        self.calls.append("record_return")
        if refund.reference not in self.returns:
            self.returns[refund.reference] = (f"ret-{len(self.returns) + 1}", refund, warehouse)
            for line in refund.restocked:
                if line.sku and line.sku in products:
                    key = (line.sku, warehouse)
                    level = self.erp.stock.get(key) or StockLevel(sku=line.sku, warehouse=warehouse, on_hand=0)
                    self.erp.stock[key] = level.model_copy(update={"on_hand": level.on_hand + line.quantity})
        if self.fail_after_write:
            self.fail_after_write = False
            raise TransientError("connection reset after the ERP committed", reason="network")
        return self._ref(refund.reference)

    def _ref(self, reference: str) -> ReturnRef:
        return_id, refund, _ = self.returns[reference]
        return ReturnRef(id=return_id, reference=reference, credit_note=f"cn-{return_id}",
                         total=str(-refund.total.amount), complete=True)


@dataclass
class FakeStoreMoney:
    """A store's order transactions and refunds (the refunds are read by id, as WooCommerce's are)."""

    payments: dict[str, list[Payment]] = field(default_factory=dict)  # order id -> payments
    refunds: dict[str, Refund] = field(default_factory=dict)  # refund id -> refund
    calls: list[str] = field(default_factory=list)

    def order_payments(self, store_id: str, payload: dict) -> list[Payment]:
        self.calls.append("order_payments")
        return list(self.payments.get(str(payload["id"]), ()))

    def refund_ids(self, topic: str, payload: dict) -> list[str]:
        return [str(refund["id"]) for refund in payload.get("refunds") or ()]

    def read_refund(self, store_id: str, topic: str, payload: dict, refund_id: str) -> Refund:
        self.calls.append("read_refund")
        return self.refunds[refund_id]
