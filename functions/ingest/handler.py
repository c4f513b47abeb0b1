"""Ingest: a connection's webhook (API Gateway) or a vendor's EventBridge partner delivery in, a canonical
event out.

One route (POST /webhooks/{store}/{platform}: a connection id and its vendor, matched by API Gateway
itself), so the proxy event is
read directly rather than through an event-handler resolver: that saves about 120 ms of cold start
and a third of the per-webhook time. Status mapping lives in one place, accept_webhook's result.
"""
from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from synchub.flows.ingest import IngestResult, WebhookRequest, accept_partner_event, accept_webhook
from synchub.runtime.observability import logger, metrics, tracer
from synchub.runtime.wiring import Wiring

METRIC = {"accepted": "WebhookAccepted", "ping": "WebhookAccepted", "skipped": "WebhookSkipped",
          "parked": "WebhookParked", "rejected": "WebhookRejected", "unknown_store": "WebhookRejected",
          "too_large": "WebhookRejected", "unavailable": "WebhookFailed"}
# Accepted webhooks are counted, and each flow logs the event it handles; what needs a look is louder.
LOG_LEVEL = {"accepted": "debug", "ping": "debug", "skipped": "info", "parked": "warning", "rejected": "warning",
             "unknown_store": "warning", "too_large": "warning", "unavailable": "error"}


def receive_webhook(event: dict[str, Any], wiring: Wiring) -> IngestResult:
    path = event.get("pathParameters") or {}
    connection_id, vendor = str(path.get("store", "")), str(path.get("platform", ""))
    body = _raw_body(event.get("body") or "", bool(event.get("isBase64Encoded")))
    configured = wiring.config.connection(connection_id)
    return accept_webhook(
        WebhookRequest(connection_id=connection_id, vendor=vendor, headers=dict(event.get("headers") or {}),
                       body=body),
        decoder=wiring.decoder_for(connection_id), connection_vendor=configured.vendor if configured else None,
        secret=lambda: wiring.webhook_secret(connection_id), publisher=wiring.publisher,
        parking=wiring.dead_letters, handled_topics=wiring.handled_topics,
        max_body_bytes=wiring.config.ingest.max_body_bytes, payloads=wiring.payload_store)


def _raw_body(text: str, base64_encoded: bool) -> bytes:
    """The bytes the store signed. Undecodable bytes reach us as lone surrogates in the event's text, kept
    (surrogatepass) so the signature check decides; a body that is not base64 cannot carry a valid one."""
    if base64_encoded:
        try:
            return base64.b64decode(text)
        except ValueError:  # binascii.Error: not what API Gateway sends, so not what a store signed
            return text.encode("utf-8", "surrogatepass")
    return text.encode("utf-8", "surrogatepass")


def receive_partner_event(event: dict[str, Any], wiring: Wiring) -> IngestResult:
    decoder = wiring.partner_decoder(str(event.get("detail-type", "")))
    domain = decoder.partner_domain(event) if decoder is not None else None
    connection = wiring.config.by_domain(domain) if domain else None
    return accept_partner_event(event, store_id=connection.id if connection else None, decoder=decoder,
                                publisher=wiring.publisher, parking=wiring.dead_letters,
                                handled_topics=wiring.handled_topics)


def _count(result: IngestResult) -> None:
    metrics.add_metric(name=METRIC.get(result.outcome, "WebhookFailed"), unit=MetricUnit.Count, value=1)
    log = getattr(logger, LOG_LEVEL.get(result.outcome, "error"))
    log("webhook", extra={"outcome": result.outcome, "reason": result.reason, "event_id": result.event_id})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any, wiring: Wiring | None = None) -> dict[str, Any]:
    wiring = wiring or Wiring.default()
    if "detail-type" in event:  # an EventBridge partner delivery, not an API Gateway request
        result = receive_partner_event(event, wiring)
        _count(result)
        if result.status >= 500:
            raise RuntimeError(f"event not stored: {result.reason}")  # EventBridge retries the target
        return {"outcome": result.outcome}
    result = receive_webhook(event, wiring)
    _count(result)
    return {"statusCode": result.status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"outcome": result.outcome, "reason": result.reason})}
