"""The CDK entry (`cdk synth -c stage=dev`): validate infra/config/<stage>.json, build layers, compose.

The deps layer is built with pip for aarch64 (infra.build_layers) unless `-c skip_layer_build=true` or
SYNCHUB_SKIP_LAYER_BUILD=1, which synthesise against a tiny placeholder layer (tests, quick checks).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks
from pydantic import ValidationError
from synchub.runtime.config import DeploymentConfig

from infra.build_layers import build_deps_layer, placeholder_deps_dir
from infra.stack import SyncHubStack

CONFIG_DIR = Path(__file__).resolve().parent / "config"


class ConfigError(Exception):
    """The stage's configuration is missing or invalid; the message says what to fix."""


def load_config(stage: str, config_dir: Path = CONFIG_DIR) -> DeploymentConfig:
    path = config_dir / f"{stage}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in config_dir.glob("*.json"))) or "none"
        raise ConfigError(f"no configuration for stage {stage!r}: {path} does not exist (stages: {known})")
    try:
        config = DeploymentConfig.from_file(path)
    except (ValidationError, ValueError) as error:
        raise ConfigError(f"{path} is not a valid DeploymentConfig:\n{error}") from error
    if config.stage != stage:
        raise ConfigError(f"{path} declares stage {config.stage!r} but was selected as {stage!r}")
    return config


def _truthy(value: object) -> bool:
    return str(value).lower() in {"1", "true", "yes"}


def build(app: App) -> SyncHubStack:
    stage = str(app.node.try_get_context("stage") or "dev")
    config = load_config(stage)
    skip = _truthy(app.node.try_get_context("skip_layer_build")) or _truthy(
        os.environ.get("SYNCHUB_SKIP_LAYER_BUILD", "")
    )
    deps_layer_dir = placeholder_deps_dir() if skip else build_deps_layer()
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    stack = SyncHubStack(
        app,
        f"SyncHub-{stage}",
        config=config,
        deps_layer_dir=deps_layer_dir,
        description=f"SyncHub ({stage}): store, CRM and ERP kept in step",
        env=Environment(account=account, region=region) if account and region else None,
    )
    add_nag_checks(app)
    return stack


def add_nag_checks(app: App) -> None:
    """cdk-nag 3 is a policy-validation plugin: synth fails on any finding not acknowledged in code."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))


def main() -> None:
    app = App()
    try:
        build(app)
    except ConfigError as error:
        sys.exit(f"synchub: {error}")
    app.synth()


if __name__ == "__main__":
    main()
