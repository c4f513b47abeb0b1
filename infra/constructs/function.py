"""The one function factory: runtime, architecture, layers, tracing, logs and shared settings, once.

Every SyncHub function (ingest, each flow, each schedule) is made here, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

from aws_cdk import CfnElement, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra import topology
from infra.build_layers import LAMBDA_PYTHON_VERSION
from infra.constructs.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_14  # the newest Python runtime aws-cdk-lib 2.275 offers
ARCHITECTURE = lambda_.Architecture.ARM_64
ROOT = Path(__file__).resolve().parent.parent.parent
FUNCTIONS_DIR = ROOT / "functions"
CORE_LAYER_DIR = ROOT / "layers" / "core"
HANDLER = "handler.lambda_handler"
assert RUNTIME.name == f"python{LAMBDA_PYTHON_VERSION}", "the deps layer is built for another Python"


@dataclass(frozen=True)
class SharedResources:
    """What every function is wired to: tables, bus, config parameter, and the deps layer's files."""

    stage: str
    state_table: dynamodb.ITable
    idempotency_table: dynamodb.ITable
    bus: events.IEventBus
    config_parameter: ssm.IStringParameter
    deps_layer_dir: Path
    log_retention_days: int


class FunctionFactory(Construct):
    """Owns the two layers and makes functions that share them and the settings above."""

    def __init__(self, scope: Construct, construct_id: str, *, shared: SharedResources) -> None:
        super().__init__(scope, construct_id)
        self.shared = shared
        self.functions: dict[str, lambda_.Function] = {}
        self.core_layer = lambda_.LayerVersion(
            self,
            "CoreLayer",
            code=lambda_.Code.from_asset(str(CORE_LAYER_DIR), exclude=["**/__pycache__", "**/*.pyc"]),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="synchub: models, flows, connectors, runtime",
        )
        self.deps_layer = lambda_.LayerVersion(
            self,
            "DepsLayer",
            code=lambda_.Code.from_asset(str(shared.deps_layer_dir), exclude=[".build-stamp"]),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Powertools, pydantic, httpx, phonenumbers (aarch64 wheels; boto3 from the runtime)",
        )

    def create(
        self,
        scope: Construct,
        construct_id: str,
        *,
        flow: str,
        function_name: str,
        description: str,
        timeout_seconds: int,
        memory_mb: int,
        dlq: sqs.IQueue,
        secrets: list[secretsmanager.ISecret],
        payloads: s3.IBucket | None = None,
    ) -> lambda_.Function:
        """A function running functions/<flow>/handler.py with its own role, log group and DLQ;
        with `payloads`, it may read claim-checked payloads (writers are granted more by their construct)."""
        shared = self.shared
        retain = topology.retains_data(shared.stage)
        log_group = logs.LogGroup(
            scope,
            f"{construct_id}Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=log_retention(shared.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        # An own role instead of AWSLambdaBasicExecutionRole: logs may go to this log group only.
        role = iam.Role(
            scope,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs {function_name}",
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            scope,
            construct_id,
            function_name=function_name,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=lambda_.Code.from_asset(str(FUNCTIONS_DIR / flow), exclude=["**/__pycache__", "**/*.pyc"]),
            layers=[self.deps_layer, self.core_layer],
            timeout=Duration.seconds(timeout_seconds),
            memory_size=memory_mb,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            role=role,
            environment=topology.function_environment(
                stage=shared.stage,
                flow=flow,
                state_table=shared.state_table.table_name,
                idempotency_table=shared.idempotency_table.table_name,
                bus_name=shared.bus.event_bus_name,
                dlq_url=dlq.queue_url,
                config_parameter=shared.config_parameter.parameter_name,
                payload_bucket=payloads.bucket_name if payloads is not None else None,
            ),
        )
        shared.state_table.grant_read_write_data(function)
        shared.idempotency_table.grant_read_write_data(function)
        shared.bus.grant_put_events_to(function)
        shared.config_parameter.grant_read(function)
        dlq.grant_send_messages(function)
        for secret in secrets:
            secret.grant_read(function)
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions; "
            "active tracing needs them on *.",
        )
        state = cast(CfnElement, shared.state_table.node.default_child)
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::<{Stack.of(state).get_logical_id(state)}.Arn>/index/*]",
            "Reverse lookups query the state table's own gsi1; /index/* covers that table's indexes only.",
        )
        if payloads is not None:
            # GetObject only, not CDK's grant_read (List*, GetBucket*): a claim check is fetched by its key.
            allow_objects(role, payloads, "s3:GetObject")
        self.functions[flow] = function
        return function


def allow_objects(role: iam.IRole, bucket: s3.IBucket, action: str) -> None:
    """One S3 object action on every object of `bucket`, with the nag finding that implies acknowledged."""
    role.add_to_principal_policy(iam.PolicyStatement(actions=[action], resources=[bucket.arn_for_objects("*")]))
    cfn_bucket = cast(CfnElement, bucket.node.default_child)
    acknowledge(
        role,
        f"AwsSolutions-IAM5[Resource::<{Stack.of(cfn_bucket).get_logical_id(cfn_bucket)}.Arn>/*]",
        "Claim-check keys are content hashes chosen at run time, so the grant covers this one bucket's objects.",
    )


# CloudWatch's allowed retention periods in days, in the order aws_logs.RetentionDays lists them.
_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def log_retention(days: int) -> logs.RetentionDays:
    """The shortest CloudWatch retention that keeps logs at least `days` days."""
    periods = [member for member in logs.RetentionDays if member is not logs.RetentionDays.INFINITE]
    by_days = dict(zip(_RETENTION_DAYS, periods, strict=True))
    return by_days[next((value for value in _RETENTION_DAYS if value >= days), _RETENTION_DAYS[-1])]
