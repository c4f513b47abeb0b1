"""reconcile_inventory (schedule or `synchub trigger`): compare ERP and store stock, queue the repairs."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from synchub.flows.reconcile import plan_reconciliation
from synchub.ports import STOCK_SOURCE
from synchub.runtime.observability import logger, metrics, tracer
from synchub.runtime.wiring import Wiring


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any, wiring: Wiring | None = None) -> dict[str, Any]:
    wiring = wiring or Wiring.default()
    config, erp = wiring.config, wiring.erp_settings
    run_id = str(event.get("run_id") or f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}")
    plan = plan_reconciliation(
        run_id=run_id, erp=wiring.erp(STOCK_SOURCE), stores=wiring.store_targets(), warehouses=erp.warehouses,
        publisher=wiring.publisher, reports=wiring.reports, safety_buffer=config.inventory.safety_buffer,
        chunk_size=config.inventory.reconcile_chunk_size, page_size=erp.stock_page_size,
        dry_run=bool(event.get("dry_run", config.inventory.dry_run)))
    metrics.add_metric(name="InventoryDrift", unit=MetricUnit.Count, value=plan.drifted)
    summary = {"run_id": run_id, "dry_run": plan.dry_run, "checked": plan.checked, "drifted": plan.drifted,
               "stores": [vars(store) for store in plan.stores]}
    logger.info("reconciliation planned", extra=summary)
    return summary
