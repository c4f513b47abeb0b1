"""store_stock_watch: a store's stock webhooks; echoes of our own pushes end as skipped: echo."""
from synchub.flows.inventory import watch_store_stock
from synchub.ports import STOCK_PAYLOADS
from synchub.runtime.handlers import queue_flow_handler

lambda_handler = queue_flow_handler("store_stock_watch", lambda wiring: lambda envelope: watch_store_stock(
    envelope, stock_payloads=wiring.port(envelope.store, STOCK_PAYLOADS), mappings=wiring.mappings))
