"""order_to_erp: store orders become confirmed ERP sales orders; updates and cancellations follow."""
from __future__ import annotations

from typing import TYPE_CHECKING

from synchub.flows.orders import sync_order_to_erp
from synchub.ports import CUSTOMER_ACCOUNTS, PRODUCT_LOOKUP, SALES_ORDERS
from synchub.runtime.handlers import queue_flow_handler

if TYPE_CHECKING:
    from synchub.models import EventEnvelope
    from synchub.models.outcome import Outcome
    from synchub.runtime.wiring import Wiring


def _sync(wiring: Wiring, envelope: EventEnvelope) -> Outcome:
    store = wiring.store_settings(envelope.store)
    return sync_order_to_erp(
        envelope, payloads=wiring.payloads_for_store(envelope.store), sales_orders=wiring.erp(SALES_ORDERS),
        products=wiring.erp(PRODUCT_LOOKUP), customers=wiring.erp(CUSTOMER_ACCOUNTS), mappings=wiring.mappings,
        sync_test_orders=store.sync_test_orders, missing_sku_lookup=store.missing_sku_lookup,
        records=wiring.records_for_store(envelope.store))


lambda_handler = queue_flow_handler("order_to_erp", lambda wiring: lambda envelope: _sync(wiring, envelope))
