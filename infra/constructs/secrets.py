"""Secrets Manager: one secret per store and per vendor connection, named by the config.

The stack creates them (with a generated placeholder) so one `cdk deploy` yields working grants on
exact ARNs; the merchant then writes the real credentials with `aws secretsmanager put-secret-value`.
No value is in the template: CloudFormation asks Secrets Manager to generate the placeholder.
"""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from synchub.runtime.config import DeploymentConfig

from infra import topology
from infra.constructs.nag import acknowledge


class ConnectionSecrets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if topology.retains_data(config.stage) else RemovalPolicy.DESTROY
        self.by_name: dict[str, secretsmanager.Secret] = {}
        for connection in config.connections:
            # The vendor names the key a placeholder is generated under (its webhook secret, token or
            # password): a random webhook secret fails closed, every signature rejected, until the real
            # one is set. Every other key the connector reads is written by the merchant.
            self._add(_construct_id(connection.role or "", connection.id), connection.secret_name,
                      connection.spec.placeholder_secret_field,
                      f"{connection.role} {connection.id} ({connection.vendor})", removal)

    def _add(self, construct_id: str, name: str, generated_key: str | None, what: str,
             removal: RemovalPolicy) -> None:
        if name in self.by_name:  # two connections may share one secret; one resource serves both
            return
        secret = secretsmanager.Secret(
            self,
            construct_id,
            secret_name=name,
            description=f"SyncHub credentials for {what}; set the real values after deploy",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({}),
                generate_string_key=generated_key or "placeholder",
                exclude_punctuation=True,
                password_length=48,
            ),
            removal_policy=removal,
        )
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "Vendor-issued credentials (store app secrets, CRM private app tokens, ERP passwords) "
            "are rotated in the vendor's admin, which no rotation Lambda can drive.",
        )
        self.by_name[name] = secret

    def for_needs(self, config: DeploymentConfig, needs: tuple[str, ...]) -> list[secretsmanager.ISecret]:
        """The secrets a function with these catalogue `needs` may read, and no others."""
        return [self.by_name[name] for name in dict.fromkeys(topology.secret_names(config, needs))]

    def for_names(self, names: list[str]) -> list[secretsmanager.ISecret]:
        return [self.by_name[name] for name in dict.fromkeys(names)]


def _construct_id(role: str, connection_id: str) -> str:
    """The construct ids of the first release (`Store<id>`, `Crm`, `Erp`): an existing stack keeps its secrets."""
    return f"Store{connection_id}" if role == "store" else role.capitalize()
