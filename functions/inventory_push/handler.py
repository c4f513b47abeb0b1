"""inventory_push: ERP stock changes set the stores' available quantities (sellable = on hand - reserved)."""
from synchub.flows.inventory import push_stock
from synchub.runtime.handlers import queue_flow_handler

lambda_handler = queue_flow_handler("inventory_push", lambda wiring: lambda envelope: push_stock(
    envelope, stores=wiring.store_targets(), mappings=wiring.mappings,
    safety_buffer=wiring.config.inventory.safety_buffer))
