"""The payload bucket for claim checks: private, encrypted, TLS only, expiring; ingest writes, flows read."""

from __future__ import annotations

from cfn_queries import function_id, of_type
from synchub.runtime.config import DeploymentConfig
from synchub.runtime.settings import ENV

from infra import topology


def bucket_id(resources: dict) -> str:
    [logical] = of_type(resources, "AWS::S3::Bucket")
    return logical


def test_bucket_is_encrypted_private_and_expires_claim_checks(resources: dict, test_config: DeploymentConfig) -> None:
    properties = resources[bucket_id(resources)]["Properties"]
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    [rule] = properties["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == test_config.ingest.payload_retention_days == 14
    assert rule["Status"] == "Enabled"


def test_bucket_refuses_plain_http(resources: dict) -> None:
    [policy] = [body for body in of_type(resources, "AWS::S3::BucketPolicy").values()
                if body["Properties"]["Bucket"] == {"Ref": bucket_id(resources)}]
    denies = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies)


def s3_actions(resources: dict, function_name: str) -> set[str]:
    role = resources[function_id(resources, function_name)]["Properties"]["Role"]["Fn::GetAtt"][0]
    actions: set[str] = set()
    for body in of_type(resources, "AWS::IAM::Policy").values():
        if {"Ref": role} not in body["Properties"]["Roles"]:
            continue
        for statement in body["Properties"]["PolicyDocument"]["Statement"]:
            listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            actions |= {action for action in listed if action.startswith("s3:")}
    return actions


def test_ingest_writes_and_reads_flows_read_schedules_have_no_access(resources: dict,
                                                                    test_config: DeploymentConfig) -> None:
    assert s3_actions(resources, topology.ingest_function_name("dev")) == {"s3:GetObject", "s3:PutObject"}
    for flow in topology.flow_queues(test_config):
        assert s3_actions(resources, flow.function_name) == {"s3:GetObject"}
    for job in topology.scheduled_jobs(test_config):
        assert s3_actions(resources, job.function_name) == set()


def test_ingest_and_flows_get_the_bucket_name_through_settings(resources: dict, test_config: DeploymentConfig) -> None:
    readers = {topology.ingest_function_name("dev"), *(flow.function_name for flow in topology.flow_queues(test_config))}
    for body in of_type(resources, "AWS::Lambda::Function").values():
        env = body["Properties"]["Environment"]["Variables"]
        if body["Properties"]["FunctionName"] in readers:
            assert env[ENV.PAYLOAD_BUCKET] == {"Ref": bucket_id(resources)}
        else:
            assert ENV.PAYLOAD_BUCKET not in env
