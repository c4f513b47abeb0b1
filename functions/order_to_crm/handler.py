"""order_to_crm: store orders become CRM deals on the contact, staged by payment and fulfilment."""
from synchub.flows.orders import sync_order_to_crm
from synchub.ports import CONTACTS, DEALS
from synchub.runtime.handlers import queue_flow_handler

lambda_handler = queue_flow_handler("order_to_crm", lambda wiring: lambda envelope: sync_order_to_crm(
    envelope, payloads=wiring.payloads_for_store(envelope.store), contacts=wiring.crm(CONTACTS),
    deals=wiring.crm(DEALS), mappings=wiring.mappings, pipeline=wiring.crm_settings.pipeline,
    stages=wiring.crm_settings.stages, sync_test_orders=wiring.store_settings(envelope.store).sync_test_orders,
    records=wiring.records_for_store(envelope.store)))
