"""What a flow did with one event: applied, or skipped with a reason (duplicate, stale, echo, filtered)."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict


class Outcome(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    action: str  # "applied" | "skipped"
    reason: str | None = None
    ids: dict[str, str] = {}

    @classmethod
    def applied(cls, **ids: str) -> Outcome:
        return cls(action="applied", ids=ids)

    @classmethod
    def skipped(cls, reason: str, **ids: str) -> Outcome:
        return cls(action="skipped", reason=reason, ids=ids)


def content_hash(value: BaseModel | dict[str, Any] | list[Any]) -> str:
    """A stable hash of what SyncHub writes somewhere (echo suppression and no-op detection)."""
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
