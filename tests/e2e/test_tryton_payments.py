"""Tryton payments and returns against a real Tryton 7.0 server: invoices posted and paid through the pay
wizard, partial payments, return sales with a posted credit note and goods back in stock."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from synchub.connectors.tryton.erp import TrytonErp
from synchub.connectors.tryton.payments import TrytonPayments
from synchub.connectors.tryton.returns import TrytonReturns
from synchub.errors import TransientError, UnknownPaymentMethod
from synchub.models import Money, Payment, Refund, RefundLine

from tests.e2e.test_tryton_erp import new_order, place, stock

pytestmark = pytest.mark.e2e


def payment(order: Any, amount: str, gateway: str = "shopify_payments") -> Payment:
    return Payment(store=order.store, order_id=order.source_id, transaction_id=uuid.uuid4().hex[:10],
                   gateway=gateway, amount=Money(amount=Decimal(amount), currency=order.currency),
                   processed_at=dt.datetime.now(dt.UTC))


def invoice_of(erp: TrytonErp, sale_id: str) -> dict[str, Any]:
    sale, = erp.client.model("sale.sale", "read", [int(sale_id)], ["invoices"])
    invoice, = erp.client.model("account.invoice", "read", sale["invoices"],
                                ["state", "total_amount", "amount_to_pay", "payment_lines"])
    return invoice  # type: ignore[no-any-return]


def refund_of(order: Any, *, quantity: int, restock: bool, shipping: str = "0", total: str | None = None) -> Refund:
    line = order.lines[0]
    amount = line.unit_price.amount * quantity
    money = lambda value: Money(amount=Decimal(value), currency=order.currency)
    return Refund(store=order.store, source_id=uuid.uuid4().hex[:10], order_id=order.source_id,
                  currency=order.currency, lines=(RefundLine(
                      source_line_id=line.source_line_id, sku=line.sku, title=line.title, quantity=quantity,
                      amount=money(amount), tax=money("0"), restock=restock, location=None),),
                  shipping=money(shipping), tax=money("0"),
                  total=money(total or str(amount + Decimal(shipping))), created_at=dt.datetime.now(dt.UTC))


def test_two_payments_pay_the_invoice_and_each_is_found_by_its_reference(tryton_erp: TrytonErp) -> None:
    order = new_order()
    sale = place(tryton_erp, order)
    payments = TrytonPayments(tryton_erp)
    first = payment(order, "20.00")
    second = payment(order, str(order.total.amount - Decimal("20.00")))

    assert payments.find_payment(first.reference) is None
    first_id = payments.record_payment(sale, first, method="Card")
    partly = invoice_of(tryton_erp, sale.id)
    assert partly["state"] == "posted"
    assert partly["amount_to_pay"] == order.total.amount - Decimal("20.00")
    second_id = payments.record_payment(sale, second, method="Bank")

    paid = invoice_of(tryton_erp, sale.id)
    assert paid["state"] == "paid" and paid["amount_to_pay"] == 0
    assert paid["total_amount"] == order.total.amount
    assert payments.find_payment(first.reference) == first_id != second_id
    assert payments.find_payment(second.reference) == second_id


def test_unknown_payment_method_is_permanent(tryton_erp: TrytonErp) -> None:
    order = new_order()
    sale = place(tryton_erp, order)
    with pytest.raises(UnknownPaymentMethod):
        TrytonPayments(tryton_erp).record_payment(sale, payment(order, "1.00"), method="Barter")


def test_refund_with_restock_posts_a_credit_note_and_puts_the_units_back(tryton_erp: TrytonErp) -> None:
    order = new_order()
    sale = place(tryton_erp, order)
    sku = order.lines[0].sku
    on_hand, _ = stock(tryton_erp, sku)
    refund = refund_of(order, quantity=1, restock=True, shipping="3.00")
    returns = TrytonReturns(tryton_erp)

    done = returns.record_return(sale, refund, products=tryton_erp.resolve_products([sku]), warehouse="WH")
    again = returns.record_return(sale, refund, products=tryton_erp.resolve_products([sku]), warehouse="WH")

    assert done.complete and again.id == done.id
    assert Decimal(done.total) == -refund.total.amount
    credit, = tryton_erp.client.model("account.invoice", "read", [int(done.credit_note)], ["state", "total_amount"])
    assert credit["state"] == "posted" and credit["total_amount"] == -refund.total.amount
    assert stock(tryton_erp, sku)[0] == on_hand + 1
    assert returns.find_return(refund.reference).id == done.id
    assert len(tryton_erp.client.model("sale.sale", "search", [("reference", "=", refund.reference)], 0, None,
                                       None)) == 1


def test_refund_without_restock_credits_money_and_moves_no_stock(tryton_erp: TrytonErp) -> None:
    order = new_order()
    sale = place(tryton_erp, order)
    sku = order.lines[0].sku
    on_hand, _ = stock(tryton_erp, sku)
    refund = refund_of(order, quantity=1, restock=False, total="7.77")  # a refund discrepancy too

    done = TrytonReturns(tryton_erp).record_return(sale, refund, products=tryton_erp.resolve_products([sku]),
                                                   warehouse="WH")

    assert done.complete and Decimal(done.total) == Decimal("-7.77")
    row, = tryton_erp.client.model("sale.sale", "read", [int(done.id)], ["shipment_returns"])
    assert row["shipment_returns"] == []
    assert stock(tryton_erp, sku)[0] == on_hand


def test_payment_before_the_invoice_exists_is_transient(tryton_erp: TrytonErp) -> None:
    order = new_order()
    sale = place(tryton_erp, order)
    tryton_erp.client.model("sale.sale", "read", [int(sale.id)], ["invoices"])
    invoice = invoice_of(tryton_erp, sale.id)
    tryton_erp.client.model("account.invoice", "cancel", [invoice["id"]])
    with pytest.raises(TransientError):
        TrytonPayments(tryton_erp).record_payment(sale, payment(order, "1.00"), method="Card")
