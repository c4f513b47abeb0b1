"""customer_to_crm: store customers become CRM contacts (upsert by e-mail), newest wins; a queue batch's
contacts are upserted together (flows/crm_batch.py)."""
from synchub.flows.crm_batch import sync_customers_to_crm
from synchub.ports import CONTACTS
from synchub.runtime.handlers import queue_batch_flow_handler

lambda_handler = queue_batch_flow_handler("customer_to_crm", lambda wiring: lambda envelopes: sync_customers_to_crm(
    envelopes, payloads=wiring.payloads_for_store, contacts=wiring.crm(CONTACTS), mappings=wiring.mappings))
