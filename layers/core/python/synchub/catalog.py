"""The catalogue of flows and schedules: adding a flow is one entry here (plus its module and handler).

The CDK app, local mode and the configuration validator all read this list, so the queues, rules,
functions and schedules on a laptop are the ones in AWS.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class FlowSpec:
    """A queue-fed flow: the bus rule matches `topics` (detail-types) into its SQS queue."""

    name: str
    description: str
    topics: tuple[str, ...]
    needs: tuple[str, ...]  # which connections it talks to: "erp", "crm", "stores"
    batch_size: int = 10
    max_concurrency: int = 2
    max_receive_count: int | None = None  # None: a backstop derived from the retry budget
    timeout_seconds: int = 60
    memory_mb: int = 512


@dataclass(frozen=True)
class ScheduleSpec:
    """A scheduled function. It publishes events or does its work; it owns no queue."""

    name: str
    description: str
    expression: str
    needs: tuple[str, ...]
    timeout_seconds: int = 300
    memory_mb: int = 512


CUSTOMER_TOPICS = ("customer.created", "customer.updated")
ORDER_TOPICS = ("order.created", "order.updated", "order.paid", "order.cancelled")

FLOWS: tuple[FlowSpec, ...] = (
    FlowSpec("customer_to_crm", "Store customer to CRM contact (upsert by e-mail)", CUSTOMER_TOPICS, ("crm",),
             batch_size=50, max_concurrency=2),
    FlowSpec("customer_to_erp", "Store customer to ERP customer", CUSTOMER_TOPICS, ("erp",)),
    FlowSpec("order_to_erp", "Store order to ERP sales order, confirmed; cancellations follow",
             ORDER_TOPICS, ("erp",), batch_size=5, max_concurrency=5),
    FlowSpec("order_to_crm", "Store order to CRM deal on the contact, stage from order state",
             ORDER_TOPICS, ("crm",), batch_size=10, max_concurrency=2),
    FlowSpec("inventory_push", "ERP stock changes to the stores' available quantities",
             ("stock.changed",), ("erp", "stores"), batch_size=10, max_concurrency=2, timeout_seconds=120),
    FlowSpec("reconcile_inventory_chunk", "One chunk of a stock reconciliation: compare and repair",
             ("inventory.reconcile_chunk",), ("erp", "stores"), batch_size=1, max_concurrency=2,
             timeout_seconds=600, memory_mb=1024),
)

SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec("poll_erp_stock", "Publish ERP stock changed since the watermark", "rate(1 minute)",
                 ("erp",), timeout_seconds=120),
    ScheduleSpec("reconcile_inventory", "Split a full stock reconciliation into chunks", "cron(0 3 * * ? *)",
                 ("erp", "stores"), timeout_seconds=600, memory_mb=1024),
)


def flow_spec(name: str) -> FlowSpec:
    return next(flow for flow in FLOWS if flow.name == name)


def schedule_spec(name: str) -> ScheduleSpec:
    return next(schedule for schedule in SCHEDULES if schedule.name == name)


def flows_for_topic(topic: str) -> list[FlowSpec]:
    return [flow for flow in FLOWS if topic in flow.topics]


def handled_topics(enabled: Callable[[str], bool] | None = None) -> set[str]:
    """Topics some (enabled) flow subscribes to; anything else is acknowledged and skipped at ingest."""
    return {topic for flow in FLOWS if enabled is None or enabled(flow.name) for topic in flow.topics}
