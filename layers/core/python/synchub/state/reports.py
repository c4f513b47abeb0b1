"""Reconciliation reports in the state table, where an operator (or `synchub report`) reads them.

  pk=RECON#<run>  sk=STORE#<store>                  checked, drifted, fixed, failed, chunks, ...
  pk=RECON#<run>  sk=DRIFT#<store>#<sku>#<location>  before, after, status
  pk=RECON        sk=RUN#<run>                       started_at (the list of runs, newest last)
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from synchub.ports import DriftItem

RETENTION_DAYS = 90


class DynamoReconcileReports:
    def __init__(self, table: Any) -> None:
        self.table = table

    def start_run(self, run_id: str, *, store: str, checked: int, drifted: int, chunks: int,
                  not_in_store: int, dry_run: bool) -> None:
        now = datetime.now(UTC)
        expires = int(now.timestamp()) + RETENTION_DAYS * 86400
        self.table.put_item(Item={"pk": "RECON", "sk": f"RUN#{run_id}", "started_at": now.isoformat(),
                                  "dry_run": dry_run, "expiration": expires})
        self.table.put_item(Item={
            "pk": f"RECON#{run_id}", "sk": f"STORE#{store}", "store": store, "checked": checked,
            "drifted": drifted, "chunks": chunks, "chunks_done": 0, "fixed": 0, "failed": 0,
            "not_in_store": not_in_store, "dry_run": dry_run, "started_at": now.isoformat(), "expiration": expires,
        })

    def record_drift(self, run_id: str, items: Sequence[DriftItem]) -> None:
        with self.table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for item in items:
                batch.put_item(Item=self._drift_item(run_id, item))

    def record_chunk(self, run_id: str, store: str, fixed: Sequence[DriftItem], failed: Sequence[DriftItem]) -> None:
        self.record_drift(run_id, [*fixed, *failed])
        self.table.update_item(
            Key={"pk": f"RECON#{run_id}", "sk": f"STORE#{store}"},
            UpdateExpression="ADD #fixed :fixed, #failed :failed, #done :one SET #finished = :now",
            ExpressionAttributeNames={"#fixed": "fixed", "#failed": "failed", "#done": "chunks_done",
                                      "#finished": "finished_at"},  # "fixed" is a DynamoDB reserved word
            ExpressionAttributeValues={":fixed": len(fixed), ":failed": len(failed), ":one": 1,
                                       ":now": datetime.now(UTC).isoformat()},
        )

    def summary(self, run_id: str) -> dict[str, Any]:
        items = self._query(f"RECON#{run_id}")
        stores = [_plain(item) for item in items if item["sk"].startswith("STORE#")]
        drift = [_plain(item) for item in items if item["sk"].startswith("DRIFT#")]
        totals = {name: sum(store.get(name, 0) for store in stores)
                  for name in ("checked", "drifted", "fixed", "failed", "chunks", "chunks_done", "not_in_store")}
        return {"run_id": run_id, **totals, "stores": stores, "drift": drift}

    def latest_run(self) -> str | None:
        response = self.table.query(KeyConditionExpression=Key("pk").eq("RECON") & Key("sk").begins_with("RUN#"),
                                    ScanIndexForward=False, Limit=1)
        items = response.get("Items", [])
        return items[0]["sk"][4:] if items else None

    def _query(self, pk: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(pk)}
        while True:
            response = self.table.query(**kwargs)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    @staticmethod
    def _drift_item(run_id: str, item: DriftItem) -> dict[str, Any]:
        return {"pk": f"RECON#{run_id}", "sk": f"DRIFT#{item.store}#{item.sku}#{item.location_id}",
                "store": item.store, "sku": item.sku, "location_id": item.location_id, "before": item.before,
                "after": item.after, "status": item.status,
                "expiration": int(datetime.now(UTC).timestamp()) + RETENTION_DAYS * 86400}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB numbers come back as Decimal; reports are counts."""
    return {key: int(value) if hasattr(value, "as_integer_ratio") and not isinstance(value, bool) else value
            for key, value in item.items() if key not in ("pk", "sk", "expiration")}
