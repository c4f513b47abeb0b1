"""Runs one flow over an SQS batch: idempotent per (flow, event), failures classified.

- applied / skipped (duplicate, stale, echo, filtered): the record succeeds, its outcome is logged.
- PermanentError or an unusable record: parked in the flow's DLQ with its reason; the record succeeds
  so it is not retried in a loop; the PermanentFailure metric fires.
- anything else (TransientError, throttling, outage, a crash): the record is reported as a batch
  item failure and comes back after its retry delay. Once its retry budget (time since its first
  receive) is spent, or on the last receive before SQS's maxReceiveCount, it is parked with reason
  `retries_exhausted` and the last error instead, so an outage of hours parks nothing.

The partial-batch response is built here rather than by Powertools' BatchProcessor: for a standard
queue it is one loop and one list, and the batch utility (with asyncio and the parser models it
pulls in) cost about 90 ms of every function's cold start.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import idempotent_function
from pydantic import ValidationError

from synchub.errors import PermanentError
from synchub.models import EventEnvelope
from synchub.models.outcome import Outcome
from synchub.ports import DeadLetters, PayloadStore
from synchub.runtime.bus import envelope_from_bus_event
from synchub.runtime.observability import logger, metrics
from synchub.runtime.retry import RetryPolicy, waited_seconds
from synchub.state.idempotency import idempotency_config

Apply = Callable[[EventEnvelope], Outcome]
SQSRecordEvent = dict[str, Any]  # one record of an SQS event, as Lambda delivers it


class QueueBackoff:
    """Makes a failed record visible again after `delay` instead of the queue's full visibility timeout."""

    def __init__(self, sqs: Any) -> None:
        self.sqs = sqs
        self._urls: dict[str, str] = {}

    def delay(self, record: SQSRecordEvent, seconds: int) -> None:
        try:
            self.sqs.change_message_visibility(QueueUrl=self._url(record["eventSourceARN"]),
                                               ReceiptHandle=record["receiptHandle"], VisibilityTimeout=seconds)
        except Exception:  # noqa: BLE001 - best effort: the record still returns after the visibility timeout
            logger.warning("could not shorten the retry delay", extra={"message_id": record.get("messageId")})

    def _url(self, arn: str) -> str:
        if arn not in self._urls:
            _, _, _, _, account, name = arn.split(":", 5)
            self._urls[arn] = self.sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        return self._urls[arn]


def run_queue_flow(event: dict[str, Any], context: Any, *, flow: str, apply: Apply, dead_letters: DeadLetters,
                   idempotency_store: Any, backoff: QueueBackoff | None = None, retry: RetryPolicy | None = None,
                   clock: Callable[[], float] = time.time, payloads: PayloadStore | None = None) -> dict[str, Any]:
    policy = retry or default_retry_policy()
    config = idempotency_config()
    config.register_lambda_context(context)

    @idempotent_function(data_keyword_argument="idempotency_key", config=config, persistence_store=idempotency_store)
    def apply_once(idempotency_key: dict[str, str], envelope: EventEnvelope, ran: list[bool]) -> dict[str, Any]:
        ran.append(True)
        return apply(envelope).model_dump()

    def record_handler(record: SQSRecordEvent) -> None:
        envelope = decode_record(record, flow=flow, dead_letters=dead_letters, payloads=payloads)
        if envelope is None:
            return
        ran: list[bool] = []
        try:
            result = apply_once(idempotency_key=idempotency_key(flow, envelope), envelope=envelope, ran=ran)
        except Exception as error:  # noqa: BLE001 - classified: parked, or raised again for a retry
            fail_record(record, envelope, error, flow=flow, dead_letters=dead_letters, policy=policy,
                        backoff=backoff, clock=clock)
            return
        report_outcome(flow, envelope, Outcome.model_validate(result) if ran else Outcome.skipped("duplicate"))

    # Every record is tried; the ones that raised are returned for retry (a batch that fails entirely
    # is reported the same way, so the response is always the list the event source mapping expects).
    failures: list[dict[str, str]] = []
    for record in event.get("Records", []):
        try:
            record_handler(record)
        except Exception:  # noqa: BLE001 - classified and logged above; the record goes back to the queue
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


# The parts of a record's life shared with the batch runner (runtime/queue_batch.py) -----------------
def default_retry_policy() -> RetryPolicy:
    from synchub.runtime.config import RetrySettings

    return RetryPolicy.of(RetrySettings())


def idempotency_key(flow: str, envelope: EventEnvelope) -> dict[str, str]:
    return {"flow": flow, "event_id": envelope.event_id}


def decode_record(record: SQSRecordEvent, *, flow: str, dead_letters: DeadLetters,
                  payloads: PayloadStore | None) -> EventEnvelope | None:
    """The record's envelope, or None once an unusable record is parked; a transient S3 error raises."""
    body = record["body"]
    try:
        return envelope_from_bus_event(body, payloads)
    except PermanentError as error:  # a claim-checked payload that is gone
        _park(dead_letters, flow, body, error.reason, {**error.detail, "message": str(error)})
    except (ValueError, KeyError, TypeError, ValidationError) as error:
        _park(dead_letters, flow, body, "invalid_envelope", {"error": type(error).__name__})
    return None


def fail_record(record: SQSRecordEvent, envelope: EventEnvelope, error: BaseException, *, flow: str,
                dead_letters: DeadLetters, policy: RetryPolicy, backoff: QueueBackoff | None,
                clock: Callable[[], float]) -> None:
    """Park a permanent failure (returns), or re-raise a transient one after setting its retry delay;
    once the retry budget is spent a transient failure is parked as `retries_exhausted` instead."""
    body = record["body"]
    if isinstance(error, PermanentError):
        _park(dead_letters, flow, body, error.reason, {**error.detail, "event_id": envelope.event_id,
                                                        "message": str(error)})
        return
    if isinstance(error, ValidationError):  # the vendor payload does not make a valid canonical record
        _park(dead_letters, flow, body, "invalid_payload",
              {"event_id": envelope.event_id, "errors": error.error_count()})
        return
    attributes = record.get("attributes", {})
    receives = int(attributes.get("ApproximateReceiveCount") or 1)
    waited = waited_seconds(attributes, clock())
    if policy.exhausted(waited_seconds=waited, receives=receives):
        _park(dead_letters, flow, body, "retries_exhausted", {
            "event_id": envelope.event_id, "error": type(error).__name__,
            "error_reason": getattr(error, "reason", None), "message": str(error)[:500],
            "receives": receives, "waited_seconds": round(waited)}, metric="RetriesExhausted")
        return
    metrics.add_metric(name="TransientFailure", unit=MetricUnit.Count, value=1)
    delay = policy.delay(error, receives)
    logger.warning("event will be retried", extra={"flow": flow, "event_id": envelope.event_id,
                                                   "error": type(error).__name__, "retry_in": delay,
                                                   "reason": getattr(error, "reason", None)})
    if backoff is not None:
        backoff.delay(record, delay)
    raise error


def report_outcome(flow: str, envelope: EventEnvelope, outcome: Outcome) -> None:
    metrics.add_metric(name="EventApplied" if outcome.action == "applied" else "EventSkipped",
                       unit=MetricUnit.Count, value=1)
    logger.info("event handled", extra={"flow": flow, "event_id": envelope.event_id, "topic": envelope.topic,
                                         "action": outcome.action, "reason": outcome.reason, "ids": outcome.ids})


def _park(dead_letters: DeadLetters, flow: str, body: str, reason: str, detail: dict[str, Any], *,
          metric: str = "PermanentFailure") -> None:
    dead_letters.park(body, reason, detail)
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    logger.warning("event parked", extra={"flow": flow, "reason": reason, "event_id": detail.get("event_id")})
