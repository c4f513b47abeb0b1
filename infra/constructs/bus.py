"""The event bus "synchub-<stage>", its replayable archive, and one rule per flow into its queue.

Also, when configured, vendors' partner event buses, whose webhook deliveries go to ingest.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from synchub.runtime.config import DeploymentConfig

from infra import topology

# EventBridge retries delivery to a queue for up to a day; past that the event goes to the flow's DLQ.
TARGET_RETRY_ATTEMPTS = 185
TARGET_MAX_EVENT_AGE = Duration.hours(24)


class EventRouting(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.patterns = topology.rule_patterns(config)
        self.bus = events.EventBus(
            self,
            "Bus",
            event_bus_name=topology.bus_name(config.stage),
            description="SyncHub canonical events, one rule per flow",
        )
        retention_days = config.archive_retention_days
        self.archive = self.bus.archive(
            "Archive",
            archive_name=topology.resource_name(config.stage, "archive"),
            description="Every SyncHub event, for replay after a fix",
            event_pattern=events.EventPattern(source=[topology.EVENT_SOURCE]),
            retention=Duration.days(retention_days) if retention_days else None,  # None: indefinite
        )
        self.rules: dict[str, events.Rule] = {}

    def route(self, flow: topology.FlowQueue, queue: sqs.IQueue, dlq: sqs.IQueue) -> events.Rule:
        """The flow's rule: its topics (detail-types) from source "synchub" into its queue."""
        pattern = self.patterns[flow.flow]
        rule = events.Rule(
            self,
            f"Rule-{flow.flow}",
            rule_name=flow.rule_name,
            description=f"{', '.join(flow.topics)} to {flow.queue_name}",
            event_bus=self.bus,
            event_pattern=events.EventPattern(source=pattern["source"], detail_type=pattern["detail-type"]),
            # The target adds the queue policy: events.amazonaws.com may send, from this rule only.
            targets=[
                targets.SqsQueue(
                    queue,
                    dead_letter_queue=dlq,
                    retry_attempts=TARGET_RETRY_ATTEMPTS,
                    max_event_age=TARGET_MAX_EVENT_AGE,
                )
            ],
        )
        self.rules[flow.flow] = rule
        return rule

    def receive_partner_events(self, ingest: lambda_.IFunction, dlq: sqs.IQueue) -> list[events.Rule]:
        """Vendors' EventBridge deliveries (partner event sources named in the config) into ingest."""
        detail_types = topology.partner_detail_types(self.config)
        rules = []
        for index, source in enumerate(self.config.ingest.partner_event_sources):
            # A partner bus must be named after its event source; creating it associates the source.
            partner_bus = events.EventBus(self, f"PartnerBus{index}", event_source_name=source)
            rules.append(events.Rule(
                self,
                f"PartnerRule{index}",
                rule_name=topology.resource_name(self.config.stage, "partner", str(index)),
                description=f"Webhooks delivered through EventBridge by {source}, to ingest",
                event_bus=partner_bus,
                event_pattern=events.EventPattern(detail_type=detail_types),
                targets=[
                    targets.LambdaFunction(
                        ingest,
                        dead_letter_queue=dlq,
                        retry_attempts=TARGET_RETRY_ATTEMPTS,
                        max_event_age=TARGET_MAX_EVENT_AGE,
                    )
                ],
            ))
        return rules
