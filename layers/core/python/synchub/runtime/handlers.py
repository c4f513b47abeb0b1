"""The Lambda handler of a queue-fed flow: Powertools logging, tracing and metrics around run_queue_flow,
with the flow's ports bound from the wiring. Kept apart from queue_flow so the runner never imports the
composition root."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from synchub.runtime.observability import logger, metrics, tracer
from synchub.runtime.queue_batch import ApplyBatch, run_queue_batch_flow
from synchub.runtime.queue_flow import Apply, run_queue_flow
from synchub.runtime.retry import retry_policy

if TYPE_CHECKING:
    from synchub.runtime.wiring import Wiring


def queue_flow_handler(flow: str, bind: Callable[[Any], Apply]) -> Callable[..., dict[str, Any]]:
    """The Lambda handler of a queue-fed flow: Powertools logging, tracing and metrics around
    run_queue_flow. `bind(wiring)` returns the flow function with its ports bound.
    A test or local mode passes its own `wiring`; AWS gets the environment's default one."""

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: Any, wiring: Wiring | None = None) -> dict[str, Any]:
        if wiring is None:  # imported at the first invocation, as before: cold imports stay lean
            from synchub.runtime.wiring import Wiring

            wiring = Wiring.default()
        return run_queue_flow(event, context, flow=flow, apply=bind(wiring), dead_letters=wiring.dead_letters,
                              idempotency_store=wiring.idempotency, backoff=wiring.backoff,
                              payloads=wiring.payload_store, retry=retry_policy(wiring.config, flow))

    return lambda_handler


def queue_batch_flow_handler(flow: str, bind: Callable[[Any], ApplyBatch]) -> Callable[..., dict[str, Any]]:
    """The Lambda handler of a batch flow (one flow call per SQS batch, see runtime/queue_batch.py), with
    the same Powertools decorators and wiring as queue_flow_handler."""

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: Any, wiring: Wiring | None = None) -> dict[str, Any]:
        if wiring is None:
            from synchub.runtime.wiring import Wiring

            wiring = Wiring.default()
        return run_queue_batch_flow(event, context, flow=flow, apply_batch=bind(wiring),
                                    dead_letters=wiring.dead_letters, idempotency_store=wiring.idempotency,
                                    backoff=wiring.backoff, payloads=wiring.payload_store,
                                    retry=retry_policy(wiring.config, flow))

    return lambda_handler
