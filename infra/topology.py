"""The resources of one deployment, derived from the catalogue and the config, in plain Python.

The CDK constructs and local mode both read this module, so the laptop gets the same tables, bus,
rules, queues and DLQs as AWS from the same definitions, not from a second hand-kept list.
"""

from __future__ import annotations

from dataclasses import dataclass

from synchub.catalog import FLOWS, SCHEDULES, FlowSpec, Need, ScheduleSpec
from synchub.runtime.config import DeploymentConfig
from synchub.runtime.retry import retry_policy
from synchub.runtime.settings import ENV

PROJECT = "synchub"
EVENT_SOURCE = "synchub"  # the `source` of every envelope ingest and the flows put on the bus
INGEST = "ingest"
INGEST_TIMEOUT_SECONDS = 10  # ingest answers the store in milliseconds; this only caps a stuck call
INGEST_MEMORY_MB = 512
BATCH_WINDOW_SECONDS = 1  # Lambda needs a window >= 1 s for SQS batches above 10; short unless a flow says
DISPOSABLE_STAGES = frozenset({"dev", "local", "test"})  # data is destroyed with the stack only here
POWERTOOLS_SERVICE = "synchub"
METRICS_NAMESPACE = "SyncHub"
# The SQS maximum, on flow queues and DLQs alike: a message retried for its whole budget, or moved
# by SQS with its original timestamp, still leaves an operator days to fix the cause and redrive.
QUEUE_RETENTION_SECONDS = 14 * 24 * 3600


def resource_name(stage: str, *parts: str) -> str:
    """`synchub-<stage>-<part>-...`: one naming rule for queues, functions, rules, tables, schedules."""
    return "-".join((PROJECT, stage, *parts))


def bus_name(stage: str) -> str:
    return resource_name(stage)


def config_parameter_name(stage: str) -> str:
    return f"/{PROJECT}/{stage}/config"


def retains_data(stage: str) -> bool:
    """Whether tables, secrets and logs outlive the stack (every stage but the disposable ones)."""
    return stage not in DISPOSABLE_STAGES


@dataclass(frozen=True)
class FlowQueue:
    """A deployed flow: its queue, DLQ, rule and function settings after config overrides."""

    flow: str
    queue_name: str
    dlq_name: str
    rule_name: str
    function_name: str
    topics: tuple[str, ...]
    needs: tuple[str, ...]  # the roles of the connections it talks to (their secrets are granted)
    batch_size: int
    max_concurrency: int
    max_receive_count: int  # a backstop derived from the retry budget unless configured
    timeout_seconds: int
    memory_mb: int
    stuck_after_seconds: int = 900  # from the retry policy: the vendor has been failing for a while
    batch_window_seconds: int = BATCH_WINDOW_SECONDS  # MaximumBatchingWindowInSeconds of its event source

    @property
    def visibility_timeout_seconds(self) -> int:
        # AWS guidance: at least six times the function timeout, plus the batching window.
        return 6 * self.timeout_seconds + self.batch_window_seconds

    @property
    def age_alarm_seconds(self) -> int:
        """Oldest-message age that means the flow is stuck or its vendor down, not merely busy or
        throttled: the retry backoff has reached its cap, well before the budget parks anything."""
        return max(self.stuck_after_seconds, 2 * self.visibility_timeout_seconds)


@dataclass(frozen=True)
class ScheduledJob:
    """A deployed schedule: the expression after config overrides, its function and its DLQ."""

    schedule: str
    schedule_name: str
    function_name: str
    dlq_name: str
    expression: str
    needs: tuple[str, ...]
    timeout_seconds: int
    memory_mb: int


@dataclass(frozen=True)
class TableSpec:
    """A DynamoDB table: key schema, optional sort key, GSIs as (name, pk, sk), TTL attribute."""

    role: str
    partition_key: str
    sort_key: str | None = None
    global_indexes: tuple[tuple[str, str, str], ...] = ()
    ttl_attribute: str | None = None


# Powertools Idempotency's DynamoDB layer defaults: key "id", expiry "expiration".
IDEMPOTENCY_TABLE = TableSpec(role="idempotency", partition_key="id", ttl_attribute="expiration")
# Mappings, versions, echo hashes, watermarks, leases and reconciliation reports; gsi1 answers
# reverse lookups (ERP id -> store id); leases and reports carry "expiration" so DynamoDB drops them.
STATE_TABLE = TableSpec(
    role="state", partition_key="pk", sort_key="sk", global_indexes=(("gsi1", "gsi1pk", "gsi1sk"),),
    ttl_attribute="expiration",
)


def table_specs() -> tuple[TableSpec, ...]:
    return (STATE_TABLE, IDEMPOTENCY_TABLE)


def table_name(stage: str, role: str) -> str:
    return resource_name(stage, role)


def unmet_needs(config: DeploymentConfig, requires: tuple[Need, ...]) -> list[Need]:
    """What no configured connection provides; a flow or schedule is deployed only when this is empty."""
    return [need for need in requires if not any(connection.spec.provides_capability(need.capability)
                                                 for connection in config.with_role(need.role))]


def is_connected(config: DeploymentConfig, requires: tuple[Need, ...]) -> bool:
    return not unmet_needs(config, requires)


def undeployed(config: DeploymentConfig) -> list[str]:
    """One line per enabled flow or schedule left out because a capability it requires is missing."""
    lines = []
    specs: list[FlowSpec | ScheduleSpec] = [*FLOWS, *SCHEDULES]
    for spec in specs:
        enabled = (config.flow(spec.name) if isinstance(spec, FlowSpec) else config.schedule(spec.name)).enabled
        missing = unmet_needs(config, spec.requires)
        if enabled and missing:
            lines.append(f"{spec.name} is not deployed: no configured connection provides "
                         f"{', '.join(str(need) for need in missing)}")
    return lines


def flow_queues(config: DeploymentConfig) -> list[FlowQueue]:
    """The enabled, connected catalogue flows, in catalogue order."""
    return [
        _flow_queue(config, spec)
        for spec in FLOWS
        if config.flow(spec.name).enabled and is_connected(config, spec.requires)
    ]


def _flow_queue(config: DeploymentConfig, spec: FlowSpec) -> FlowQueue:
    override = config.flow(spec.name)
    retry = retry_policy(config, spec.name)  # the functions park by the same policy at run time
    name = resource_name(config.stage, spec.name)
    return FlowQueue(
        flow=spec.name,
        queue_name=name,
        dlq_name=f"{name}-dlq",
        rule_name=name,
        function_name=name,
        topics=spec.topic_names,
        needs=spec.roles,
        batch_size=override.batch_size or spec.batch_size,
        max_concurrency=override.max_concurrency or spec.max_concurrency,
        max_receive_count=retry.max_receives,
        timeout_seconds=override.timeout_seconds or spec.timeout_seconds,
        memory_mb=override.memory_mb or spec.memory_mb,
        stuck_after_seconds=retry.stuck_after_seconds,
        batch_window_seconds=spec.batch_window_seconds or BATCH_WINDOW_SECONDS,
    )


def scheduled_jobs(config: DeploymentConfig) -> list[ScheduledJob]:
    """The enabled, connected catalogue schedules, in catalogue order."""
    return [
        _scheduled_job(config, spec)
        for spec in SCHEDULES
        if config.schedule(spec.name).enabled and is_connected(config, spec.requires)
    ]


def _scheduled_job(config: DeploymentConfig, spec: ScheduleSpec) -> ScheduledJob:
    name = resource_name(config.stage, spec.name)
    return ScheduledJob(
        schedule=spec.name,
        schedule_name=name,
        function_name=name,
        dlq_name=f"{name}-dlq",
        expression=config.schedule(spec.name).expression or spec.expression,
        needs=spec.roles,
        timeout_seconds=spec.timeout_seconds,
        memory_mb=spec.memory_mb,
    )


def ingest_function_name(stage: str) -> str:
    return resource_name(stage, INGEST)


def ingest_dlq_name(stage: str) -> str:
    return resource_name(stage, INGEST, "dlq")


def payload_bucket_name(stage: str) -> str:
    """Local mode's payload bucket (in AWS, CloudFormation names it: S3 names are global)."""
    return resource_name(stage, "payloads")


def queue_names(config: DeploymentConfig) -> list[str]:
    """Every SQS queue of the deployment: flow queues and DLQs, the ingest DLQ, schedule DLQs."""
    names = [name for flow in flow_queues(config) for name in (flow.queue_name, flow.dlq_name)]
    names.append(ingest_dlq_name(config.stage))
    names.extend(job.dlq_name for job in scheduled_jobs(config))
    return names


def function_names(config: DeploymentConfig) -> list[str]:
    return (
        [ingest_function_name(config.stage)]
        + [flow.function_name for flow in flow_queues(config)]
        + [job.function_name for job in scheduled_jobs(config)]
    )


def rule_patterns(config: DeploymentConfig) -> dict[str, dict[str, list[str]]]:
    """Flow name -> the EventBridge pattern of its rule on the bus."""
    return {
        flow.flow: {"source": [EVENT_SOURCE], "detail-type": list(flow.topics)}
        for flow in flow_queues(config)
    }


def secret_names(config: DeploymentConfig, needs: tuple[str, ...]) -> list[str]:
    """The Secrets Manager names a function talking to connections in these roles may read."""
    return list(dict.fromkeys(connection.secret_name for connection in config.connections
                              if connection.role in needs))


def webhook_senders(config: DeploymentConfig) -> list[str]:
    """The connections whose vendors send webhooks: ingest verifies their signatures with their secrets."""
    return [connection.id for connection in config.connections if connection.spec.webhooks is not None]


def ingest_secret_names(config: DeploymentConfig) -> list[str]:
    senders = set(webhook_senders(config))
    return list(dict.fromkeys(c.secret_name for c in config.connections if c.id in senders))


def partner_detail_types(config: DeploymentConfig) -> list[str]:
    """Detail-types of the EventBridge partner deliveries of the configured vendors."""
    return list(dict.fromkeys(t for connection in config.connections for t in connection.spec.partner_detail_types))


def function_environment(
    *,
    stage: str,
    flow: str,
    state_table: str,
    idempotency_table: str,
    bus_name: str,
    dlq_url: str,
    config_parameter: str | None = None,
    config_json: str | None = None,
    log_level: str = "INFO",
    payload_bucket: str | None = None,
) -> dict[str, str]:
    """The environment every function starts with (CDK passes tokens, local mode real values)."""
    environment = {
        ENV.STAGE: stage,
        ENV.STATE_TABLE: state_table,
        ENV.IDEMPOTENCY_TABLE: idempotency_table,
        ENV.BUS_NAME: bus_name,
        ENV.FLOW: flow,
        ENV.DLQ_URL: dlq_url,
        "POWERTOOLS_SERVICE_NAME": POWERTOOLS_SERVICE,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": log_level,
        # Responses and exceptions can carry personal data; keep them out of X-Ray metadata.
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        "POWERTOOLS_TRACER_CAPTURE_ERROR": "false",
    }
    if config_parameter is not None:
        environment[ENV.CONFIG_PARAMETER] = config_parameter
    if config_json is not None:
        environment[ENV.CONFIG] = config_json
    if payload_bucket is not None:
        environment[ENV.PAYLOAD_BUCKET] = payload_bucket
    return environment
