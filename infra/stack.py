"""The SyncHub stack: tags, and one construct per capability, composed from the catalogue and config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Annotations, CfnOutput, Stack, Tags
from aws_cdk import aws_xray as xray
from constructs import Construct
from synchub.runtime.config import DeploymentConfig

from infra import topology
from infra.constructs.bus import EventRouting
from infra.constructs.deployment_config import DeploymentConfigParameter
from infra.constructs.flow import Flow
from infra.constructs.function import FunctionFactory, SharedResources
from infra.constructs.observability import Observability
from infra.constructs.payloads import PayloadBucket
from infra.constructs.schedules import ScheduledFunction
from infra.constructs.secrets import ConnectionSecrets
from infra.constructs.state import StateTables
from infra.constructs.webhook_api import WebhookApi


class SyncHubStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        deps_layer_dir: Path,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        Tags.of(self).add("project", topology.PROJECT)
        Tags.of(self).add("stage", config.stage)

        tables = StateTables(self, "State", stage=config.stage)
        secrets = ConnectionSecrets(self, "Secrets", config=config)
        parameter = DeploymentConfigParameter(self, "Config", config=config)
        routing = EventRouting(self, "Events", config=config)
        observability = Observability(self, "Observability", config=config)
        payloads = PayloadBucket(
            self, "Payloads", stage=config.stage, retention_days=config.ingest.payload_retention_days
        )
        factory = FunctionFactory(
            self,
            "Functions",
            shared=SharedResources(
                stage=config.stage,
                state_table=tables.state,
                idempotency_table=tables.idempotency,
                bus=routing.bus,
                config_parameter=parameter.parameter,
                deps_layer_dir=deps_layer_dir,
                log_retention_days=config.log_retention_days,
            ),
        )

        # One sampling rule for every function of this stage (their X-Ray service names are the function names).
        xray.CfnSamplingRule(
            self,
            "TraceSampling",
            sampling_rule=xray.CfnSamplingRule.SamplingRuleProperty(
                rule_name=topology.resource_name(config.stage)[:32],
                priority=100,
                fixed_rate=config.trace_sample_rate,
                reservoir_size=config.trace_reservoir_per_second,
                service_name=topology.resource_name(config.stage, "*"),
                service_type="*",
                host="*",
                http_method="*",
                url_path="*",
                resource_arn="*",
                version=1,
            ),
        )

        webhooks = WebhookApi(
            self,
            "Webhooks",
            config=config,
            factory=factory,
            observability=observability,
            secrets=secrets.for_names(topology.ingest_secret_names(config)),
            payloads=payloads.bucket,
        )
        routing.receive_partner_events(webhooks.function, webhooks.dlq)
        for line in topology.undeployed(config):  # say so at synth, rather than deploy half a flow
            Annotations.of(self).add_warning(line)

        self.flows: dict[str, Flow] = {}
        for flow in topology.flow_queues(config):
            self.flows[flow.flow] = Flow(
                self,
                f"Flow-{flow.flow}",
                flow=flow,
                factory=factory,
                observability=observability,
                secrets=secrets.for_needs(config, flow.needs),
                payloads=payloads.bucket,
            )
            routing.route(flow, self.flows[flow.flow].queue, self.flows[flow.flow].dlq)

        schedules = [
            ScheduledFunction(
                self,
                f"Schedule-{job.schedule}",
                job=job,
                factory=factory,
                observability=observability,
                secrets=secrets.for_needs(config, job.needs),
            )
            for job in topology.scheduled_jobs(config)
        ]

        observability.add_dashboard(
            api=webhooks.api,
            functions=factory.functions,
            queues={name: flow.queue for name, flow in self.flows.items()},
            dlqs={
                topology.INGEST: webhooks.dlq,
                **{name: flow.dlq for name, flow in self.flows.items()},
                **{schedule.name: schedule.dlq for schedule in schedules},
            },
        )
        CfnOutput(
            self,
            "WebhookUrl",
            value=f"{webhooks.api.url}webhooks/{{store}}/{{platform}}",
            description="Point each connection's webhooks here, with its connection id and vendor",
        )
        CfnOutput(self, "BusName", value=routing.bus.event_bus_name)
        CfnOutput(self, "AlarmTopicArn", value=observability.topic.topic_arn)
