"""The synthesised SyncHub template, operations side: schedules, secrets, alarms, dashboard, tags."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match, Template
from cfn_queries import function_id, of_type, queue_id
from synchub.catalog import SCHEDULES
from synchub.runtime.config import DeploymentConfig

from infra import topology

# --- schedules -------------------------------------------------------------------------------------


def test_schedules_invoke_their_function_with_retries_a_dlq_and_no_flexible_window(
    resources: dict, test_config: DeploymentConfig
) -> None:
    schedules = {
        body["Properties"]["Name"]: body["Properties"]
        for body in of_type(resources, "AWS::Scheduler::Schedule").values()
    }
    jobs = topology.scheduled_jobs(test_config)
    assert set(schedules) == {job.schedule_name for job in jobs} and len(jobs) == len(SCHEDULES)
    for job in jobs:
        schedule = schedules[job.schedule_name]
        assert schedule["ScheduleExpression"] == job.expression
        assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
        target = schedule["Target"]
        assert target["Arn"] == {"Fn::GetAtt": [function_id(resources, job.function_name), "Arn"]}
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [queue_id(resources, job.dlq_name), "Arn"]}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] > 0
    assert schedules["synchub-dev-poll_erp_stock"]["ScheduleExpression"] == "rate(5 minutes)"  # from dev.json


def test_scheduler_role_may_invoke_only_its_own_function(
    resources: dict, test_config: DeploymentConfig
) -> None:
    schedules = of_type(resources, "AWS::Scheduler::Schedule").values()
    policies = of_type(resources, "AWS::IAM::Policy").values()
    for schedule in schedules:
        role = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
        function = schedule["Properties"]["Target"]["Arn"]["Fn::GetAtt"][0]
        invokes = [
            statement
            for policy in policies
            if {"Ref": role} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if "lambda:InvokeFunction" in json.dumps(statement["Action"])
        ]
        assert invokes
        for statement in invokes:
            assert all(function in json.dumps(resource) for resource in statement["Resource"])


# --- secrets ---------------------------------------------------------------------------------------


def _secrets_read_by(resources: dict, function_logical_id: str) -> set[str]:
    role = resources[function_logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    secret_ids = {lid for lid in of_type(resources, "AWS::SecretsManager::Secret")}
    names = {lid: resources[lid]["Properties"]["Name"] for lid in secret_ids}
    read: set[str] = set()
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "secretsmanager:GetSecretValue" in json.dumps(statement["Action"]):
                resources_ = (
                    statement["Resource"]
                    if isinstance(statement["Resource"], list)
                    else [statement["Resource"]]
                )
                read |= {names[resource["Ref"]] for resource in resources_}
    return read


def test_each_function_reads_exactly_the_secrets_its_catalogue_entry_needs(
    resources: dict, test_config: DeploymentConfig
) -> None:
    stores = {store.secret_name for store in test_config.stores}
    crm, erp = test_config.crm.secret_name, test_config.erp.secret_name  # type: ignore[union-attr]
    expected = {
        "synchub-dev-ingest": stores,
        "synchub-dev-customer_to_crm": {crm},
        # order flows fetch a thin order (an order edit) from its store: the stores' credentials too
        "synchub-dev-order_to_crm": stores | {crm},
        "synchub-dev-order_to_erp": stores | {erp},
        # stock pushes talk to the stores only: the ERP's credentials are not theirs to read
        "synchub-dev-inventory_push": stores,
        "synchub-dev-reconcile_inventory_chunk": stores,
        "synchub-dev-store_stock_watch": set(),  # decodes store payloads and reads our mappings: no vendor call
        "synchub-dev-poll_erp_stock": {erp},
        "synchub-dev-reconcile_inventory": stores | {erp},
        # shipments: the store writes fulfilments (not the ERP's secret); the ERP closes its own shipments
        "synchub-dev-shipment_to_store": stores,
        "synchub-dev-fulfilment_to_erp": {erp},  # decodes store payloads: no store call
        "synchub-dev-poll_erp_shipments": {erp},
        # money: the store's transactions and refunds are read from the store, and booked in the ERP
        "synchub-dev-payment_to_erp": stores | {erp},
        "synchub-dev-refund_to_erp": stores | {erp},
    }
    assert set(expected) == set(topology.function_names(test_config))
    for name, secrets in expected.items():
        assert _secrets_read_by(resources, function_id(resources, name)) == secrets, name


def test_secrets_are_created_with_generated_placeholders_and_no_value_in_the_template(
    resources: dict, test_config: DeploymentConfig
) -> None:
    secrets = of_type(resources, "AWS::SecretsManager::Secret").values()
    expected = {store.secret_name for store in test_config.stores} | {
        test_config.crm.secret_name,
        test_config.erp.secret_name,
    }  # type: ignore[union-attr]
    assert {body["Properties"]["Name"] for body in secrets} == expected
    for body in secrets:
        assert "SecretString" not in body["Properties"]
        assert "GenerateSecretString" in body["Properties"]


# --- alarms and dashboard --------------------------------------------------------------------------


def _alarms(resources: dict) -> list[dict]:
    return [body["Properties"] for body in of_type(resources, "AWS::CloudWatch::Alarm").values()]


def test_every_dlq_has_a_depth_alarm_above_zero(resources: dict, test_config: DeploymentConfig) -> None:
    dlqs = {queue_id(resources, name) for name in topology.queue_names(test_config) if name.endswith("-dlq")}
    watched = {
        alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in _alarms(resources)
        if alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and alarm["Threshold"] == 0
        and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    }
    assert dlqs and watched == dlqs


def test_every_function_has_an_errors_alarm(resources: dict) -> None:
    watched = {
        alarm["Dimensions"][0]["Value"]["Ref"]
        for alarm in _alarms(resources)
        if alarm["MetricName"] == "Errors" and alarm["Namespace"] == "AWS/Lambda"
    }
    assert watched == set(of_type(resources, "AWS::Lambda::Function"))


def test_every_flow_queue_alarms_on_the_age_of_its_oldest_message(
    resources: dict, test_config: DeploymentConfig
) -> None:
    thresholds = {
        alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0]: alarm["Threshold"]
        for alarm in _alarms(resources)
        if alarm["MetricName"] == "ApproximateAgeOfOldestMessage"
    }
    assert thresholds == {
        queue_id(resources, flow.queue_name): flow.age_alarm_seconds
        for flow in topology.flow_queues(test_config)
    }
    # The backoff reaches its 15-minute cap after 21 min and waits it out once: the vendor has been
    # failing for over half an hour, long before the 12 h budget parks anything.
    assert thresholds[queue_id(resources, "synchub-dev-order_to_crm")] == 2170


def test_alarms_notify_an_encrypted_topic_with_the_configured_email(resources: dict) -> None:
    ((topic_id, topic),) = of_type(resources, "AWS::SNS::Topic").items()
    assert "KmsMasterKeyId" in topic["Properties"]
    assert any(
        body["Properties"]
        == {"Endpoint": "ops@example.com", "Protocol": "email", "TopicArn": {"Ref": topic_id}}
        for body in of_type(resources, "AWS::SNS::Subscription").values()
    )
    for alarm in _alarms(resources):
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]


def test_dashboard_shows_webhooks_flows_failures_dlqs_and_latency(resources: dict) -> None:
    (dashboard,) = of_type(resources, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for needle in (
        "WebhookAccepted",
        "WebhookRejected",
        "WebhookParked",
        "WebhookSkipped",
        "PermanentFailure",
        "NumberOfMessagesReceived",
        "ApproximateNumberOfMessagesVisible",
        "Errors",
        "Duration",
        "p95",
        "AWS/ApiGateway",
        "Latency",
        r"\"service\",\"synchub\"",
    ):
        assert needle in body, needle


# --- the stack as a whole --------------------------------------------------------------------------


def test_stack_is_tagged_with_project_and_stage(template: Template) -> None:
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "Tags": Match.array_with(
                [{"Key": "project", "Value": "synchub"}, {"Key": "stage", "Value": "dev"}]
            )
        },
    )
