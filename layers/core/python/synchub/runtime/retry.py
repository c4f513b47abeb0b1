"""When a failed record is retried, and when it has waited long enough to be parked instead.

The retry budget is in time, not in receives: a vendor outage of hours delays work but parks none
of it. SQS's maxReceiveCount stays as a backstop derived from the budget, for crash loops where no
code of ours runs to park the message with its reason.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from synchub.errors import TransientError

if TYPE_CHECKING:  # the config is read at the first invocation; importing it here would cost every cold start
    from synchub.runtime.config import DeploymentConfig, RetrySettings

MAX_RECEIVE_COUNT = 1000  # SQS's own limit on a redrive policy's maxReceiveCount
MAX_VISIBILITY_SECONDS = 43_200  # SQS's longest visibility timeout


@dataclass(frozen=True)
class RetryPolicy:
    """A flow's retry settings after the per-flow override and the time scale."""

    settings: RetrySettings
    max_receives: int  # the queue's maxReceiveCount: the receive after which SQS itself would park

    @classmethod
    def of(cls, settings: RetrySettings) -> RetryPolicy:
        return cls(settings=settings, max_receives=receive_backstop(settings))

    @property
    def budget_seconds(self) -> float:
        return self.settings.budget_hours * 3600 * self.settings.time_scale

    def delay(self, error: BaseException, receives: int) -> int:
        """Whole seconds until the record is tried again: what the vendor asked for, else backoff.
        SQS visibility is whole seconds, so a scaled delay rounds up to at least 1 s."""
        asked = getattr(error, "retry_after", None) if isinstance(error, TransientError) else None
        if asked is not None:
            seconds = min(float(asked), self.settings.max_delay_seconds)
        else:
            seconds = _backoff(self.settings, receives)
        return max(1, min(MAX_VISIBILITY_SECONDS, math.ceil(seconds * self.settings.time_scale)))

    def exhausted(self, *, waited_seconds: float, receives: int) -> bool:
        """Whether a record failing now should be parked rather than retried: its budget is spent, or
        this is the last receive before SQS would move it to the DLQ without a reason."""
        return waited_seconds >= self.budget_seconds or receives >= self.max_receives

    @property
    def stuck_after_seconds(self) -> int:
        """Oldest-message age that means the vendor has been failing for a while: the backoff has
        climbed to its cap and waited it out once. Always well inside the budget, so the alarm
        fires before anything parks."""
        ramp, receives = 0.0, 1
        while _backoff(self.settings, receives) < self.settings.max_delay_seconds:
            ramp += _backoff(self.settings, receives)
            receives += 1
        seconds = (ramp + self.settings.max_delay_seconds) * self.settings.time_scale
        return max(60, math.ceil(min(seconds, self.budget_seconds / 2)))


def _backoff(settings: RetrySettings, receives: int) -> float:
    doublings = min(max(receives, 1) - 1, 32)  # past 2^32 every delay is long at its cap
    return float(min(settings.max_delay_seconds, settings.first_delay_seconds * 2**doublings))


def receive_backstop(settings: RetrySettings) -> int:
    """maxReceiveCount for a budget: twice the receives the backoff makes within it (room for vendors
    asking for shorter waits), within SQS's limit. Counted unscaled: scaled delays round up, so a
    scaled run makes fewer receives, never more."""
    waited, receives = 0.0, 1
    budget = settings.budget_hours * 3600
    while waited < budget and 2 * receives < MAX_RECEIVE_COUNT:
        waited += _backoff(settings, receives)
        receives += 1
    return min(MAX_RECEIVE_COUNT, 2 * receives)


def retry_settings(config: DeploymentConfig, flow: str) -> RetrySettings:
    """The deployment's retry settings with the flow's own overrides (only the fields it sets)."""
    override = config.flow(flow).retry
    if override is None:
        return config.retry
    return type(config.retry).model_validate({**config.retry.model_dump(), **override.model_dump(exclude_unset=True)})


def retry_policy(config: DeploymentConfig, flow: str) -> RetryPolicy:
    """The flow's policy; an explicit maxReceiveCount (flow settings, then catalogue) wins over the backstop."""
    from synchub.catalog import FLOWS

    settings = retry_settings(config, flow)
    spec = next((spec for spec in FLOWS if spec.name == flow), None)
    explicit = config.flow(flow).max_receive_count or (spec.max_receive_count if spec else None)
    return RetryPolicy(settings=settings, max_receives=explicit) if explicit else RetryPolicy.of(settings)


def waited_seconds(attributes: Mapping[str, str], now: float) -> float:
    """Seconds since the record was first received (else sent), from its SQS system attributes."""
    stamp = attributes.get("ApproximateFirstReceiveTimestamp") or attributes.get("SentTimestamp")
    return max(0.0, now - int(stamp) / 1000) if stamp else 0.0
