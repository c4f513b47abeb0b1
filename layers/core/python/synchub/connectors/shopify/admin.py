"""Shopify Admin GraphQL client: one POST per query, paced on the calculated-cost bucket Shopify reports.

Shopify throttles with HTTP 200 and `errors[0].extensions.code == "THROTTLED"`, never 429, so both the
pacing and the throttle classification read `extensions.cost` through VendorHttp's hooks.
"""
from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any

import httpx
from aws_lambda_powertools import Logger

from synchub.connectors.http import RetryPolicy, VendorHttp
from synchub.errors import TransientError, VendorRejected

logger = Logger(service="synchub")

VENDOR = "shopify"
MIN_API_VERSION = "2026-01"  # changeFromQuantity and @idempotent, which the inventory connector relies on
OPERATION_NAME = re.compile(r"^\s*(?:query|mutation)\s+(\w+)")
TRANSIENT_CODES = {"THROTTLED": "throttled", "INTERNAL_SERVER_ERROR": "vendor_unavailable"}


class ShopifyAdmin:
    """GraphQL over an injected httpx.Client. The access token travels per request, never as a client
    default header, so downloading a bulk result from its signed URL does not send it elsewhere."""

    def __init__(self, client: httpx.Client, *, shop_url: str, api_version: str, access_token: str,
                 policy: RetryPolicy | None = None, restore_rate: float = 100.0) -> None:
        if api_version != "unstable" and api_version < MIN_API_VERSION:
            raise ValueError(f"Shopify API version {api_version} predates {MIN_API_VERSION}, which brought "
                             f"changeFromQuantity and @idempotent; configure {MIN_API_VERSION} or later")
        self.endpoint = f"{shop_url.rstrip('/')}/admin/api/{api_version}/graphql.json"
        self.api_version = api_version
        self._headers = {"X-Shopify-Access-Token": access_token, "Content-Type": "application/json",
                         "Accept": "application/json"}
        self._fallback_restore_rate = restore_rate
        self.http = VendorHttp(VENDOR, client, policy=policy, classify=self._classify, pace=self._pace)
        self.cost_spent = 0.0  # actualQueryCost summed over answered queries
        self.cost_requested = 0.0
        self.throttled = 0  # THROTTLED answers received
        self.paced_seconds = 0.0  # waits asked for by pacing
        self.throttle_status: dict[str, float] | None = None  # the last one Shopify reported
        self.operations: Counter[str] = Counter()  # GraphQL operation name -> executions
        self._parsed: tuple[httpx.Response, Any] | None = None
        self._last_wait = 0.0
        self._answered_at = 0.0

    @property
    def calls(self) -> int:
        """HTTP requests sent, retries and downloads included."""
        return self.http.calls

    def execute(self, query: str, variables: dict[str, Any] | None = None, *, cost: float | None = None
                ) -> dict[str, Any]:
        """The `data` of a query or mutation; GraphQL errors other than throttling are VendorRejected.
        `cost`, the caller's estimate of the requested cost, lets the client wait before a dearer query
        than the last one instead of being throttled."""
        name = OPERATION_NAME.match(query)
        self.operations[name.group(1) if name else "anonymous"] += 1
        if cost is not None:
            self._wait_for(cost)
        response = self.http.request("POST", self.endpoint, headers=self._headers,
                                     json={"query": query, "variables": variables or {}})
        body = self._json(response)
        if not isinstance(body, dict):
            raise VendorRejected(f"{VENDOR}: unexpected GraphQL answer", vendor=VENDOR, status=response.status_code,
                                 body=str(body)[:500])
        errors = body.get("errors")
        if errors:
            first: dict[str, Any] = errors[0] if isinstance(errors, list) and isinstance(errors[0], dict) else {
                "message": str(errors)}
            code = (first.get("extensions") or {}).get("code")
            raise VendorRejected(f"{VENDOR}: GraphQL error: {first.get('message', '')[:200]}", vendor=VENDOR,
                                 status=response.status_code, category=code, body=errors)
        return body.get("data") or {}

    def _wait_for(self, cost: float) -> None:
        if self.throttle_status is None:
            return
        rate = float(self.throttle_status.get("restoreRate") or self._fallback_restore_rate)
        # Refilled since the last answer: the pacing wait we took, or the real time gone by if longer.
        refilled = rate * max(self._last_wait, time.monotonic() - self._answered_at)
        available = min(float(self.throttle_status.get("maximumAvailable", cost)),
                        float(self.throttle_status.get("currentlyAvailable", cost)) + refilled)
        if cost > available:
            wait = (cost - available) / rate
            self.paced_seconds += wait
            self._last_wait += wait
            self.http.policy.sleep(wait)

    def download(self, url: str) -> httpx.Response:
        """GET a bulk operation's result file (a signed URL: no Shopify credentials are sent)."""
        return self.http.request("GET", url)

    # -- VendorHttp hooks ------------------------------------------------------------------------
    def _pace(self, response: httpx.Response) -> float | None:
        """Wait long enough that the bucket can pay for another query of the same cost."""
        cost = self._cost(response)
        if cost is None:
            return None
        status = cost.get("throttleStatus") or {}
        self.throttle_status = status
        self._answered_at = time.monotonic()
        if cost.get("actualQueryCost") is not None:
            self.cost_spent += float(cost["actualQueryCost"])
            self.cost_requested += float(cost.get("requestedQueryCost") or 0)
        wait = self._deficit_wait(cost)
        self._last_wait = wait
        if wait:
            self.paced_seconds += wait
        return wait

    def _classify(self, response: httpx.Response) -> TransientError | None:
        body = self._json(response)
        errors = body.get("errors") if isinstance(body, dict) else None
        if not isinstance(errors, list) or not errors:
            return None
        code = (errors[0].get("extensions") or {}).get("code")
        if code not in TRANSIENT_CODES:
            return None
        if code == "THROTTLED":
            self.throttled += 1
        cost = self._cost(response)
        wait = self._deficit_wait(cost) if cost else None
        logger.info("shopify query not run", extra={"code": code, "retry_after": wait})
        return TransientError(f"{VENDOR}: {code}", retry_after=wait, reason=TRANSIENT_CODES[code], status=200)

    def _deficit_wait(self, cost: dict[str, Any]) -> float:
        status = cost.get("throttleStatus") or {}
        requested = float(cost.get("requestedQueryCost") or 0)
        available = float(status.get("currentlyAvailable", requested))
        rate = float(status.get("restoreRate") or self._fallback_restore_rate)
        return max(0.0, requested - available) / rate

    def _cost(self, response: httpx.Response) -> dict[str, Any] | None:
        body = self._json(response)
        extensions = body.get("extensions") if isinstance(body, dict) else None
        cost = extensions.get("cost") if isinstance(extensions, dict) else None
        return cost if isinstance(cost, dict) else None

    def _json(self, response: httpx.Response) -> Any:
        # Both hooks and execute() read the same body: parse it once per response.
        if self._parsed is not None and self._parsed[0] is response:
            return self._parsed[1]
        try:
            media_type = response.headers.get("content-type", "").split(";")[0].strip()
            body = response.json() if media_type == "application/json" else None
        except ValueError:
            body = None
        self._parsed = (response, body)
        return body
