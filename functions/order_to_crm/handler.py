"""order_to_crm: store orders become CRM deals on the contact, staged by payment and fulfilment; a queue
batch's contacts and deals are upserted together (flows/crm_batch.py)."""
from synchub.flows.crm_batch import sync_orders_to_crm
from synchub.ports import CONTACTS, DEALS
from synchub.runtime.handlers import queue_batch_flow_handler

lambda_handler = queue_batch_flow_handler("order_to_crm", lambda wiring: lambda envelopes: sync_orders_to_crm(
    envelopes, payloads=wiring.payloads_for_store, contacts=wiring.crm(CONTACTS), deals=wiring.crm(DEALS),
    mappings=wiring.mappings, pipeline=wiring.crm_settings.pipeline, stages=wiring.crm_settings.stages,
    sync_test_orders=lambda store: wiring.store_settings(store).sync_test_orders, records=wiring.records_for_store))
