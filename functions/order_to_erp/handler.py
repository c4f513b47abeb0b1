"""order_to_erp: store orders become confirmed ERP sales orders; updates and cancellations follow."""
from synchub.flows.orders import sync_order_to_erp
from synchub.runtime.queue_flow import queue_flow_handler

lambda_handler = queue_flow_handler("order_to_erp", lambda wiring: lambda envelope: sync_order_to_erp(
    envelope, payloads=wiring.payloads_for_store(envelope.store), erp=wiring.erp, mappings=wiring.mappings))
