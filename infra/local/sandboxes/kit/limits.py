"""Rate limiters for sandboxes, each emitting the vendor's own headers: rolling and fixed request windows
(HubSpot's TEN_SECONDLY_ROLLING, SECONDLY search and DAILY policies) and a leaky bucket for cost-based
APIs (Shopify GraphQL's calculated query cost)."""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Sequence
from typing import NamedTuple


class RateHeaders(NamedTuple):
    """The vendor's header names for one policy; `interval` carries the window length in milliseconds."""

    limit: str
    remaining: str
    interval: str | None = None


class Policy:
    """One request-count limit: its name (the vendor's policy name), `limit` per `seconds`, the vendor's
    header names, and the endpoints it applies to (None: all)."""

    def __init__(self, name: str, limit: int, seconds: float, *, headers: RateHeaders | None = None,
                 endpoints: Collection[str] | None = None) -> None:
        self.name, self.limit, self.seconds, self.header_names = name, limit, seconds, headers
        self.endpoints = endpoints
        self.start(0.0)  # RateLimiter restarts it on its own clock

    def start(self, now: float) -> None:
        raise NotImplementedError

    def used(self, now: float) -> int:
        raise NotImplementedError

    def take(self, now: float) -> None:
        raise NotImplementedError

    def exhausted(self, now: float) -> bool:
        return self.used(now) >= self.limit

    def remaining(self, now: float) -> int:
        return max(0, self.limit - self.used(now))

    def headers(self, now: float) -> dict[str, str]:
        names = self.header_names
        if names is None:
            return {}
        headers = {names.limit: str(self.limit), names.remaining: str(self.remaining(now))}
        if names.interval:
            headers[names.interval] = str(round(self.seconds * 1000))
        return headers


class RollingWindow(Policy):
    """At most `limit` requests in any `seconds`-long window, counted back from now."""

    def start(self, now: float) -> None:
        self._moments: deque[float] = deque()

    def used(self, now: float) -> int:
        while self._moments and now - self._moments[0] >= self.seconds:
            self._moments.popleft()
        return len(self._moments)

    def take(self, now: float) -> None:
        self._moments.append(now)


class FixedWindow(Policy):
    """At most `limit` requests per period of `seconds`, counted afresh when a period ends (a daily quota;
    periods run from the limiter's creation)."""

    def start(self, now: float) -> None:
        self._started, self._count = now, 0

    def used(self, now: float) -> int:
        if now - self._started >= self.seconds:
            self.start(now)
        return self._count

    def take(self, now: float) -> None:
        self._count += 1


class RateLimiter:
    """Request-count policies checked in order; a request is admitted only when none is exhausted, and then
    counts against every policy that applies to its endpoint."""

    def __init__(self, clock: Callable[[], float], policies: Sequence[Policy]) -> None:
        self.clock, self.policies = clock, list(policies)
        now = clock()
        for policy in self.policies:
            policy.start(now)

    def policy(self, name: str) -> Policy:
        return next(p for p in self.policies if p.name == name)

    def admit(self, endpoint: str) -> Policy | None:
        """The first exhausted policy (the request is refused and not counted), or None (counted)."""
        now = self.clock()
        applying = [p for p in self.policies if p.endpoints is None or endpoint in p.endpoints]
        for policy in applying:
            if policy.exhausted(now):
                return policy
        for policy in applying:
            policy.take(now)
        return None

    def headers(self) -> dict[str, str]:
        now = self.clock()
        return {name: value for policy in self.policies for name, value in policy.headers(now).items()}


class LeakyBucket:
    """A bucket of `maximum` points, refilled continuously at `rate` points per second; callers take the
    cost they are about to spend and may give back what they did not use."""

    def __init__(self, maximum: float, rate: float, clock: Callable[[], float]) -> None:
        self.maximum, self.rate, self.clock = maximum, rate, clock
        self.available = maximum
        self._at = clock()

    def refill(self) -> None:
        moment = self.clock()
        self.available = min(self.maximum, self.available + (moment - self._at) * self.rate)
        self._at = moment

    def take(self, cost: float) -> bool:
        """Refill, then spend `cost` if the bucket holds it; False (nothing spent) when it does not."""
        self.refill()
        if cost > self.available:
            return False
        self.available -= cost
        return True

    def give_back(self, points: float) -> None:
        self.available += points
