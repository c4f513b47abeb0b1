"""refund_to_erp: store refunds become posted ERP credit notes; restocked units go back to stock."""
from __future__ import annotations

from typing import TYPE_CHECKING

from synchub.flows.refunds import sync_refund_to_erp
from synchub.ports import PRODUCT_LOOKUP, REFUND_READER, RETURNS, SALES_ORDERS
from synchub.runtime.handlers import queue_flow_handler

if TYPE_CHECKING:
    from synchub.models import EventEnvelope
    from synchub.models.outcome import Outcome
    from synchub.runtime.wiring import Wiring


def _sync(wiring: Wiring, envelope: EventEnvelope) -> Outcome:
    return sync_refund_to_erp(
        envelope, refunds=wiring.port(envelope.store, REFUND_READER), sales_orders=wiring.erp(SALES_ORDERS),
        products=wiring.erp(PRODUCT_LOOKUP), returns=wiring.erp(RETURNS), mappings=wiring.mappings,
        locations=wiring.store_settings(envelope.store).locations,
        default_warehouse=wiring.erp_settings.warehouses[0])


lambda_handler = queue_flow_handler("refund_to_erp", lambda wiring: lambda envelope: _sync(wiring, envelope))
