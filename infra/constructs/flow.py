"""One flow: its SQS queue and DLQ, the function the queue feeds, and the alarms that watch them."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from synchub.catalog import flow_spec

from infra import topology
from infra.constructs.function import FunctionFactory
from infra.constructs.observability import Observability

# The SQS maximum on both: a message moved by SQS keeps its original timestamp, so the DLQ must keep
# it at least as long as the queue could have.
DLQ_RETENTION = Duration.seconds(topology.QUEUE_RETENTION_SECONDS)


def encrypted_queue(
    scope: Construct,
    construct_id: str,
    *,
    queue_name: str,
    retention_period: Duration | None = None,
    visibility_timeout: Duration | None = None,
    dead_letter_queue: sqs.DeadLetterQueue | None = None,
) -> sqs.Queue:
    """An SQS queue with SSE (SQS-managed, which EventBridge and Scheduler can write to) and TLS only."""
    return sqs.Queue(
        scope,
        construct_id,
        queue_name=queue_name,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=retention_period,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=dead_letter_queue,
    )


class Flow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        flow: topology.FlowQueue,
        factory: FunctionFactory,
        observability: Observability,
        secrets: list[secretsmanager.ISecret],
        payloads: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = flow
        self.dlq = encrypted_queue(self, "Dlq", queue_name=flow.dlq_name, retention_period=DLQ_RETENTION)
        self.queue = encrypted_queue(
            self,
            "Queue",
            queue_name=flow.queue_name,
            retention_period=DLQ_RETENTION,
            visibility_timeout=Duration.seconds(flow.visibility_timeout_seconds),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=flow.max_receive_count),
        )
        self.function = factory.create(
            self,
            "Function",
            flow=flow.flow,
            function_name=flow.function_name,
            description=flow_spec(flow.flow).description,
            timeout_seconds=flow.timeout_seconds,
            memory_mb=flow.memory_mb,
            dlq=self.dlq,
            secrets=secrets,
            payloads=payloads,
        )
        self.function.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=flow.batch_size,
                max_batching_window=Duration.seconds(flow.batch_window_seconds),
                max_concurrency=flow.max_concurrency,
                report_batch_item_failures=True,
            )
        )
        observability.watch_dlq(self, flow.flow, self.dlq)
        observability.watch_function(self, flow.flow, self.function)
        observability.watch_queue_age(self, flow.flow, self.queue, flow.age_alarm_seconds)
