"""infra.topology: one description of queues, rules, tables and functions for CDK and local mode."""

from __future__ import annotations

from synchub.catalog import FLOWS, SCHEDULES
from synchub.runtime.config import DeploymentConfig
from synchub.runtime.settings import ENV

from infra import topology


def test_every_enabled_flow_gets_a_queue_and_a_dlq_named_for_stage_and_flow(
    test_config: DeploymentConfig,
) -> None:
    names = topology.queue_names(test_config)
    for flow in topology.flow_queues(test_config):
        assert f"synchub-dev-{flow.flow}" in names and f"synchub-dev-{flow.flow}-dlq" in names
    assert "synchub-dev-ingest-dlq" in names
    assert {f"synchub-dev-{schedule.name}-dlq" for schedule in SCHEDULES} <= set(names)
    assert "synchub-dev-customer_to_erp" not in names  # switched off in the test config
    assert len(names) == len(set(names))


def test_rule_patterns_match_source_synchub_and_the_flows_topics(test_config: DeploymentConfig) -> None:
    patterns = topology.rule_patterns(test_config)
    assert set(patterns) == {flow.name for flow in FLOWS} - {"customer_to_erp"}
    assert patterns["order_to_erp"] == {
        "source": ["synchub"],
        "detail-type": ["order.created", "order.updated", "order.paid", "order.cancelled", "order.edited"],
    }


def test_config_overrides_win_over_catalogue_defaults(test_config: DeploymentConfig) -> None:
    flows = {flow.flow: flow for flow in topology.flow_queues(test_config)}
    assert (flows["order_to_erp"].max_receive_count, flows["order_to_erp"].batch_size) == (8, 3)
    assert (flows["customer_to_crm"].batch_size, flows["customer_to_crm"].max_concurrency) == (100, 2)
    jobs = {job.schedule: job for job in topology.scheduled_jobs(test_config)}
    assert jobs["poll_erp_stock"].expression == "rate(5 minutes)"
    assert jobs["reconcile_inventory"].expression == "cron(0 3 * * ? *)"


def test_visibility_timeout_is_at_least_six_function_timeouts(test_config: DeploymentConfig) -> None:
    for flow in topology.flow_queues(test_config):
        assert flow.visibility_timeout_seconds >= 6 * flow.timeout_seconds
        assert flow.age_alarm_seconds > flow.visibility_timeout_seconds


def test_flows_and_schedules_without_their_connection_are_not_deployed(test_config: DeploymentConfig) -> None:
    no_crm = test_config.model_copy(update={"connections": tuple(c for c in test_config.connections if c.role != "crm")})
    assert {flow.flow for flow in topology.flow_queues(no_crm)} == {
        "order_to_erp",
        "payment_to_erp",
        "refund_to_erp",
        "inventory_push",
        "store_stock_watch",
        "reconcile_inventory_chunk",
        "shipment_to_store",
        "fulfilment_to_erp",
    }
    no_erp = test_config.model_copy(update={"connections": tuple(c for c in test_config.connections if c.role != "erp")})
    assert {flow.flow for flow in topology.flow_queues(no_erp)} == {"customer_to_crm", "order_to_crm"}
    assert topology.scheduled_jobs(no_erp) == []


def test_table_specs_follow_powertools_idempotency_and_the_state_key_schema() -> None:
    specs = {spec.role: spec for spec in topology.table_specs()}
    assert (specs["idempotency"].partition_key, specs["idempotency"].ttl_attribute) == ("id", "expiration")
    assert (specs["state"].partition_key, specs["state"].sort_key) == ("pk", "sk")
    assert specs["state"].global_indexes == (("gsi1", "gsi1pk", "gsi1sk"),)
    assert topology.table_name("prod", "state") == "synchub-prod-state"


def test_secret_names_per_role_with_store_meaning_every_store(test_config: DeploymentConfig) -> None:
    stores = [store.secret_name for store in test_config.stores]
    assert topology.secret_names(test_config, ("store",)) == stores
    assert topology.secret_names(test_config, ("erp", "store")) == [*stores, test_config.erp.secret_name]
    assert topology.secret_names(test_config, ("crm",)) == [test_config.crm.secret_name]


def test_function_environment_uses_the_settings_variable_names() -> None:
    env = topology.function_environment(
        stage="local",
        flow="order_to_erp",
        state_table="t1",
        idempotency_table="t2",
        bus_name="synchub-local",
        dlq_url="http://q",
        config_json="{}",
    )
    assert env[ENV.FLOW] == "order_to_erp" and env[ENV.DLQ_URL] == "http://q" and env[ENV.CONFIG] == "{}"
    assert {ENV.STAGE, ENV.STATE_TABLE, ENV.IDEMPOTENCY_TABLE, ENV.BUS_NAME} <= set(env)
    assert ENV.CONFIG_PARAMETER not in env
    assert env["POWERTOOLS_SERVICE_NAME"] == "synchub"


def test_only_disposable_stages_lose_their_data_with_the_stack() -> None:
    assert not topology.retains_data("dev")
    assert topology.retains_data("prod") and topology.retains_data("staging")


def test_every_resource_name_fits_aws_limits_for_the_shipped_stages() -> None:
    from infra.app import load_config

    for stage in ("dev", "prod"):
        config = load_config(stage)
        assert all(len(name) <= 80 for name in topology.queue_names(config))
        assert all(len(name) <= 64 for name in topology.function_names(config))
        assert all(len(flow.rule_name) <= 64 for flow in topology.flow_queues(config))
