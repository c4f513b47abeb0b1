"""Powertools Idempotency on the idempotency table: one record per (flow, event)."""
from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

# Store deliveries can be a day late and replays come from the archive: keep keys for a week.
EXPIRES_AFTER_SECONDS = 7 * 24 * 3600


def persistence_layer(table_name: str, boto3_client: object | None = None) -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(table_name=table_name, key_attr="id", expiry_attr="expiration",
                                    boto3_client=boto3_client)


def idempotency_config() -> IdempotencyConfig:
    # The key is the whole `idempotency_key` argument: {"flow": ..., "event_id": ...}.
    return IdempotencyConfig(expires_after_seconds=EXPIRES_AFTER_SECONDS, raise_on_no_idempotency_key=True)
