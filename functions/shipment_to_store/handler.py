"""shipment_to_store: an ERP shipment becomes a fulfilment of its store order, with tracking, customer notified."""
from synchub.flows.shipments import ship_to_store
from synchub.ports import FULFILLMENTS
from synchub.runtime.handlers import queue_flow_handler

lambda_handler = queue_flow_handler("shipment_to_store", lambda wiring: lambda envelope: ship_to_store(
    envelope, fulfillments=lambda store: wiring.port(store, FULFILLMENTS),
    master=lambda store: wiring.store_settings(store).fulfilment_master, mappings=wiring.mappings))
