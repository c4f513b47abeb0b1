"""Run-time settings of one function, read once at cold start. The only module that reads os.environ.

The CDK app and local mode set exactly these variables (see ENV); the deployment configuration itself
comes from SSM (`SYNCHUB_CONFIG_PARAMETER`) or, in tests and local mode, inline (`SYNCHUB_CONFIG`).
"""
from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from synchub.runtime.config import DeploymentConfig


class ENV:
    STAGE = "SYNCHUB_STAGE"
    CONFIG = "SYNCHUB_CONFIG"  # inline JSON of DeploymentConfig
    CONFIG_PARAMETER = "SYNCHUB_CONFIG_PARAMETER"  # SSM parameter holding that JSON
    STATE_TABLE = "SYNCHUB_STATE_TABLE"
    IDEMPOTENCY_TABLE = "SYNCHUB_IDEMPOTENCY_TABLE"
    BUS_NAME = "SYNCHUB_BUS_NAME"
    DLQ_URL = "SYNCHUB_DLQ_URL"  # this function's own DLQ, where permanent failures are parked
    FLOW = "SYNCHUB_FLOW"  # the catalogue name of the flow or schedule this function runs
    PAYLOAD_BUCKET = "SYNCHUB_PAYLOAD_BUCKET"  # claim checks: payloads too large for a bus entry or DLQ message


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: str
    state_table: str
    idempotency_table: str
    bus_name: str
    dlq_url: str | None = None
    flow: str | None = None
    config_json: str | None = None
    config_parameter: str | None = None
    payload_bucket: str | None = None


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    return Settings(
        stage=env.get(ENV.STAGE, "local"),
        state_table=env.get(ENV.STATE_TABLE, "synchub-state"),
        idempotency_table=env.get(ENV.IDEMPOTENCY_TABLE, "synchub-idempotency"),
        bus_name=env.get(ENV.BUS_NAME, "synchub"),
        dlq_url=env.get(ENV.DLQ_URL) or None,
        flow=env.get(ENV.FLOW) or None,
        config_json=env.get(ENV.CONFIG) or None,
        config_parameter=env.get(ENV.CONFIG_PARAMETER) or None,
        payload_bucket=env.get(ENV.PAYLOAD_BUCKET) or None,
    )


@lru_cache(maxsize=1)
def deployment_config() -> DeploymentConfig:
    current = settings()
    if current.config_json:
        return DeploymentConfig.from_json(current.config_json)
    if current.config_parameter:
        from aws_lambda_powertools.utilities import parameters

        return DeploymentConfig.from_json(parameters.get_parameter(current.config_parameter, max_age=300))
    raise RuntimeError(f"set {ENV.CONFIG} or {ENV.CONFIG_PARAMETER}")


def reset() -> None:
    """Forget cached settings (tests and local mode change the environment between runs)."""
    settings.cache_clear()
    deployment_config.cache_clear()
