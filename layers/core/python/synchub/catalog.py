"""The catalogue of flows and schedules: adding a flow is one entry here (plus its module and handler).

The CDK app, local mode and the configuration validator all read this list, so the queues, rules,
functions and schedules on a laptop are the ones in AWS.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from synchub.models import topics
from synchub.models.topics import Topic
from synchub.ports.capabilities import (
    CONTACTS,
    CUSTOMER_ACCOUNTS,
    DEALS,
    FULFILLMENT_PAYLOADS,
    FULFILLMENTS,
    ORDER_TRANSACTIONS,
    PAYMENTS,
    PRODUCT_LOOKUP,
    RECORD_FETCHER,
    REFUND_READER,
    RETURNS,
    SALES_ORDERS,
    SHIPMENT_SINK,
    SHIPMENT_SOURCE,
    STOCK_PAYLOADS,
    STOCK_SINK,
    STOCK_SOURCE,
    STORE_PAYLOADS,
    Capability,
)
from synchub.ports.kit import Role


@dataclass(frozen=True)
class Need:
    """A capability a flow requires of a connection in `role` (for stores: of the stores that provide it)."""

    role: Role
    capability: Capability[Any]
    calls: bool = True  # False: the flow only consumes what this capability produced (no secret needed)

    @property
    def reads_secret(self) -> bool:
        return self.calls and self.capability.credentials

    def __str__(self) -> str:
        return f"{self.role}.{self.capability.name}"


def needs(role: Role, *capabilities: Capability[Any]) -> tuple[Need, ...]:
    return tuple(Need(role, capability) for capability in capabilities)


@dataclass(frozen=True)
class FlowSpec:
    """A queue-fed flow: the bus rule matches `topics` (detail-types) into its SQS queue."""

    name: str
    description: str
    topics: tuple[Topic, ...]
    requires: tuple[Need, ...]  # deployed only where configured connections provide all of them
    batch_size: int = 10
    max_concurrency: int = 2
    max_receive_count: int | None = None  # None: a backstop derived from the retry budget
    timeout_seconds: int = 60
    memory_mb: int = 512
    batch_window_seconds: int | None = None  # how long the event source gathers a batch; None: the default (1 s)

    @property
    def topic_names(self) -> tuple[str, ...]:
        return tuple(topic.name for topic in self.topics)

    @property
    def roles(self) -> tuple[Role, ...]:
        """The roles whose connections' secrets this flow reads."""
        return _credential_roles(self.requires)


@dataclass(frozen=True)
class ScheduleSpec:
    """A scheduled function. It publishes events or does its work; it owns no queue."""

    name: str
    description: str
    expression: str
    requires: tuple[Need, ...]
    timeout_seconds: int = 300
    memory_mb: int = 512

    @property
    def roles(self) -> tuple[Role, ...]:
        return _credential_roles(self.requires)


def _credential_roles(requires: tuple[Need, ...]) -> tuple[Role, ...]:
    return tuple(dict.fromkeys(need.role for need in requires if need.reads_secret))


STORE_EVENTS = needs("store", STORE_PAYLOADS)
# Orders: a thin event (an order edit, a payload cut to its id) is completed by fetching the order from the store.
STORE_ORDER_EVENTS = needs("store", STORE_PAYLOADS, RECORD_FETCHER)
ERP_STOCK_EVENTS = (Need("erp", STOCK_SOURCE, calls=False),)  # stock events come from the ERP's stock source
ERP_SHIPMENT_EVENTS = (Need("erp", SHIPMENT_SOURCE, calls=False),)  # published by the shipment poll

# The CRM flows write a whole queue batch in a few batch calls (flows/crm_batch.py): 100 records a batch is
# one CRM batch input limit, so a burst costs about three calls per hundred orders. Gathering for up to 10 s
# fills batches at a flash sale's pace (10,000 orders in ten minutes is 17 a second) for 10 s of latency.
CRM_BATCH = 100
CRM_BATCH_WINDOW_SECONDS = 10

FLOWS: tuple[FlowSpec, ...] = (
    FlowSpec("customer_to_crm", "Store customer to CRM contact (upsert by e-mail)", topics.CUSTOMER_TOPICS,
             STORE_EVENTS + needs("crm", CONTACTS), batch_size=CRM_BATCH, max_concurrency=2,
             batch_window_seconds=CRM_BATCH_WINDOW_SECONDS),
    FlowSpec("customer_to_erp", "Store customer to ERP customer", topics.CUSTOMER_TOPICS,
             STORE_EVENTS + needs("erp", CUSTOMER_ACCOUNTS)),
    FlowSpec("order_to_erp", "Store order to ERP sales order, confirmed; cancellations follow", topics.ORDER_TOPICS,
             STORE_ORDER_EVENTS + needs("erp", SALES_ORDERS, PRODUCT_LOOKUP, CUSTOMER_ACCOUNTS),
             batch_size=5, max_concurrency=5),
    FlowSpec("order_to_crm", "Store order to CRM deal on the contact, stage from order state", topics.ORDER_TOPICS,
             STORE_ORDER_EVENTS + needs("crm", CONTACTS, DEALS), batch_size=CRM_BATCH, max_concurrency=2,
             batch_window_seconds=CRM_BATCH_WINDOW_SECONDS),
    FlowSpec("payment_to_erp", "Store payments pay the ERP sale's invoice, once per store transaction",
             (topics.ORDER_CREATED, topics.ORDER_UPDATED, topics.ORDER_PAID),
             STORE_EVENTS + needs("store", ORDER_TRANSACTIONS) + needs("erp", SALES_ORDERS, PAYMENTS),
             batch_size=5, max_concurrency=2),
    FlowSpec("refund_to_erp", "Store refunds become posted ERP credit notes; restocked units return to stock",
             (topics.REFUND_CREATED, topics.ORDER_UPDATED),
             needs("store", REFUND_READER) + needs("erp", SALES_ORDERS, PRODUCT_LOOKUP, RETURNS),
             batch_size=5, max_concurrency=2),
    FlowSpec("inventory_push", "ERP stock changes to the stores' available quantities", (topics.STOCK_CHANGED,),
             ERP_STOCK_EVENTS + needs("store", STOCK_SINK), batch_size=10, max_concurrency=2, timeout_seconds=120),
    FlowSpec("store_stock_watch", "A store's stock webhooks: our own pushes' echoes dropped, store-side changes logged",
             (topics.STORE_INVENTORY_UPDATED, topics.PRODUCT_UPDATED),
             ERP_STOCK_EVENTS + needs("store", STOCK_PAYLOADS), batch_size=10, max_concurrency=2, timeout_seconds=30),
    FlowSpec("reconcile_inventory_chunk", "One chunk of a stock reconciliation: compare and repair",
             (topics.RECONCILE_CHUNK,), ERP_STOCK_EVENTS + needs("store", STOCK_SINK), batch_size=1, max_concurrency=2,
             timeout_seconds=600, memory_mb=1024),
    FlowSpec("shipment_to_store", "ERP shipments to store fulfilments with tracking, customer notified "
             "(stores whose fulfilment master is the ERP)", (topics.SHIPMENT_SHIPPED,),
             ERP_SHIPMENT_EVENTS + needs("store", FULFILLMENTS), batch_size=5, max_concurrency=2),
    FlowSpec("fulfilment_to_erp", "Store or 3PL fulfilments close the ERP shipments (stores whose fulfilment "
             "master is the store)", topics.STORE_FULFILLMENT_TOPICS,
             needs("store", FULFILLMENT_PAYLOADS) + needs("erp", SHIPMENT_SINK), batch_size=5, max_concurrency=2),
)

SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec("poll_erp_stock", "Publish ERP stock changed since the watermark", "rate(1 minute)",
                 needs("erp", STOCK_SOURCE), timeout_seconds=120),
    ScheduleSpec("poll_erp_shipments", "Publish ERP shipments done since the watermark", "rate(1 minute)",
                 needs("erp", SHIPMENT_SOURCE), timeout_seconds=120),
    ScheduleSpec("reconcile_inventory", "Split a full stock reconciliation into chunks", "cron(0 3 * * ? *)",
                 needs("erp", STOCK_SOURCE) + needs("store", STOCK_SINK), timeout_seconds=600, memory_mb=1024),
)


def flow_spec(name: str) -> FlowSpec:
    return next(flow for flow in FLOWS if flow.name == name)


def schedule_spec(name: str) -> ScheduleSpec:
    return next(schedule for schedule in SCHEDULES if schedule.name == name)


def flows_for_topic(topic: str) -> list[FlowSpec]:
    return [flow for flow in FLOWS if topic in flow.topic_names]


def handled_topics(enabled: Callable[[str], bool] | None = None) -> set[str]:
    """Topics some (enabled) flow subscribes to; anything else is acknowledged and skipped at ingest."""
    return {topic for flow in FLOWS if enabled is None or enabled(flow.name) for topic in flow.topic_names}
