"""Shared set-up for the infra tests: the test deployment config and a stack synthesised from it.

The deps layer is the tiny placeholder (no wheels are built), so these tests need no Docker, no
network and no AWS credentials.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template
from synchub.runtime.config import DeploymentConfig

from infra.app import CONFIG_DIR, add_nag_checks
from infra.build_layers import placeholder_deps_dir
from infra.stack import SyncHubStack

PARTNER_SOURCE = "aws.partner/shopify.com/1234567/synchub"


def make_test_config() -> DeploymentConfig:
    """dev.json with every optional branch switched on: partner source, alarm e-mail, one flow off,
    flows tuned."""
    raw = json.loads((CONFIG_DIR / "dev.json").read_text(encoding="utf-8"))
    raw["alarm_email"] = "ops@example.com"
    raw["ingest"] = {
        "throttle_rate": 50,
        "throttle_burst": 100,
        "partner_event_sources": [PARTNER_SOURCE],
    }
    raw["flows"] = {
        "customer_to_erp": {"enabled": False},
        "order_to_erp": {"max_receive_count": 8, "batch_size": 3, "max_concurrency": 4},
        "order_to_crm": {"retry": {"budget_hours": 24}},
    }
    raw["archive_retention_days"] = 45
    raw["log_retention_days"] = 30
    return DeploymentConfig.model_validate(raw)


def _synth_stack(config: DeploymentConfig, *, outdir: Path, nag: bool = False) -> tuple[App, SyncHubStack]:
    app = App(outdir=str(outdir))
    stack = SyncHubStack(app, f"SyncHub-{config.stage}", config=config, deps_layer_dir=placeholder_deps_dir())
    if nag:
        add_nag_checks(app)
    return app, stack


@pytest.fixture(scope="session")
def test_config() -> DeploymentConfig:
    return make_test_config()


@pytest.fixture(scope="session")
def synth_stack() -> Callable[..., tuple[App, SyncHubStack]]:
    """Builds the SyncHub stack for a config (add `nag=True` for the app's cdk-nag plugin)."""
    return _synth_stack


@pytest.fixture(scope="session")
def template(test_config: DeploymentConfig, tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The stack synthesised once for the whole infra suite (synth takes seconds, not milliseconds)."""
    _, stack = _synth_stack(test_config, outdir=tmp_path_factory.mktemp("cdk.out"))
    return Template.from_stack(stack)


@pytest.fixture(scope="session")
def resources(template: Template) -> dict[str, dict[str, Any]]:
    return template.to_json()["Resources"]
