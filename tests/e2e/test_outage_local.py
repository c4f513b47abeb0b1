"""Issue 7: a CRM outage of hours delays deals but parks none; past the retry budget it parks with a reason.

Local mode runs with its retry delays and budget scaled by configuration (`retry.time_scale`), so
two simulated hours pass in seconds, with the real handlers, queues, Tryton and HubSpot sandbox.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from click.testing import CliRunner

from infra.cli import main
from infra.local.runner import DEFAULT_CONFIG, LocalMode
from tests.e2e.conftest import Store, eventually, sample
from tests.e2e.test_orders_local import canonical, deals

pytestmark = pytest.mark.e2e

TIME_SCALE = 0.002  # 1 simulated hour = 7.2 real seconds
BUDGET_HOURS = 3  # shorter than the 12 h default only so the over-budget case also runs in seconds
STAGE = "outage"


def real_seconds(hours: float) -> float:
    return hours * 3600 * TIME_SCALE


@pytest.fixture(scope="module")
def scaled_local(tryton_server, tmp_path_factory) -> Iterator[LocalMode]:
    data_dir = tmp_path_factory.mktemp("synchub-scaled")
    # Its own stage and secret names: moto's servers in one process share their state, and the
    # session's local mode (stage "local") may be running beside this one.
    text = DEFAULT_CONFIG.read_text().replace("synchub/local/", f"synchub/{STAGE}/")
    config = {**json.loads(text), "stage": STAGE,
              "retry": {"time_scale": TIME_SCALE, "budget_hours": BUDGET_HOURS}}
    (data_dir / "config.json").write_text(json.dumps(config))
    mode = LocalMode(data_dir=data_dir, base_port=0, start_ticks=False, tryton=tryton_server,
                     config_path=data_dir / "config.json")
    mode.start()
    try:
        yield mode
    finally:
        mode.stop()


def parked(local: LocalMode, flow: str) -> list[dict]:
    messages = local.sqs.receive_message(QueueUrl=local.resources.dlq_urls[flow], MaxNumberOfMessages=10,
                                         MessageAttributeNames=["All"], VisibilityTimeout=0).get("Messages", [])
    return [{"order_id": json.loads(m["Body"])["detail"]["entity_id"],
             **{name: value["StringValue"] for name, value in m.get("MessageAttributes", {}).items()}}
            for m in messages]


def test_a_two_hour_crm_outage_delays_every_deal_and_parks_only_the_permanent_failure(scaled_local, new_order_id):
    store = Store(scaled_local, "main")
    orders = [sample("shopify/orders_create", id=new_order_id()) for _ in range(3)]
    unknown_sku, unknown_headers = sample("shopify/orders_create_unknown_sku", id=new_order_id())

    scaled_local.hubspot.outage(status=503)
    down_since = time.monotonic()
    try:
        for payload, headers in [*orders, (unknown_sku, unknown_headers)]:
            assert store.send(payload, headers) == [200]
        # The permanent failure waits for nothing: parked with its reason while the CRM is still down.
        [erp_parked] = eventually(lambda: parked(scaled_local, "order_to_erp"), timeout=real_seconds(2))
        assert (erp_parked["order_id"], erp_parked["reason"]) == (str(unknown_sku["id"]), "unknown_sku")
        print(f"unknown SKU parked after {time.monotonic() - down_since:.1f} s real")
        time.sleep(max(0.0, real_seconds(2) - (time.monotonic() - down_since)))
        assert [deal for payload, _ in orders for deal in deals(scaled_local, f"main:{payload['id']}")] == []
        assert parked(scaled_local, "order_to_crm") == []  # two simulated hours, nothing parked
    finally:
        scaled_local.hubspot.restore()

    for payload, _ in [*orders, (unknown_sku, unknown_headers)]:  # the unknown SKU matters to the ERP only
        [deal] = eventually(lambda p=payload: deals(scaled_local, f"main:{p['id']}"), timeout=60)
        assert Decimal(deal["properties"]["amount"]) == canonical(payload).total.amount
    assert scaled_local.wait_idle(60)
    dlqs = {flow: parked(scaled_local, flow) for flow in scaled_local.resources.dlq_urls}
    assert [message["reason"] for message in dlqs.pop("order_to_erp")] == ["unknown_sku"]
    assert dlqs == {flow: [] for flow in dlqs}
    assert scaled_local.status()["ingest_dlq"] == 0


def test_an_outage_past_the_budget_parks_as_retries_exhausted_and_a_redrive_brings_the_deal(
        scaled_local, new_order_id):
    store = Store(scaled_local, "main")
    payload, headers = sample("shopify/orders_create", id=new_order_id())

    scaled_local.hubspot.outage(status=503)
    try:
        sent = time.monotonic()
        store.send(payload, headers)
        [message] = eventually(lambda: parked(scaled_local, "order_to_crm"), timeout=real_seconds(BUDGET_HOURS) + 30)
        waited = time.monotonic() - sent
    finally:
        scaled_local.hubspot.restore()

    simulated_hours = waited / TIME_SCALE / 3600
    print(f"parked after {waited:.1f} s real, {simulated_hours:.2f} h simulated")
    assert BUDGET_HOURS <= simulated_hours < BUDGET_HOURS + 1.5
    assert (message["order_id"], message["reason"], message["flow"]) == (
        str(payload["id"]), "retries_exhausted", "order_to_crm")
    detail = json.loads(message["detail"])
    assert (detail["error"], detail["error_reason"]) == ("TransientError", "vendor_unavailable")
    assert deals(scaled_local, f"main:{payload['id']}") == []

    # A stage other than "local" goes through boto3's own endpoint, which this local mode points at its moto.
    result = CliRunner().invoke(main, ["redrive", "order_to_crm", "--stage", STAGE, "--reason", "retries_exhausted"])
    assert result.exit_code == 0, result.output

    [deal] = eventually(lambda: deals(scaled_local, f"main:{payload['id']}"), timeout=60)
    assert Decimal(deal["properties"]["amount"]) == canonical(payload).total.amount
    assert scaled_local.wait_idle(60)
    assert parked(scaled_local, "order_to_crm") == []
