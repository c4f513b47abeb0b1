"""The deployment configuration as an SSM parameter, read by every function at cold start."""

from __future__ import annotations

from aws_cdk import aws_ssm as ssm
from constructs import Construct
from synchub.runtime.config import DeploymentConfig

from infra import topology

STANDARD_TIER_LIMIT = 4096  # bytes; SSM standard parameters hold at most 4 KB


class DeploymentConfigParameter(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        value = config.model_dump_json(exclude_defaults=True)
        large = len(value.encode("utf-8")) > STANDARD_TIER_LIMIT
        self.parameter = ssm.StringParameter(
            self,
            "Parameter",
            parameter_name=topology.config_parameter_name(config.stage),
            description="SyncHub DeploymentConfig (JSON); secret values are never here, only their names",
            string_value=value,
            tier=ssm.ParameterTier.ADVANCED if large else ssm.ParameterTier.STANDARD,
        )
