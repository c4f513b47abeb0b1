"""The operator's commands against a running local mode: trigger a schedule, read its report."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from infra.cli import main

pytestmark = pytest.mark.e2e


@pytest.fixture
def cli(local_mode, monkeypatch):
    monkeypatch.setenv("SYNCHUB_LOCAL_INFO", str(local_mode.data_dir / "local.json"))
    return CliRunner()


def test_trigger_runs_the_stock_poll_now(cli, local_mode):
    result = cli.invoke(main, ["trigger", "poll_erp_stock"])

    assert result.exit_code == 0, result.output
    assert "watermark" in json.loads(result.output)


def test_dry_run_reconciliation_then_report_lists_the_drifted_sku(cli, local_mode):
    assert local_mode.wait_idle(60)  # earlier polls' pushes have landed
    location = local_mode.config.stores[0].settings.locations["WH"]
    local_mode.shopify.set_available("BOTTLE-750", location, 3)

    triggered = cli.invoke(main, ["trigger", "reconcile_inventory", "--dry-run", "--run-id", "cli-dry"])
    assert triggered.exit_code == 0, triggered.output
    assert json.loads(triggered.output)["drifted"] >= 1
    assert local_mode.wait_idle(60)

    report = cli.invoke(main, ["report", "cli-dry", "--drift"])
    assert report.exit_code == 0, report.output
    assert "run cli-dry: checked" in report.output
    assert "BOTTLE-750 @ " in report.output and ": 3 -> " in report.output and "[dry_run]" in report.output
    assert local_mode.shopify.available("BOTTLE-750", location) == 3  # dry run changed nothing


def test_unknown_schedule_is_a_clear_error(cli):
    result = cli.invoke(main, ["trigger", "no_such_schedule"])
    assert result.exit_code != 0
    assert "no schedule 'no_such_schedule'" in result.output
