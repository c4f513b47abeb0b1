"""Low-level HubSpot CRM API client: bearer auth, rate-limit pacing and typed errors over VendorHttp.

It speaks HubSpot's paths and JSON shapes and nothing of SyncHub's canonical model (see crm.py).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from synchub.connectors.http import DEFAULT_TIMEOUT, RetryPolicy, VendorHttp
from synchub.errors import TransientError, VendorError, VendorRejected

VENDOR = "hubspot"
BATCH_LIMIT = 100
SEARCH_PAGE_LIMIT = 200
# Per-input batch error categories another attempt can fix; everything else needs a person.
TRANSIENT_CATEGORIES = frozenset({"RATE_LIMITS", "RATE_LIMIT", "INTERNAL_ERROR", "TIMEOUT", "SERVICE_UNAVAILABLE",
                                  "LOCKED"})


class HubSpotApiError(VendorRejected):
    """HubSpot refused a request (4xx other than 429).

    The message holds status, category and correlationId only: HubSpot's own messages quote
    e-mail addresses and names back, so they never reach an exception message or a log line.
    """

    def __init__(self, status: int, category: str | None, correlation_id: str | None,
                 codes: tuple[str, ...] = ()) -> None:
        super().__init__(f"{VENDOR}: HTTP {status} {category or 'error'} (correlationId {correlation_id})",
                         vendor=VENDOR, status=status, category=category)
        self.correlation_id = correlation_id
        self.codes = codes  # machine-readable codes of the nested errors, e.g. INVALID_EMAIL


@dataclass(frozen=True)
class BatchResult:
    """A batch write's answer: 200 when every input succeeded, 207 when some failed."""

    status: int
    results: list[dict[str, Any]]
    errors: list[dict[str, Any]]


@dataclass(frozen=True)
class SearchPage:
    results: list[dict[str, Any]]
    total: int
    after: str | None  # pass back to get the next page; None on the last one


def hubspot_http_client(api_url: str, access_token: str, *, client: httpx.Client | None = None,
                        transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The httpx.Client HubSpot expects: base URL and private-app bearer token (given `client` is configured)."""
    if client is None:
        client = httpx.Client(transport=transport, timeout=DEFAULT_TIMEOUT)
    client.base_url = httpx.URL(api_url.rstrip("/") + "/")
    client.headers["Authorization"] = f"Bearer {access_token}"
    client.headers["Accept"] = "application/json"
    return client


def _header_number(response: httpx.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None


def _policy_name(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("policyName") if isinstance(body, dict) else None


def rate_limit_pause(response: httpx.Response, *, reserve_fraction: float = 0.1) -> float | None:
    """Seconds to wait after `response` so the next request fits HubSpot's rolling window.

    Above a reserve (10% of X-HubSpot-RateLimit-Max) nothing; inside it, one request's share of the
    window per request short of the reserve; at zero, or on a ten-secondly 429, a whole interval,
    the only wait that surely clears a rolling window. A DAILY 429 cannot clear within one run,
    so it ends the retries at once with a TransientError.
    """
    window_ms = _header_number(response, "X-HubSpot-RateLimit-Interval-Milliseconds") or 10_000
    window = window_ms / 1000
    if response.status_code == 429:
        policy = _policy_name(response)
        if policy == "DAILY":
            raise TransientError(f"{VENDOR}: daily API limit reached", reason="daily_limit", status=429,
                                 policy=policy)
        if response.headers.get("retry-after"):
            return None  # HubSpot said how long; VendorHttp honours Retry-After as it is
        return 1.0 if policy == "SECONDLY" else window
    maximum = _header_number(response, "X-HubSpot-RateLimit-Max")
    remaining = _header_number(response, "X-HubSpot-RateLimit-Remaining")
    if not maximum or remaining is None:
        return None
    if remaining <= 0:
        return window
    reserve = max(1, math.ceil(maximum * reserve_fraction))
    if remaining > reserve:
        return None
    return window / maximum * (reserve - remaining + 1)


class HubSpotClient:
    """HubSpot CRM v3/v4 endpoints SyncHub uses. Every request goes through the one retry policy."""

    def __init__(self, http: VendorHttp) -> None:
        self.http = http

    @classmethod
    def over(cls, client: httpx.Client, *, policy: RetryPolicy | None = None) -> HubSpotClient:
        """A client over an httpx.Client already carrying base URL and bearer (see hubspot_http_client)."""
        return cls(VendorHttp(VENDOR, client, policy=policy, pace=rate_limit_pause))

    def request(self, method: str, path: str, *, json: Any = None,
                params: dict[str, Any] | None = None) -> httpx.Response:
        try:
            return self.http.request(method, path.lstrip("/"), json=json, params=params)
        except VendorError as exc:
            raise self._typed(exc) from None  # `from None`: the original quotes HubSpot's message

    @staticmethod
    def _typed(exc: VendorError) -> HubSpotApiError:
        body = exc.body if isinstance(exc.body, dict) else {}
        codes = tuple(str(e.get("code")) for e in body.get("errors") or [] if isinstance(e, dict) and e.get("code"))
        return HubSpotApiError(exc.status or 0, body.get("category"), body.get("correlationId"), codes)

    # ----- objects ------------------------------------------------------------------------------
    def batch_upsert(self, object_type: str, inputs: Sequence[dict[str, Any]]) -> BatchResult:
        """POST /crm/v3/objects/{type}/batch/upsert; inputs carry id, idProperty and properties."""
        if len(inputs) > BATCH_LIMIT:
            raise ValueError(f"HubSpot batches hold at most {BATCH_LIMIT} inputs, got {len(inputs)}")
        response = self.request("POST", f"/crm/v3/objects/{object_type}/batch/upsert", json={"inputs": list(inputs)})
        body = response.json()
        return BatchResult(response.status_code, body.get("results") or [], body.get("errors") or [])

    def search(self, object_type: str, filter_groups: Sequence[dict[str, Any]], properties: Sequence[str] = (),
               limit: int = 100, after: str | None = None, sorts: Sequence[dict[str, str]] = ()) -> SearchPage:
        """POST /crm/v3/objects/{type}/search (its own lower rate limit; at most 10,000 results a query)."""
        body: dict[str, Any] = {"filterGroups": list(filter_groups), "limit": min(limit, SEARCH_PAGE_LIMIT)}
        if properties:
            body["properties"] = list(properties)
        if sorts:
            body["sorts"] = list(sorts)
        if after:
            body["after"] = after
        answer = self.request("POST", f"/crm/v3/objects/{object_type}/search", json=body).json()
        following = ((answer.get("paging") or {}).get("next") or {}).get("after")
        return SearchPage(answer.get("results") or [], int(answer.get("total") or 0), following)

    # ----- properties ---------------------------------------------------------------------------
    def get_property(self, object_type: str, name: str) -> dict[str, Any] | None:
        try:
            return self.request("GET", f"/crm/v3/properties/{object_type}/{quote(name, safe='')}").json()
        except HubSpotApiError as exc:
            if exc.status == 404:
                return None
            raise

    def create_property(self, object_type: str, definition: dict[str, Any]) -> bool:
        """Create a property; False when it already existed (409), which is just as good."""
        try:
            self.request("POST", f"/crm/v3/properties/{object_type}", json=definition)
        except HubSpotApiError as exc:
            if exc.status == 409:
                return False
            raise
        return True

    # ----- associations v4 ----------------------------------------------------------------------
    def associate_default(self, from_type: str, from_id: str, to_type: str, to_id: str) -> list[dict[str, Any]]:
        """PUT the default (unlabelled) association; HubSpot creates both directions. Safe to repeat."""
        path = (f"/crm/v4/objects/{from_type}/{quote(from_id, safe='')}/associations/default/"
                f"{to_type}/{quote(to_id, safe='')}")
        return self.request("PUT", path).json().get("results") or []

    def batch_associate_default(self, from_type: str, to_type: str,
                                pairs: Sequence[tuple[str, str]]) -> BatchResult:
        """POST /crm/v4/associations/{from}/{to}/batch/associate/default: the default association for each
        (from id, to id) pair, both directions; 207 when some pairs failed. Safe to repeat."""
        if len(pairs) > BATCH_LIMIT:
            raise ValueError(f"SyncHub sends at most {BATCH_LIMIT} associations a call, got {len(pairs)}")
        inputs = [{"from": {"id": from_id}, "to": {"id": to_id}} for from_id, to_id in pairs]
        response = self.request("POST", f"/crm/v4/associations/{from_type}/{to_type}/batch/associate/default",
                                json={"inputs": inputs})
        body = response.json()
        return BatchResult(response.status_code, body.get("results") or [], body.get("errors") or [])

    def association_labels(self, from_type: str, to_type: str) -> list[dict[str, Any]]:
        """GET the association types (typeId, category, label) defined from one object type to another."""
        return self.request("GET", f"/crm/v4/associations/{from_type}/{to_type}/labels").json().get("results") or []

    def associated_ids(self, from_type: str, from_id: str, to_type: str) -> list[str]:
        answer = self.request("GET", f"/crm/v4/objects/{from_type}/{quote(from_id, safe='')}/associations/{to_type}")
        return [str(item["toObjectId"]) for item in answer.json().get("results") or []]
