"""Fault injection for sandboxes: the next N requests, or every request until cleared, fail as told."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Fault:
    """One injected failure. `body` None means the vendor's own error body for `status`."""

    status: int = 503
    body: Any = None
    latency: float = 0.0  # seconds the sandbox waits before answering, as a slow host would
    retry_after: float | None = None

    def headers(self) -> dict[str, str]:
        return {"Retry-After": f"{self.retry_after:g}"} if self.retry_after is not None else {}


class Faults:
    """A queue of one-shot faults and a standing outage; an outage wins over the queue."""

    def __init__(self) -> None:
        self._queue: deque[Fault] = deque()
        self._outage: Fault | None = None

    def fail_next(self, count: int, fault: Fault) -> None:
        self._queue.extend([fault] * count)

    def outage(self, fault: Fault) -> None:
        self._outage = fault

    def clear(self) -> None:
        self._outage = None
        self._queue.clear()

    @property
    def pending(self) -> int:
        """One-shot faults not yet served."""
        return len(self._queue)

    @property
    def in_outage(self) -> bool:
        return self._outage is not None

    def take(self) -> Fault | None:
        """The fault for this request, if any (a one-shot fault is used up)."""
        if self._outage is not None:
            return self._outage
        return self._queue.popleft() if self._queue else None
