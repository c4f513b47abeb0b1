"""order_to_erp: store orders become confirmed ERP sales orders; updates and cancellations follow."""
from synchub.flows.orders import sync_order_to_erp
from synchub.ports import CUSTOMER_ACCOUNTS, PRODUCT_LOOKUP, SALES_ORDERS
from synchub.runtime.handlers import queue_flow_handler

lambda_handler = queue_flow_handler("order_to_erp", lambda wiring: lambda envelope: sync_order_to_erp(
    envelope, payloads=wiring.payloads_for_store(envelope.store), sales_orders=wiring.erp(SALES_ORDERS),
    products=wiring.erp(PRODUCT_LOOKUP), customers=wiring.erp(CUSTOMER_ACCOUNTS), mappings=wiring.mappings))
