"""Ingest: a store webhook (API Gateway) or a Shopify EventBridge delivery in, a canonical event out."""
from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from synchub.catalog import handled_topics
from synchub.flows.ingest import IngestResult, WebhookRequest, accept_partner_event, accept_webhook
from synchub.runtime.observability import logger, metrics, tracer
from synchub.runtime.wiring import Wiring

app = APIGatewayRestResolver()
METRIC = {"accepted": "WebhookAccepted", "ping": "WebhookAccepted", "skipped": "WebhookSkipped",
          "parked": "WebhookParked", "rejected": "WebhookRejected", "unknown_store": "WebhookRejected",
          "too_large": "WebhookRejected", "unavailable": "WebhookFailed"}


@app.post("/webhooks/<store>/<platform>")
def receive_webhook(store: str, platform: str) -> Response:
    wiring: Wiring = app.context["wiring"]
    event = app.current_event
    body = base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode("utf-8")
    configured = wiring.config.store(store)
    result = accept_webhook(
        WebhookRequest(store_id=store, platform=platform, headers=dict(event.headers or {}), body=body),
        decoder=wiring.decoder(platform), store_platform=configured.platform if configured else None,
        secret=lambda: wiring.webhook_secret(store), publisher=wiring.publisher, parking=wiring.dead_letters,
        handled_topics=handled_topics(wiring.flow_enabled), max_body_bytes=wiring.config.ingest.max_body_bytes)
    return _answer(result)


def _answer(result: IngestResult) -> Response:
    metrics.add_metric(name=METRIC[result.outcome], unit=MetricUnit.Count, value=1)
    logger.info("webhook", extra={"outcome": result.outcome, "reason": result.reason, "event_id": result.event_id})
    return Response(status_code=result.status, content_type=content_types.APPLICATION_JSON,
                    body={"outcome": result.outcome, "reason": result.reason})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any, wiring: Wiring | None = None) -> dict[str, Any]:
    wiring = wiring or Wiring.default()
    if event.get("detail-type") == "shopifyWebhook":  # Shopify's EventBridge partner delivery
        store = wiring.config.store_by_domain(str((event.get("detail") or {}).get("metadata", {}).get(
            "X-Shopify-Shop-Domain", "")))
        result = accept_partner_event(event, store_id=store.id if store else None, decoder=wiring.decoder("shopify"),
                                      publisher=wiring.publisher, parking=wiring.dead_letters,
                                      handled_topics=handled_topics(wiring.flow_enabled))
        _answer(result)
        if result.status >= 500:
            raise RuntimeError(f"event not stored: {result.reason}")  # EventBridge retries the target
        return {"outcome": result.outcome}
    app.append_context(wiring=wiring)
    return app.resolve(event, context)
