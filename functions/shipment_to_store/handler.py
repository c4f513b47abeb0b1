"""shipment_to_store: an ERP shipment becomes a fulfilment of its store order, with tracking, customer notified."""
from synchub.flows.shipments import ship_to_store
from synchub.ports import FULFILLMENTS
from synchub.runtime.handlers import queue_flow_handler
from synchub.runtime.wiring import Wiring


def _master(wiring: Wiring, store_id: str) -> str | None:
    store = wiring.config.store(store_id)
    return store.settings.fulfilment_master if store is not None else None


lambda_handler = queue_flow_handler("shipment_to_store", lambda wiring: lambda envelope: ship_to_store(
    envelope, fulfillments=lambda store: wiring.port(store, FULFILLMENTS),
    master=lambda store: _master(wiring, store), mappings=wiring.mappings))
