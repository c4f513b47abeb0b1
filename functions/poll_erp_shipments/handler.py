"""poll_erp_shipments (schedule): publish ERP shipments done since the watermark as shipment.shipped events."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from synchub.flows.shipments import publish_shipments
from synchub.ports import SHIPMENT_SOURCE
from synchub.runtime.observability import logger, metrics, tracer
from synchub.runtime.wiring import Wiring


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any, wiring: Wiring | None = None) -> dict[str, Any]:
    wiring = wiring or Wiring.default()
    result = publish_shipments(erp=wiring.erp(SHIPMENT_SOURCE), mappings=wiring.mappings, publisher=wiring.publisher)
    metrics.add_metric(name="ShipmentsPublished", unit=MetricUnit.Count, value=result.shipments)
    logger.info("shipment poll", extra=asdict(result))
    return asdict(result)
