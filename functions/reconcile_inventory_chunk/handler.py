"""reconcile_inventory_chunk: apply one chunk of drifted SKUs to its store, compare-and-swap."""
from synchub.flows.reconcile import apply_reconcile_chunk
from synchub.runtime.handlers import queue_flow_handler

lambda_handler = queue_flow_handler("reconcile_inventory_chunk", lambda wiring: lambda envelope: apply_reconcile_chunk(
    envelope, stores=wiring.store_targets(), reports=wiring.reports))
