"""The webhook front door: `POST /webhooks/{store}/{platform}` on API Gateway into the ingest function.

Ingest verifies each store's HMAC on the raw body, so every body reaches it base64-encoded and byte-exact
(binaryMediaTypes */*); signed bodies it cannot use are parked in the ingest DLQ.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from synchub.runtime.config import DeploymentConfig

from infra import topology
from infra.constructs.flow import DLQ_RETENTION, encrypted_queue
from infra.constructs.function import FunctionFactory, allow_objects, log_retention
from infra.constructs.nag import acknowledge
from infra.constructs.observability import Observability


class WebhookApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        factory: FunctionFactory,
        observability: Observability,
        secrets: list[secretsmanager.ISecret],
        payloads: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        stage = config.stage
        self.dlq = encrypted_queue(
            self, "IngestDlq", queue_name=topology.ingest_dlq_name(stage), retention_period=DLQ_RETENTION
        )
        self.function = factory.create(
            self,
            "Ingest",
            flow=topology.INGEST,
            function_name=topology.ingest_function_name(stage),
            description="Verifies store webhooks, normalises them and puts them on the bus",
            timeout_seconds=topology.INGEST_TIMEOUT_SECONDS,
            memory_mb=topology.INGEST_MEMORY_MB,
            dlq=self.dlq,
            secrets=secrets,
            payloads=payloads,
        )
        # Ingest writes claim checks: large events for the bus, large bodies it parks.
        assert self.function.role is not None  # the function factory always gives a function its own role
        allow_objects(self.function.role, payloads, "s3:PutObject")
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{topology.resource_name(stage, 'webhooks')}",
            retention=log_retention(config.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN if topology.retains_data(stage) else RemovalPolicy.DESTROY,
        )
        self.api = apigateway.RestApi(
            self,
            "Api",
            rest_api_name=topology.resource_name(stage, "webhooks"),
            description="Store webhooks into SyncHub",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            binary_media_types=["*/*"],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigateway.StageOptions(
                stage_name=stage,
                throttling_rate_limit=config.ingest.throttle_rate,
                throttling_burst_limit=config.ingest.throttle_burst,
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                # ERROR only: INFO execution logs would copy webhook bodies (personal data) into logs.
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                tracing_enabled=True,
            ),
        )
        validator = self.api.add_request_validator(
            "PathValidator", request_validator_name="store-and-platform", validate_request_parameters=True
        )
        route = self.api.root.add_resource("webhooks").add_resource("{store}").add_resource("{platform}")
        self.method = route.add_method(
            "POST",
            apigateway.LambdaIntegration(self.function, proxy=True),
            request_parameters={"method.request.path.store": True, "method.request.path.platform": True},
            request_validator=validator,
        )
        observability.watch_dlq(self, topology.INGEST, self.dlq)
        observability.watch_function(self, topology.INGEST, self.function)
        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        acknowledge(
            self.method,
            "AwsSolutions-APIG4",
            "Stores and other vendors cannot send IAM or Cognito credentials with a webhook; ingest "
            "authenticates every request by the store's HMAC signature over the raw body.",
        )
        acknowledge(
            self.method,
            "AwsSolutions-COG4",
            "No Cognito user pool can sign a store's webhook; ingest verifies the store's HMAC instead.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG2",
            "Path parameters are validated; the body is a vendor payload passed byte-exact (binary) for "
            "HMAC verification, so ingest, not a JSON-schema model, validates it after the signature.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG3",
            "The only route is HMAC-verified and stage-throttled from config.ingest; a WAF web ACL is a "
            "per-account cost the merchant may attach to the stage, not a SyncHub default.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level CloudWatch role uses the AWS policy made for exactly this, so "
            "stage execution (ERROR) logs can be written.",
        )
        acknowledge(
            self.dlq,
            "AwsSolutions-SQS3",
            "This queue is itself the ingest DLQ: signed but unusable webhook bodies are parked here.",
        )
