"""The one HTTP retry policy every connector uses.

Retries transient failures (connect/read timeouts, 5xx, 429 and vendor-specific throttling) with
exponential backoff and full jitter, honouring `Retry-After` and whatever wait the vendor's
rate-limit signals ask for. Gives up with TransientError, so the message returns to its queue and
the work is delayed, never dropped. Anything else non-2xx becomes a typed VendorError.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from synchub.errors import TransientError, VendorError, VendorRejected

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


@dataclass
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    # Injected so tests and benchmarks never really sleep.
    sleep: Callable[[float], None] = field(default=time.sleep)
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return self.rng.uniform(0, ceiling)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), if present."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class VendorHttp:
    """An httpx.Client plus the retry policy. Connectors subclass-free: pass hooks instead.

    `classify` may inspect a response and return a TransientError (e.g. Shopify's THROTTLED inside
    a 200) or None; `pace` is called after every response so a client can slow down before the
    vendor has to say no (rate-limit headers, GraphQL cost).
    """

    def __init__(self, vendor: str, client: httpx.Client, *, policy: RetryPolicy | None = None,
                 classify: Callable[[httpx.Response], TransientError | None] | None = None,
                 pace: Callable[[httpx.Response], float | None] | None = None) -> None:
        self.vendor = vendor
        self.client = client
        self.policy = policy or RetryPolicy()
        self._classify = classify
        self._pace = pace
        self.calls = 0  # every HTTP request sent, retries included (benchmarks read it)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        last: TransientError | None = None
        for attempt in range(1, self.policy.max_attempts + 1):
            try:
                self.calls += 1
                response = self.client.request(method, url, **kwargs)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                last = TransientError(f"{self.vendor}: {type(exc).__name__}", reason="network")
                self.policy.sleep(self.policy.backoff(attempt))
                continue
            wait = self._pace(response) if self._pace else None
            problem = self._transient(response)
            if problem is None:
                if wait:
                    self.policy.sleep(wait)
                if response.is_success:
                    return response
                raise self._error(response)
            last = problem
            if attempt == self.policy.max_attempts:
                break
            delay = problem.retry_after if problem.retry_after is not None else self.policy.backoff(attempt)
            self.policy.sleep(min(max(delay, wait or 0.0), self.policy.max_delay * 3))
        assert last is not None
        raise last

    def _transient(self, response: httpx.Response) -> TransientError | None:
        if response.status_code == 429 or response.status_code >= 500:
            return TransientError(f"{self.vendor}: HTTP {response.status_code}",
                                  retry_after=retry_after_seconds(response),
                                  reason="throttled" if response.status_code == 429 else "vendor_unavailable",
                                  status=response.status_code)
        return self._classify(response) if self._classify else None

    def _error(self, response: httpx.Response) -> VendorError:
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text[:500]
        message = body.get("message") if isinstance(body, dict) else None
        category = body.get("category") if isinstance(body, dict) else None
        text = f"{self.vendor}: HTTP {response.status_code}: {message or str(body)[:200]}"
        if 400 <= response.status_code < 500:
            return VendorRejected(text, vendor=self.vendor, status=response.status_code, category=category,
                                  body=body)
        return VendorError(text, vendor=self.vendor, status=response.status_code, category=category, body=body)
