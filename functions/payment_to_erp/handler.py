"""payment_to_erp: store payments pay the ERP sale's invoice, once per store transaction."""
from __future__ import annotations

from typing import TYPE_CHECKING

from synchub.flows.payments import sync_payment_to_erp
from synchub.ports import ORDER_TRANSACTIONS, PAYMENTS, SALES_ORDERS
from synchub.runtime.handlers import queue_flow_handler

if TYPE_CHECKING:
    from synchub.models import EventEnvelope
    from synchub.models.outcome import Outcome
    from synchub.runtime.wiring import Wiring


def _sync(wiring: Wiring, envelope: EventEnvelope) -> Outcome:
    store = wiring.store_settings(envelope.store)
    return sync_payment_to_erp(
        envelope, payloads=wiring.payloads_for_store(envelope.store),
        transactions=wiring.port(envelope.store, ORDER_TRANSACTIONS), sales_orders=wiring.erp(SALES_ORDERS),
        payments=wiring.erp(PAYMENTS), mappings=wiring.mappings, methods=store.payment_methods,
        sync_test_orders=store.sync_test_orders)


lambda_handler = queue_flow_handler("payment_to_erp", lambda wiring: lambda envelope: _sync(wiring, envelope))
