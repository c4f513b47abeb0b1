"""fulfilment_to_erp: a store's (or its 3PL's) fulfilment closes the ERP shipment, for stores that ship themselves."""
from synchub.flows.shipments import fulfilment_to_erp
from synchub.ports import FULFILLMENT_PAYLOADS, SHIPMENT_SINK
from synchub.runtime.handlers import queue_flow_handler

lambda_handler = queue_flow_handler("fulfilment_to_erp", lambda wiring: lambda envelope: fulfilment_to_erp(
    envelope, payloads=wiring.port(envelope.store, FULFILLMENT_PAYLOADS), shipments=wiring.erp(SHIPMENT_SINK),
    master=wiring.store_settings(envelope.store).fulfilment_master, mappings=wiring.mappings))
