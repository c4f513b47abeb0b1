"""The mapping store over the state table: one entity's ids across systems, versions, echo hashes.

Item layout (single table, pk/sk, one GSI for reverse lookups):
  pk=MAP#<entity>#<key>  sk=MAP              ids, v_<scope> (ISO UTC), w_<system> (hash)
  pk=MAP#<entity>#<key>  sk=ID#<system>      gsi1pk=ID#<entity>#<system>#<system id>, gsi1sk=<key>
  pk=WM#<source>         sk=WM               value
  pk=LEASE#<entity>#<key> sk=LEASE           owner, until (one event of an entity applied at a time)
"""
from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from synchub.ports import Mapping

GSI = "gsi1"


def version_text(value: datetime) -> str:
    """Fixed-width UTC text, so DynamoDB's string comparison orders versions correctly."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_version(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class DynamoMappingStore:
    """MappingStore on DynamoDB. Takes a boto3 Table resource so tests can hand it a moto one."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, entity: str, key: str) -> Mapping | None:
        response = self.table.query(KeyConditionExpression=Key("pk").eq(f"MAP#{entity}#{key}"), ConsistentRead=True)
        items = response.get("Items", [])
        if not items:
            return None
        ids: dict[str, str] = {}
        versions: dict[str, datetime] = {}
        written: dict[str, str] = {}
        for item in items:
            if item["sk"].startswith("ID#"):
                ids[item["sk"][3:]] = item["system_id"]
            elif item["sk"] == "MAP":
                for name, value in item.items():
                    if name.startswith("v_"):
                        versions[name[2:]] = _parse_version(value)
                    elif name.startswith("w_"):
                        written[name[2:]] = value
        return Mapping(entity=entity, key=key, ids=ids, versions=versions, written=written)

    def find(self, entity: str, system: str, system_id: str) -> Mapping | None:
        response = self.table.query(IndexName=GSI,
                                    KeyConditionExpression=Key("gsi1pk").eq(f"ID#{entity}#{system}#{system_id}"))
        items = response.get("Items", [])
        return self.get(entity, items[0]["gsi1sk"]) if items else None

    def link(self, entity: str, key: str, system: str, system_id: str) -> None:
        self.table.put_item(Item={
            "pk": f"MAP#{entity}#{key}", "sk": f"ID#{system}", "system_id": str(system_id),
            "gsi1pk": f"ID#{entity}#{system}#{system_id}", "gsi1sk": key,
        })

    def claim_version(self, entity: str, key: str, version: datetime, *, scope: str = "default") -> bool:
        attribute = f"v_{scope}"
        try:
            self.table.update_item(
                Key={"pk": f"MAP#{entity}#{key}", "sk": "MAP"},
                UpdateExpression="SET #v = :v",
                ConditionExpression="attribute_not_exists(#v) OR #v <= :v",
                ExpressionAttributeNames={"#v": attribute},
                ExpressionAttributeValues={":v": version_text(version)},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def remember_written(self, entity: str, key: str, system: str, content_hash: str) -> None:
        self.table.update_item(
            Key={"pk": f"MAP#{entity}#{key}", "sk": "MAP"},
            UpdateExpression="SET #w = :w",
            ExpressionAttributeNames={"#w": f"w_{system}"},
            ExpressionAttributeValues={":w": content_hash},
        )

    def acquire_lease(self, entity: str, key: str, owner: str, seconds: int) -> bool:
        now = time.time()
        try:
            self.table.put_item(
                Item={"pk": f"LEASE#{entity}#{key}", "sk": "LEASE", "owner": owner,
                      "until": Decimal(str(now + seconds)),
                      "expiration": int(now + seconds + 3600)},
                ConditionExpression="attribute_not_exists(pk) OR #until < :now OR #owner = :owner",
                ExpressionAttributeNames={"#until": "until", "#owner": "owner"},
                ExpressionAttributeValues={":now": Decimal(str(now)), ":owner": owner},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release_lease(self, entity: str, key: str, owner: str) -> None:
        try:
            self.table.delete_item(Key={"pk": f"LEASE#{entity}#{key}", "sk": "LEASE"},
                                   ConditionExpression="#owner = :owner",
                                   ExpressionAttributeNames={"#owner": "owner"},
                                   ExpressionAttributeValues={":owner": owner})
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise  # someone else's lease (ours expired): leave it

    def get_watermark(self, source: str) -> str | None:
        item = self.table.get_item(Key={"pk": f"WM#{source}", "sk": "WM"}, ConsistentRead=True).get("Item")
        return item["value"] if item else None

    def set_watermark(self, source: str, value: str) -> None:
        self.table.put_item(Item={"pk": f"WM#{source}", "sk": "WM", "value": value})
