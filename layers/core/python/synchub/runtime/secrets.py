"""Secrets from Secrets Manager through Powertools Parameters, cached; never logged."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters

CACHE_SECONDS = 300


def get_secret(name: str) -> dict[str, Any]:
    """The JSON secret `name` as a dict (cached for five minutes per execution environment)."""
    value = parameters.get_secret(name, transform="json", max_age=CACHE_SECONDS)
    if not isinstance(value, dict):
        raise ValueError(f"secret {name} is not a JSON object")
    return value
