"""Creates a deployment's AWS resources in moto from infra.topology, the definitions CDK uses too.

Used by local mode (against moto's server) and by integration tests (moto in-process). Idempotent:
running it on resources that exist changes nothing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from synchub.runtime.config import DeploymentConfig
from synchub.runtime.settings import Settings

from infra import topology


@dataclass
class LocalResources:
    stage: str
    state_table: str
    idempotency_table: str
    bus_name: str
    config_parameter: str
    ingest_dlq_url: str
    payload_bucket: str
    queue_urls: dict[str, str] = field(default_factory=dict)  # flow -> queue
    dlq_urls: dict[str, str] = field(default_factory=dict)  # flow or schedule -> its DLQ

    def settings(self, flow: str, config: DeploymentConfig) -> Settings:
        """The run-time settings the function `flow` would get from CDK, with local values."""
        return Settings(stage=self.stage, state_table=self.state_table, idempotency_table=self.idempotency_table,
                        bus_name=self.bus_name, flow=flow,
                        dlq_url=self.ingest_dlq_url if flow == topology.INGEST else self.dlq_urls.get(flow),
                        config_json=config.model_dump_json(),
                        payload_bucket=self.payload_bucket if flow in self.payload_readers else None)

    @property
    def payload_readers(self) -> set[str]:
        """As in CDK: ingest and the flows get the payload bucket, schedules do not."""
        return {topology.INGEST, *self.queue_urls}


def provision(config: DeploymentConfig, *, dynamodb: Any, sqs: Any, events: Any, secretsmanager: Any, ssm: Any,
              s3: Any, secrets: dict[str, dict[str, Any]], visibility_timeout: int | None = None) -> LocalResources:
    stage = config.stage
    for spec in topology.table_specs():
        _table(dynamodb, topology.table_name(stage, spec.role), spec)
    bus = topology.bus_name(stage)
    if bus not in {b["Name"] for b in events.list_event_buses()["EventBuses"]}:
        events.create_event_bus(Name=bus)

    resources = LocalResources(
        stage=stage, state_table=topology.table_name(stage, topology.STATE_TABLE.role),
        idempotency_table=topology.table_name(stage, topology.IDEMPOTENCY_TABLE.role), bus_name=bus,
        config_parameter=topology.config_parameter_name(stage),
        ingest_dlq_url=_queue(sqs, topology.ingest_dlq_name(stage)),
        payload_bucket=_bucket(s3, topology.payload_bucket_name(stage), config.ingest.payload_retention_days))
    patterns = topology.rule_patterns(config)
    for flow in topology.flow_queues(config):
        dlq_url = _queue(sqs, flow.dlq_name, {"MessageRetentionPeriod": str(topology.QUEUE_RETENTION_SECONDS)})
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue_url = _queue(sqs, flow.queue_name, {
            "VisibilityTimeout": str(visibility_timeout or flow.visibility_timeout_seconds),
            "MessageRetentionPeriod": str(topology.QUEUE_RETENTION_SECONDS),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": flow.max_receive_count}),
        })
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=flow.rule_name, EventBusName=bus, EventPattern=json.dumps(patterns[flow.flow]))
        events.put_targets(Rule=flow.rule_name, EventBusName=bus, Targets=[{"Id": "flow-queue", "Arn": queue_arn}])
        resources.queue_urls[flow.flow] = queue_url
        resources.dlq_urls[flow.flow] = dlq_url
    for job in topology.scheduled_jobs(config):
        resources.dlq_urls[job.schedule] = _queue(sqs, job.dlq_name)

    for name, value in secrets.items():
        try:
            secretsmanager.create_secret(Name=name, SecretString=json.dumps(value))
        except secretsmanager.exceptions.ResourceExistsException:
            secretsmanager.put_secret_value(SecretId=name, SecretString=json.dumps(value))
    ssm.put_parameter(Name=resources.config_parameter, Value=config.model_dump_json(), Type="String",
                      Overwrite=True, Tier="Advanced")
    return resources


def _table(dynamodb: Any, name: str, spec: topology.TableSpec) -> None:
    client = dynamodb.meta.client
    if name in client.list_tables()["TableNames"]:
        return
    keys = [(spec.partition_key, "HASH")] + ([(spec.sort_key, "RANGE")] if spec.sort_key else [])
    attributes = {key for key, _ in keys} | {attr for _, pk, sk in spec.global_indexes for attr in (pk, sk)}
    options: dict[str, Any] = {}
    if spec.global_indexes:
        options["GlobalSecondaryIndexes"] = [{
            "IndexName": index, "Projection": {"ProjectionType": "ALL"},
            "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}],
        } for index, pk, sk in spec.global_indexes]
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": key, "KeyType": kind} for key, kind in keys],
                        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
                        **options)
    if spec.ttl_attribute:
        client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True,
                                                                            "AttributeName": spec.ttl_attribute})


def _bucket(s3: Any, name: str, retention_days: int) -> str:
    if name not in {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}:
        region = s3.meta.region_name
        # Outside us-east-1, S3 wants the region named again as the bucket's location.
        location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=name, **location)
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
        {"ID": "expire-claim-checks", "Status": "Enabled", "Filter": {"Prefix": ""},
         "Expiration": {"Days": retention_days}}]})
    return name


def _queue(sqs: Any, name: str, attributes: dict[str, str] | None = None) -> str:
    encrypted = {"SqsManagedSseEnabled": "true", **(attributes or {})}
    url = sqs.create_queue(QueueName=name, Attributes=encrypted)["QueueUrl"]
    if attributes:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return url
