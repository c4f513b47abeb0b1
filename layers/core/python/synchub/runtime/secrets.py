"""Secrets from Secrets Manager through Powertools Parameters, cached; never logged."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider

CACHE_SECONDS = 300


class Secrets:
    """JSON secrets by name, cached for five minutes per execution environment.

    Owns its provider (rather than Powertools' process-wide default) so the client it uses is the
    one this wiring was built with: AWS in Lambda, moto in local mode and tests.
    """

    def __init__(self, client: Any) -> None:
        self.provider = SecretsProvider(boto3_client=client)

    def get(self, name: str) -> dict[str, Any]:
        value = self.provider.get(name, transform="json", max_age=CACHE_SECONDS)
        if not isinstance(value, dict):
            raise ValueError(f"secret {name} is not a JSON object")
        return value
