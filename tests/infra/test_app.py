"""infra.app: the stage config is validated before anything is built; errors say what to fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.app import ConfigError, load_config


def test_shipped_stages_are_valid_configs_with_two_stores_hubspot_and_tryton() -> None:
    for stage in ("dev", "prod"):
        config = load_config(stage)
        assert config.stage == stage
        assert [(store.id, store.vendor) for store in config.stores] == [
            ("main", "shopify"),
            ("eu", "woocommerce"),
        ]
        assert config.crm is not None and config.crm.vendor == "hubspot"
        assert (
            config.erp is not None
            and config.erp.vendor == "tryton"
            and config.erp.settings.url.startswith("https://erp.example.com")  # type: ignore[attr-defined]
        )


def test_unknown_stage_names_the_missing_file_and_the_known_stages(tmp_path: Path) -> None:
    (tmp_path / "dev.json").write_text(json.dumps({"stage": "dev", "connections": []}))
    with pytest.raises(ConfigError, match=r"no configuration for stage 'qa'.*qa\.json.*stages: dev"):
        load_config("qa", tmp_path)


def test_invalid_config_is_refused_with_the_field_at_fault(tmp_path: Path) -> None:
    (tmp_path / "dev.json").write_text(
        json.dumps({"stage": "dev", "connections": [], "flows": {"no_such_flow": {}}})
    )
    with pytest.raises(ConfigError, match=r"dev\.json is not a valid DeploymentConfig(.|\n)*no_such_flow"):
        load_config("dev", tmp_path)


def test_config_for_another_stage_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dev.json").write_text(json.dumps({"stage": "prod", "connections": []}))
    with pytest.raises(ConfigError, match="declares stage 'prod'"):
        load_config("dev", tmp_path)
