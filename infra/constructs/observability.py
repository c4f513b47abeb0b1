"""Alarms into an encrypted SNS topic, and the operator's dashboard.

Flows, ingest and schedules ask this construct for their alarms, so every DLQ, function and queue
is watched the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from synchub.runtime.config import DeploymentConfig

from infra import topology

PERIOD = Duration.minutes(5)
WEBHOOK_METRICS = ("WebhookAccepted", "WebhookRejected", "WebhookParked", "WebhookSkipped")
SERVICE_DIMENSION = {"service": topology.POWERTOOLS_SERVICE}


class Observability(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        self.stage = config.stage
        # CloudWatch cannot publish to a topic under the AWS-managed SNS key, so the topic has its own.
        key = kms.Key(
            self, "AlarmTopicKey", enable_key_rotation=True, description="Encrypts the SyncHub alarm topic"
        )
        key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=topology.resource_name(config.stage, "alarms"),
            display_name=f"SyncHub {config.stage} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self._action = actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []

    def _alarm(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        description: str,
        metric: cloudwatch.IMetric,
        threshold: float,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            scope,
            construct_id,
            alarm_name=topology.resource_name(self.stage, name),
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)
        return alarm

    def watch_dlq(self, scope: Construct, name: str, dlq: sqs.IQueue) -> cloudwatch.Alarm:
        return self._alarm(
            scope,
            "DlqDepthAlarm",
            name=f"{name}-dlq-depth",
            description=(
                f"Messages are parked in the {name} DLQ: fix the cause, then redrive. Reason "
                "retries_exhausted (or none: SQS moved it) means a vendor failed past the retry budget; "
                "redrive with --reason retries_exhausted once it answers"
            ),
            metric=dlq.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
            threshold=0,
        )

    def watch_function(self, scope: Construct, name: str, function: lambda_.IFunction) -> cloudwatch.Alarm:
        return self._alarm(
            scope,
            "ErrorsAlarm",
            name=f"{name}-errors",
            description=f"The {name} function failed (unhandled error or timeout)",
            metric=function.metric_errors(period=PERIOD, statistic="Sum"),
            threshold=0,
        )

    def watch_queue_age(
        self, scope: Construct, name: str, queue: sqs.IQueue, seconds: int
    ) -> cloudwatch.Alarm:
        return self._alarm(
            scope,
            "QueueAgeAlarm",
            name=f"{name}-queue-age",
            description=f"The oldest {name} message waited over {seconds} s: the flow is stuck or throttled",
            metric=queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
            threshold=seconds,
        )

    def add_dashboard(
        self,
        *,
        api: apigateway.RestApi,
        functions: Mapping[str, lambda_.IFunction],
        queues: Mapping[str, sqs.IQueue],
        dlqs: Mapping[str, sqs.IQueue],
    ) -> cloudwatch.Dashboard:
        """Webhooks in, events per flow, failures, DLQ depth, latency."""

        def synchub_metric(metric_name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=topology.METRICS_NAMESPACE,
                metric_name=metric_name,
                dimensions_map=SERVICE_DIMENSION,
                statistic="Sum",
                period=PERIOD,
            )

        def graph(title: str, metrics: list[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=metrics, width=12, height=6)

        dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=topology.resource_name(self.stage, "operations")
        )
        dashboard.add_widgets(
            graph("Webhooks accepted / rejected", [synchub_metric(name) for name in WEBHOOK_METRICS]),
            graph(
                "Events per flow",
                [
                    queue.metric_number_of_messages_received(period=PERIOD, label=flow)
                    for flow, queue in queues.items()
                ],
            ),
        )
        dashboard.add_widgets(
            graph(
                "Failures",
                [
                    *(
                        function.metric_errors(period=PERIOD, label=name)
                        for name, function in functions.items()
                    ),
                    synchub_metric("PermanentFailure"),
                ],
            ),
            graph(
                "DLQ depth",
                [
                    dlq.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label=name
                    )
                    for name, dlq in dlqs.items()
                ],
            ),
        )
        dashboard.add_widgets(
            graph(
                "Latency p95",
                [
                    *(
                        function.metric_duration(period=PERIOD, statistic="p95", label=name)
                        for name, function in functions.items()
                    ),
                    api.metric_latency(period=PERIOD, statistic="p95", label="API Gateway"),
                ],
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=12, height=6),
        )
        return dashboard
