"""poll_erp_stock (schedule): publish ERP stock changed since the watermark as stock.changed events."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from synchub.flows.inventory import publish_stock_changes
from synchub.ports import STOCK_SOURCE
from synchub.runtime.observability import logger, metrics, tracer
from synchub.runtime.wiring import Wiring


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any, wiring: Wiring | None = None) -> dict[str, Any]:
    wiring = wiring or Wiring.default()
    result = publish_stock_changes(erp=wiring.erp(STOCK_SOURCE), mappings=wiring.mappings, publisher=wiring.publisher,
                                   warehouses=wiring.erp_settings.warehouses)
    metrics.add_metric(name="StockChanges", unit=MetricUnit.Count, value=result.changed)
    logger.info("stock poll", extra=asdict(result))
    return asdict(result)
