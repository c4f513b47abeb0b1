"""Runs a batch flow over an SQS batch: one flow call for all the batch's records, outcomes per record.

A batch flow (e.g. the CRM flows, which upsert a batch's contacts and deals together) takes the
envelopes of every record not yet handled and returns one result per envelope: an Outcome, or the
exception that record failed with. Each record then goes the way it would under `run_queue_flow`:
applied or skipped, parked with its reason, or reported in `batchItemFailures` for a retry; a partial
failure of a vendor's batch call therefore retries or parks only the records concerned.

Idempotency per (flow, event) is kept with the same Powertools persistence layer and the same keys as
`run_queue_flow`. Its decorator wraps one call per key, and a batch needs three steps per record (claim
before the flow's call, then complete or release after it), so the runner uses the persistence layer's
public claim (`save_inprogress`), complete (`save_success`) and release (`delete_record`) directly.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS

from synchub.errors import TransientError
from synchub.models import EventEnvelope
from synchub.models.outcome import Outcome
from synchub.ports import DeadLetters, PayloadStore
from synchub.runtime.queue_flow import (
    QueueBackoff,
    SQSRecordEvent,
    decode_record,
    default_retry_policy,
    fail_record,
    idempotency_key,
    report_outcome,
)
from synchub.runtime.retry import RetryPolicy
from synchub.state.idempotency import idempotency_config

ApplyBatch = Callable[[Sequence[EventEnvelope]], Sequence[Outcome | Exception]]
# The name run_queue_flow's decorated function has: the same keys, so a record handled by either runner
# (before and after a flow moved to batches) is recognised as a duplicate by the other.
KEY_FUNCTION = "synchub.runtime.queue_flow.run_queue_flow.<locals>.apply_once"


class EventClaims:
    """Per-record idempotency over the Powertools persistence layer; None store or the Powertools switch
    (POWERTOOLS_IDEMPOTENCY_DISABLED, tests only) turns it off."""

    def __init__(self, store: Any, context: Any) -> None:
        disabled = os.getenv("POWERTOOLS_IDEMPOTENCY_DISABLED", "false").lower() in ("1", "true", "yes", "on")
        self.store = None if disabled else store
        self.context = context
        if self.store is not None:
            config = idempotency_config()
            config.register_lambda_context(context)
            self.store.configure(config=config, function_name=KEY_FUNCTION)

    def claim(self, key: dict[str, str]) -> bool:
        """True: ours to apply now; False: already applied (a duplicate). Raises while another holds it."""
        if self.store is None:
            return True
        try:
            self.store.save_inprogress(data=key, remaining_time_in_millis=self._remaining())
        except IdempotencyItemAlreadyExistsError as exc:
            record = exc.old_data_record
            if record is None:
                try:
                    record = self.store.get_record(data=key)
                except IdempotencyItemNotFoundError:  # released between our put and get: try again later
                    raise TransientError("idempotency record changed under us", reason="event_busy") from None
            if record.status == STATUS_CONSTANTS["COMPLETED"]:
                return False
            raise IdempotencyAlreadyInProgressError(f"event {key['event_id']} is being applied elsewhere") from None
        return True

    def complete(self, key: dict[str, str], outcome: Outcome) -> None:
        if self.store is not None:
            self.store.save_success(data=key, result=outcome.model_dump())

    def release(self, key: dict[str, str], error: BaseException) -> None:
        if self.store is not None:
            self.store.delete_record(data=key, exception=error)

    def _remaining(self) -> int | None:
        remaining = getattr(self.context, "get_remaining_time_in_millis", None)
        return remaining() if callable(remaining) else None


def run_queue_batch_flow(event: dict[str, Any], context: Any, *, flow: str, apply_batch: ApplyBatch,
                         dead_letters: DeadLetters, idempotency_store: Any, backoff: QueueBackoff | None = None,
                         retry: RetryPolicy | None = None, clock: Callable[[], float] = time.time,
                         payloads: PayloadStore | None = None) -> dict[str, Any]:
    policy = retry or default_retry_policy()
    claims = EventClaims(idempotency_store, context)
    failures: list[dict[str, str]] = []

    def fail(record: SQSRecordEvent, envelope: EventEnvelope, error: BaseException) -> None:
        try:
            fail_record(record, envelope, error, flow=flow, dead_letters=dead_letters, policy=policy,
                        backoff=backoff, clock=clock)
        except Exception:  # noqa: BLE001 - classified and logged; the record goes back to the queue
            failures.append({"itemIdentifier": record["messageId"]})

    claimed: list[tuple[SQSRecordEvent, EventEnvelope]] = []
    for record in event.get("Records", []):
        try:
            envelope = decode_record(record, flow=flow, dead_letters=dead_letters, payloads=payloads)
        except Exception:  # noqa: BLE001 - a transient failure to read the record: retried
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        if envelope is None:
            continue
        try:
            fresh = claims.claim(idempotency_key(flow, envelope))
        except Exception as error:  # noqa: BLE001 - held by another invocation, or the table failed: retried
            fail(record, envelope, error)
            continue
        if fresh:
            claimed.append((record, envelope))
        else:
            report_outcome(flow, envelope, Outcome.skipped("duplicate"))

    if not claimed:
        return {"batchItemFailures": failures}
    try:
        results: Sequence[Outcome | Exception] = apply_batch([envelope for _, envelope in claimed])
        if len(results) != len(claimed):
            raise RuntimeError(f"batch flow returned {len(results)} results for {len(claimed)} records")
    except Exception as error:  # noqa: BLE001 - the flow itself failed: every record it held fails with it
        results = [error] * len(claimed)
    for (record, envelope), result in zip(claimed, results, strict=True):
        key = idempotency_key(flow, envelope)
        try:
            if isinstance(result, Exception):
                claims.release(key, result)
            else:
                claims.complete(key, result)
        except Exception as error:  # noqa: BLE001 - the idempotency table failed: retried (the writes are upserts)
            result = error
        if isinstance(result, Exception):
            fail(record, envelope, result)
        else:
            report_outcome(flow, envelope, result)
    return {"batchItemFailures": failures}
