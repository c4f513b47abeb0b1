"""Payments and returns (Tryton, a real local server, and the fake ledger), order transactions and refund
readers (Shopify and WooCommerce through their sandboxes, and the fake store) keep one contract."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from synchub.errors import PermanentError
from synchub.models import Money, Payment, Refund, RefundLine

from tests.conformance.test_erp_capabilities import _customer, _order


def _placed(erp):
    reference_id = str(9_200_000_000_000_000 + uuid.uuid4().int % 10**12)
    order = _order(reference_id)
    customer = erp.upsert_customer(_customer(reference_id), reference=f"conformance:{reference_id}")
    return order, erp.create_sales_order(order, customer_id=customer, products=erp.resolve_products(order.skus))


def _payment(order, amount: Decimal) -> Payment:
    return Payment(store=order.store, order_id=order.source_id, transaction_id=uuid.uuid4().hex[:12], gateway="x",
                   amount=Money(amount=amount, currency=order.currency), processed_at=dt.datetime.now(dt.UTC))


def test_a_payment_is_recorded_once_and_found_by_its_reference(payments) -> None:
    order, sale = _placed(payments.extra["erp"])
    first, rest = _payment(order, Decimal("10.00")), _payment(order, order.total.amount - Decimal("10.00"))
    assert payments.adapter.find_payment(first.reference) is None

    first_id = payments.adapter.record_payment(sale, first, method="Card")
    rest_id = payments.adapter.record_payment(sale, rest, method="Bank")

    assert payments.adapter.find_payment(first.reference) == first_id
    assert payments.adapter.find_payment(rest.reference) == rest_id != first_id


def test_a_payment_method_the_erp_lacks_is_permanent(payments) -> None:
    order, sale = _placed(payments.extra["erp"])
    with pytest.raises(PermanentError) as raised:
        payments.adapter.record_payment(sale, _payment(order, Decimal("1.00")), method="Barter")
    assert raised.value.reason == "unknown_payment_method"


def test_a_refund_is_credited_once_and_found_by_its_reference(returns) -> None:
    erp = returns.extra["erp"]
    order, sale = _placed(erp)
    line = order.lines[1]  # MUG-CER-01
    usd = lambda amount: Money(amount=Decimal(amount), currency=order.currency)
    refund = Refund(store=order.store, source_id=uuid.uuid4().hex[:12], order_id=order.source_id,
                    currency=order.currency, lines=(RefundLine(
                        source_line_id=line.source_line_id, sku=line.sku, title=line.title, quantity=1,
                        amount=usd("13.05"), tax=usd("1.04"), restock=True),),
                    shipping=usd("0"), tax=usd("1.04"), total=usd("14.09"), created_at=dt.datetime.now(dt.UTC))
    assert returns.adapter.find_return(refund.reference) is None
    products = erp.resolve_products([line.sku])

    done = returns.adapter.record_return(sale, refund, products=products, warehouse="WH")
    again = returns.adapter.record_return(sale, refund, products=products, warehouse="WH")

    assert done.complete and again.id == done.id and done.credit_note
    assert Decimal(done.total) == Decimal("-14.09")
    assert returns.adapter.find_return(refund.reference).id == done.id


def test_an_order_reports_each_successful_sale_or_capture_once(order_transactions) -> None:
    payload, expected = order_transactions.extra["paid_order"]()
    payments = order_transactions.adapter.order_payments("conformance", payload)
    assert [(p.amount.amount, p.gateway) for p in payments] == expected
    assert len({p.transaction_id for p in payments}) == len(payments)
    assert all(p.order_id == str(payload["id"]) and p.reference.startswith("conformance:payment:") for p in payments)
    again = order_transactions.adapter.order_payments("conformance", payload)
    assert [p.reference for p in again] == [p.reference for p in payments]  # a stable key per transaction


def test_an_unpaid_order_reports_no_payment(order_transactions) -> None:
    assert order_transactions.adapter.order_payments("conformance", order_transactions.extra["unpaid_order"]()) == []


def test_a_refund_event_reads_as_the_refund_of_its_order(refund_reader) -> None:
    topic, payload, expected = refund_reader.extra["refund_event"]()
    ids = refund_reader.adapter.refund_ids(topic, payload)
    assert len(ids) == 1

    refund = refund_reader.adapter.read_refund("conformance", topic, payload, ids[0])

    assert refund.source_id == ids[0] and refund.order_id == expected["order_id"]
    assert refund.total.amount == expected["total"]
    assert [line.quantity for line in refund.lines] == [expected["quantity"]]
    assert refund.lines[0].restock is expected["restock"] and refund.lines[0].sku == "MUG-CER-01"
    assert refund.reference == f"conformance:refund:{ids[0]}"


def test_an_order_without_refunds_reports_none(refund_reader) -> None:
    assert refund_reader.adapter.refund_ids("order.updated", {"id": 1, "refunds": []}) == []
