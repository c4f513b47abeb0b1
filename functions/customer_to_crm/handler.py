"""customer_to_crm: store customers become CRM contacts (upsert by e-mail), newest wins."""
from synchub.flows.customers import sync_customer_to_crm
from synchub.ports import CONTACTS
from synchub.runtime.handlers import queue_flow_handler

lambda_handler = queue_flow_handler("customer_to_crm", lambda wiring: lambda envelope: sync_customer_to_crm(
    envelope, payloads=wiring.payloads_for_store(envelope.store), contacts=wiring.crm(CONTACTS),
    mappings=wiring.mappings))
