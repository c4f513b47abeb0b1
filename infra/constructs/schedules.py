"""EventBridge Scheduler: one schedule per catalogue schedule, invoking its function, with a DLQ."""

from __future__ import annotations

from typing import cast

from aws_cdk import CfnElement, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from synchub.catalog import schedule_spec

from infra import topology
from infra.constructs.flow import DLQ_RETENTION, encrypted_queue
from infra.constructs.function import FunctionFactory
from infra.constructs.nag import acknowledge
from infra.constructs.observability import Observability

RETRY_ATTEMPTS = 3
MAX_EVENT_AGE = Duration.hours(1)  # a tick older than this is stale: the next one does the same work


class ScheduledFunction(Construct):
    """The schedule, its function, and one DLQ for both missed ticks and work the function parks."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        job: topology.ScheduledJob,
        factory: FunctionFactory,
        observability: Observability,
        secrets: list[secretsmanager.ISecret],
    ) -> None:
        super().__init__(scope, construct_id)
        self.name = job.schedule
        self.dlq = encrypted_queue(self, "Dlq", queue_name=job.dlq_name, retention_period=DLQ_RETENTION)
        self.function = factory.create(
            self,
            "Function",
            flow=job.schedule,
            function_name=job.function_name,
            description=schedule_spec(job.schedule).description,
            timeout_seconds=job.timeout_seconds,
            memory_mb=job.memory_mb,
            dlq=self.dlq,
            secrets=secrets,
        )
        # The scheduler's own role: it may invoke this function and send to this DLQ, nothing else, and
        # only on behalf of schedules in this account (confused-deputy guard).
        role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
        )
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            schedule_name=job.schedule_name,
            description=schedule_spec(job.schedule).description,
            schedule=scheduler.ScheduleExpression.expression(job.expression),
            time_window=scheduler.TimeWindow.off(),
            target=scheduler_targets.LambdaInvoke(
                self.function,
                role=role,
                dead_letter_queue=self.dlq,
                retry_attempts=RETRY_ATTEMPTS,
                max_event_age=MAX_EVENT_AGE,
            ),
        )
        function_arn = Stack.of(self).get_logical_id(cast(CfnElement, self.function.node.default_child))
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::<{function_arn}.Arn>:*]",
            "lambda:InvokeFunction on this function's own versions and aliases (ARN:*), as CDK grants it; "
            "no other function is reachable.",
        )
        acknowledge(
            self.dlq,
            "AwsSolutions-SQS3",
            "This queue is itself the schedule's DLQ (missed ticks and work the function parks).",
        )
        observability.watch_dlq(self, job.schedule, self.dlq)
        observability.watch_function(self, job.schedule, self.function)
