"""payment_to_erp: money a store took for an order pays the ERP sale's invoice, once per store transaction.

Each payment is keyed by the store's transaction id. The ERP is searched by our payment reference before
anything is written, so a crash between the ERP write and our mapping write does not pay twice. A payment
that arrives before its sale (or the sale's invoice) exists waits: a TransientError, retried.
"""
from __future__ import annotations

from collections.abc import Mapping as MappingType

from synchub.errors import TransientError, UnknownPaymentMethod
from synchub.flows.leases import exclusive
from synchub.flows.orders import TEST_ORDER
from synchub.models import EventEnvelope, FinancialStatus, Payment
from synchub.models.outcome import Outcome
from synchub.ports import MappingStore, OrderTransactions, Payments, SalesOrders, StorePayloads

ENTITY = "payment"
# Order states in which the store holds money for the order (a refund leaves the original capture in place).
MONEY_TAKEN = (FinancialStatus.PARTIALLY_PAID, FinancialStatus.PAID, FinancialStatus.PARTIALLY_REFUNDED,
               FinancialStatus.REFUNDED)


def erp_method(payment: Payment, methods: MappingType[str, str]) -> str:
    method = methods.get(payment.gateway)
    if not method:
        raise UnknownPaymentMethod(f"no ERP payment method for gateway {payment.gateway!r}",
                                   gateway=payment.gateway, transaction=payment.transaction_id)
    return method


def sync_payment_to_erp(envelope: EventEnvelope, *, payloads: StorePayloads, transactions: OrderTransactions,
                        sales_orders: SalesOrders, payments: Payments, mappings: MappingStore,
                        methods: MappingType[str, str], sync_test_orders: bool = False) -> Outcome:
    order = payloads.order(envelope.store, envelope.payload)
    if order.test and not sync_test_orders:
        return Outcome.skipped(TEST_ORDER)
    if order.financial_status not in MONEY_TAKEN:
        return Outcome.skipped("filtered:not_paid")
    found = transactions.order_payments(envelope.store, envelope.payload)
    new = [payment for payment in found if not _applied(mappings, payment.reference)]
    if not found:
        return Outcome.skipped("filtered:no_payment")
    if not new:
        return Outcome.skipped("duplicate")
    for payment in new:  # every gateway checked before anything is written: an unknown one parks them all
        erp_method(payment, methods)
    applied = {}
    for payment in new:
        with exclusive(mappings, "payment:erp", payment.reference, owner=envelope.event_id):
            applied[payment.transaction_id] = apply_payment(payment, sales_orders=sales_orders, payments=payments,
                                                            mappings=mappings, method=erp_method(payment, methods))
    return Outcome.applied(erp=",".join(applied.values()))


def apply_payment(payment: Payment, *, sales_orders: SalesOrders, payments: Payments, mappings: MappingStore,
                  method: str) -> str:
    # Crash safety: the ERP is the truth about whether this payment was recorded, not our mapping.
    payment_id = payments.find_payment(payment.reference)
    if payment_id is None:
        sale = sales_orders.find_sales_order(payment.order_reference)
        if sale is None:
            raise TransientError("the order's sale is not in the ERP yet", reason="sale_not_yet_created",
                                 retry_after=10)
        payment_id = payments.record_payment(sale, payment, method=method)
    mappings.link(ENTITY, payment.reference, "erp", payment_id)
    return payment_id


def _applied(mappings: MappingStore, reference: str) -> bool:
    known = mappings.get(ENTITY, reference)
    return known is not None and "erp" in known.ids
