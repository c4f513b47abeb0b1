"""The synthesised SyncHub template: functions, webhook API, bus and routing, flow queues, tables."""

from __future__ import annotations

import json

from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template
from cfn_queries import function_id, logical_id, of_type, queue_id
from synchub.runtime.config import DeploymentConfig
from synchub.runtime.settings import ENV

from infra import topology
from infra.build_layers import LAMBDA_PYTHON_VERSION
from infra.constructs.bus import EventRouting
from infra.constructs.deployment_config import DeploymentConfigParameter
from infra.constructs.function import RUNTIME, log_retention
from infra.constructs.state import StateTables

# --- functions -------------------------------------------------------------------------------------


def test_runtime_is_the_newest_python_in_aws_cdk_lib_and_matches_the_deps_layer_build() -> None:
    pythons = [
        getattr(lambda_.Runtime, name) for name in dir(lambda_.Runtime) if name.startswith("PYTHON_3_")
    ]
    newest = max(pythons, key=lambda runtime: tuple(int(part) for part in runtime.name[6:].split(".")))
    assert RUNTIME.name == newest.name == f"python{LAMBDA_PYTHON_VERSION}"


def test_one_function_per_ingest_flow_and_schedule_none_for_a_disabled_flow(
    resources: dict, test_config: DeploymentConfig
) -> None:
    names = {
        body["Properties"]["FunctionName"] for body in of_type(resources, "AWS::Lambda::Function").values()
    }
    assert names == set(topology.function_names(test_config))
    assert "synchub-dev-customer_to_erp" not in names  # switched off in the test config
    assert {"synchub-dev-ingest", "synchub-dev-order_to_erp", "synchub-dev-poll_erp_stock"} <= names


def test_every_function_runs_python_on_arm64_with_active_tracing_and_both_layers(resources: dict) -> None:
    for body in of_type(resources, "AWS::Lambda::Function").values():
        props = body["Properties"]
        assert props["Runtime"] == RUNTIME.name
        assert props["Architectures"] == ["arm64"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Handler"] == "handler.lambda_handler"
        assert len(props["Layers"]) == 2



def test_one_xray_sampling_rule_covers_the_stages_functions_and_api_at_the_configured_rate(
    resources: dict, test_config: DeploymentConfig
) -> None:
    [rule] = [body["Properties"]["SamplingRule"] for body in of_type(resources, "AWS::XRay::SamplingRule").values()]
    assert rule["FixedRate"] == test_config.trace_sample_rate == 0.05
    assert rule["ReservoirSize"] == 0  # no first-request-each-second: that alone traces ~2.6M requests a month
    assert rule["ServiceName"] == "synchub-dev-*" and rule["Priority"] < 10000  # before the default rule
    for name in [*topology.function_names(test_config), "synchub-dev-webhooks/dev"]:  # the API's service name
        assert name.startswith(rule["ServiceName"][:-1])

def test_every_function_logs_to_its_own_log_group_with_the_configured_retention(
    resources: dict, test_config: DeploymentConfig
) -> None:
    groups = of_type(resources, "AWS::Logs::LogGroup")
    assert test_config.log_retention_days == 30
    for body in of_type(resources, "AWS::Lambda::Function").values():
        group_ref = body["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert (
            groups[group_ref]["Properties"]["LogGroupName"]
            == f"/aws/lambda/{body['Properties']['FunctionName']}"
        )
        assert groups[group_ref]["Properties"]["RetentionInDays"] == 30


def test_log_retention_rounds_up_to_a_period_cloudwatch_allows() -> None:
    assert log_retention(30).name == "ONE_MONTH"
    assert log_retention(45).name == "TWO_MONTHS"
    assert log_retention(10).name == "TWO_WEEKS"
    assert log_retention(100_000).name == "TEN_YEARS"


def test_every_function_gets_the_settings_environment_with_its_own_flow_and_dlq(
    resources: dict, test_config: DeploymentConfig
) -> None:
    flows = {flow.function_name: flow for flow in topology.flow_queues(test_config)}
    jobs = {job.function_name: job for job in topology.scheduled_jobs(test_config)}
    state_id = logical_id(resources, "AWS::DynamoDB::Table", "TableName", "synchub-dev-state")
    idempotency_id = logical_id(resources, "AWS::DynamoDB::Table", "TableName", "synchub-dev-idempotency")
    bus_id = logical_id(resources, "AWS::Events::EventBus", "Name", "synchub-dev")
    for body in of_type(resources, "AWS::Lambda::Function").values():
        name = body["Properties"]["FunctionName"]
        env = body["Properties"]["Environment"]["Variables"]
        if name in flows:
            flow, dlq = flows[name].flow, flows[name].dlq_name
        elif name in jobs:
            flow, dlq = jobs[name].schedule, jobs[name].dlq_name
        else:
            flow, dlq = topology.INGEST, topology.ingest_dlq_name("dev")
        assert env[ENV.FLOW] == flow
        assert env[ENV.DLQ_URL] == {"Ref": queue_id(resources, dlq)}
        assert env[ENV.STAGE] == "dev"
        assert env[ENV.STATE_TABLE] == {"Ref": state_id}
        assert env[ENV.IDEMPOTENCY_TABLE] == {"Ref": idempotency_id}
        assert env[ENV.BUS_NAME] == {"Ref": bus_id}
        assert env["POWERTOOLS_SERVICE_NAME"] == "synchub"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "SyncHub"
        assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"


def test_config_parameter_holds_the_deployment_config_every_function_reads(
    resources: dict, test_config: DeploymentConfig
) -> None:
    ((param_id, param),) = of_type(resources, "AWS::SSM::Parameter").items()
    assert param["Properties"]["Name"] == "/synchub/dev/config"
    assert DeploymentConfig.from_json(param["Properties"]["Value"]) == test_config
    for body in of_type(resources, "AWS::Lambda::Function").values():
        assert body["Properties"]["Environment"]["Variables"][ENV.CONFIG_PARAMETER] == {"Ref": param_id}


def test_a_config_over_4_kb_is_stored_in_the_advanced_tier(test_config: DeploymentConfig) -> None:
    stores = [
        test_config.stores[0].model_copy(
            update={
                "id": f"shop{i}",
                "secret_name": f"synchub/dev/store/{i}",
                "settings": test_config.stores[0].settings.model_copy(
                    update={"domain": f"shop-number-{i}.myshopify.com"}
                ),
            }
        )
        for i in range(40)
    ]
    large = test_config.model_copy(update={"connections": tuple(stores)})
    for config, tier in ((test_config, "Standard"), (large, "Advanced")):
        stack = Stack(App(), "Config")
        DeploymentConfigParameter(stack, "Config", config=config)
        Template.from_stack(stack).has_resource_properties("AWS::SSM::Parameter", {"Tier": tier})


# --- webhook API -----------------------------------------------------------------------------------


def test_post_webhooks_store_platform_is_a_lambda_proxy_to_ingest(
    resources: dict, template: Template
) -> None:
    parts = {
        body["Properties"]["PathPart"] for body in of_type(resources, "AWS::ApiGateway::Resource").values()
    }
    assert parts == {"webhooks", "{store}", "{platform}"}
    (method,) = of_type(resources, "AWS::ApiGateway::Method").values()
    props = method["Properties"]
    assert props["HttpMethod"] == "POST"
    assert props["Integration"]["Type"] == "AWS_PROXY"
    ingest = function_id(resources, "synchub-dev-ingest")
    assert ingest in json.dumps(props["Integration"]["Uri"])
    assert props["RequestParameters"] == {
        "method.request.path.store": True,
        "method.request.path.platform": True,
    }
    template.has_resource_properties("AWS::ApiGateway::RequestValidator", {"ValidateRequestParameters": True})


def test_stage_throttles_from_config_and_writes_access_logs(
    template: Template, test_config: DeploymentConfig
) -> None:
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "dev",
            "TracingEnabled": True,
            "AccessLogSetting": {
                "DestinationArn": Match.any_value(),
                "Format": Match.string_like_regexp("requestId"),
            },
            "MethodSettings": Match.array_with(
                [
                    Match.object_like(
                        {
                            "HttpMethod": "*",
                            "ResourcePath": "/*",
                            "ThrottlingRateLimit": test_config.ingest.throttle_rate,
                            "ThrottlingBurstLimit": test_config.ingest.throttle_burst,
                        }
                    )
                ]
            ),
        },
    )


def test_every_body_reaches_ingest_byte_exact_for_hmac(template: Template) -> None:
    template.has_resource_properties("AWS::ApiGateway::RestApi", {"BinaryMediaTypes": ["*/*"]})


# --- bus and routing -------------------------------------------------------------------------------


def test_bus_archives_synchub_events_for_the_configured_days(template: Template) -> None:
    template.has_resource_properties("AWS::Events::EventBus", {"Name": "synchub-dev"})
    template.has_resource_properties(
        "AWS::Events::Archive", {"RetentionDays": 45, "EventPattern": {"source": ["synchub"]}}
    )


def test_archive_retention_zero_keeps_events_indefinitely(test_config: DeploymentConfig) -> None:
    stack = Stack(App(), "Bus")
    EventRouting(stack, "Events", config=test_config.model_copy(update={"archive_retention_days": 0}))
    (archive,) = of_type(Template.from_stack(stack).to_json()["Resources"], "AWS::Events::Archive").values()
    assert archive["Properties"].get("RetentionDays", 0) == 0  # EventBridge: 0 or unset = indefinite


def test_one_rule_per_flow_sends_its_topics_to_its_queue_with_a_dlq(
    resources: dict, test_config: DeploymentConfig
) -> None:
    bus_id = logical_id(resources, "AWS::Events::EventBus", "Name", "synchub-dev")
    rules = {
        body["Properties"]["Name"]: body["Properties"]
        for body in of_type(resources, "AWS::Events::Rule").values()
        if body["Properties"].get("EventBusName") == {"Ref": bus_id}
    }
    flows = topology.flow_queues(test_config)
    assert set(rules) == {flow.rule_name for flow in flows}
    for flow in flows:
        rule = rules[flow.rule_name]
        assert rule["EventPattern"] == {"source": ["synchub"], "detail-type": list(flow.topics)}
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [queue_id(resources, flow.queue_name), "Arn"]}
        assert target["DeadLetterConfig"]["Arn"] == {
            "Fn::GetAtt": [queue_id(resources, flow.dlq_name), "Arn"]
        }
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0


def test_each_flow_queue_lets_only_its_rule_send(resources: dict, test_config: DeploymentConfig) -> None:
    policies = of_type(resources, "AWS::SQS::QueuePolicy").values()
    for flow in topology.flow_queues(test_config):
        queue = queue_id(resources, flow.queue_name)
        statements = [
            statement
            for policy in policies
            if {"Ref": queue} in policy["Properties"]["Queues"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        sends = [
            s
            for s in statements
            if s["Effect"] == "Allow" and s["Principal"] == {"Service": "events.amazonaws.com"}
        ]
        assert len(sends) == 1
        assert "aws:SourceArn" in sends[0]["Condition"]["ArnEquals"]


def test_shopify_partner_events_reach_ingest(resources: dict, test_config: DeploymentConfig) -> None:
    (partner_source,) = test_config.ingest.partner_event_sources
    buses = {
        body["Properties"]["Name"]: lid for lid, body in of_type(resources, "AWS::Events::EventBus").items()
    }
    assert buses[partner_source]
    assert (
        of_type(resources, "AWS::Events::EventBus")[buses[partner_source]]["Properties"]["EventSourceName"]
        == partner_source
    )
    (rule,) = [
        body["Properties"]
        for body in of_type(resources, "AWS::Events::Rule").values()
        if body["Properties"].get("EventBusName") == {"Ref": buses[partner_source]}
    ]
    assert rule["EventPattern"] == {"detail-type": ["shopifyWebhook"]}
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": [function_id(resources, "synchub-dev-ingest"), "Arn"]}


# --- flows: queues, DLQs, event source mappings ----------------------------------------------------


def test_each_flow_queue_has_its_dlq_and_visibility_at_least_six_function_timeouts(
    resources: dict, test_config: DeploymentConfig
) -> None:
    for flow in topology.flow_queues(test_config):
        queue = resources[queue_id(resources, flow.queue_name)]["Properties"]
        redrive = queue["RedrivePolicy"]
        assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": [queue_id(resources, flow.dlq_name), "Arn"]}
        timeout = resources[function_id(resources, flow.function_name)]["Properties"]["Timeout"]
        assert queue["VisibilityTimeout"] >= 6 * timeout


def test_max_receive_count_is_a_backstop_from_the_retry_budget_unless_configured(resources: dict) -> None:
    def max_receives(flow: str) -> int:
        return resources[queue_id(resources, f"synchub-dev-{flow}")]["Properties"]["RedrivePolicy"][
            "maxReceiveCount"
        ]

    # 12 h of backoff (10 s doubling to 15 min) is 55 receives; twice that leaves room for vendors
    # asking for shorter waits, and a crash loop (no code runs to park) still parks in about 11 h.
    assert max_receives("customer_to_crm") == 110
    assert max_receives("order_to_crm") == 206  # its own 24 h budget
    assert max_receives("order_to_erp") == 8  # an explicit maxReceiveCount wins


def test_flow_queues_and_dlqs_keep_messages_14_days(resources: dict, test_config: DeploymentConfig) -> None:
    for flow in topology.flow_queues(test_config):
        for name in (flow.queue_name, flow.dlq_name):
            assert resources[queue_id(resources, name)]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_every_queue_is_encrypted_and_refuses_plain_http(
    resources: dict, test_config: DeploymentConfig
) -> None:
    queues = of_type(resources, "AWS::SQS::Queue")
    assert {body["Properties"]["QueueName"] for body in queues.values()} == set(
        topology.queue_names(test_config)
    )
    denied = {
        ref["Ref"]
        for policy in of_type(resources, "AWS::SQS::QueuePolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement.get("Condition", {}).get("Bool") == {"aws:SecureTransport": "false"}
        for ref in policy["Properties"]["Queues"]
    }
    for lid, body in queues.items():
        assert body["Properties"]["SqsManagedSseEnabled"] is True
        assert lid in denied


def test_event_source_mappings_report_partial_failures_with_catalogue_batch_and_concurrency(
    resources: dict, test_config: DeploymentConfig
) -> None:
    mappings = {
        m["Properties"]["FunctionName"]["Ref"]: m["Properties"]
        for m in of_type(resources, "AWS::Lambda::EventSourceMapping").values()
    }
    flows = topology.flow_queues(test_config)
    assert len(mappings) == len(flows)
    for flow in flows:
        mapping = mappings[function_id(resources, flow.function_name)]
        assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue_id(resources, flow.queue_name), "Arn"]}
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BatchSize"] == flow.batch_size
        assert mapping["ScalingConfig"] == {"MaximumConcurrency": flow.max_concurrency}
        assert mapping["MaximumBatchingWindowInSeconds"] == flow.batch_window_seconds
    order = mappings[function_id(resources, "synchub-dev-order_to_erp")]
    assert (order["BatchSize"], order["ScalingConfig"]["MaximumConcurrency"]) == (3, 4)  # config overrides
    crm = mappings[function_id(resources, "synchub-dev-customer_to_crm")]
    assert (crm["BatchSize"], crm["ScalingConfig"]["MaximumConcurrency"]) == (100, 2)  # catalogue defaults
    assert crm["MaximumBatchingWindowInSeconds"] == 10  # the CRM flows gather full batches in a burst


# --- state tables ----------------------------------------------------------------------------------


def test_tables_are_on_demand_encrypted_with_pitr_and_the_shared_key_schema(resources: dict) -> None:
    tables = {
        body["Properties"]["TableName"]: body for body in of_type(resources, "AWS::DynamoDB::Table").values()
    }
    assert set(tables) == {"synchub-dev-state", "synchub-dev-idempotency"}
    for body in tables.values():
        props = body["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert body["DeletionPolicy"] == "Delete"  # dev
    idempotency = tables["synchub-dev-idempotency"]["Properties"]
    assert idempotency["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert idempotency["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    state = tables["synchub-dev-state"]["Properties"]
    assert state["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}  # leases, reports
    assert state["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    (gsi,) = state["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "gsi1"
    assert gsi["KeySchema"] == [
        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
    ]


def test_prod_tables_outlive_the_stack() -> None:
    stack = Stack(App(), "State")
    StateTables(stack, "State", stage="prod")
    for body in of_type(Template.from_stack(stack).to_json()["Resources"], "AWS::DynamoDB::Table").values():
        assert body["DeletionPolicy"] == "Retain"
