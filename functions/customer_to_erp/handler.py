"""customer_to_erp: store customers become ERP customers (parties), newest wins."""
from synchub.flows.customers import sync_customer_to_erp
from synchub.ports import CUSTOMER_ACCOUNTS
from synchub.runtime.handlers import queue_flow_handler

lambda_handler = queue_flow_handler("customer_to_erp", lambda wiring: lambda envelope: sync_customer_to_erp(
    envelope, payloads=wiring.payloads_for_store(envelope.store), customers=wiring.erp(CUSTOMER_ACCOUNTS),
    mappings=wiring.mappings))
