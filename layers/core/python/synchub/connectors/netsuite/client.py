"""SuiteTalk REST client: the record service (`/record/v1/...`), SuiteQL (`/query/v1/suiteql`) and their errors.

Every request is authenticated per attempt (TBA signs each one with a fresh nonce; M2M sends its bearer token)
and passes through SyncHub's share of the account's concurrency: a per-process semaphore per account, sized by
`settings.concurrency`. The account's limit is shared with every other integration, so going over it is not
our error but theirs too: 429 (REST's answer) and `SSS_REQUEST_LIMIT_EXCEEDED` / `CONCURRENCY_LIMIT_EXCEEDED`
(RESTlets' 400) are transient, retried with backoff that honours `Retry-After`.

Errors come as `{"type", "title", "status", "o:errorDetails": [{"detail", "o:errorCode", "o:errorPath"?}]}`:
401 / INVALID_LOGIN is the permanent `erp_credentials_invalid` (a cached M2M token is renewed once first),
403 the permanent `erp_permission_denied`, other 4xx a VendorRejected whose category is the error code.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Generator, Iterator
from typing import Any

import httpx

from synchub.connectors.http import DEFAULT_TIMEOUT, RetryPolicy, VendorHttp, retry_after_seconds
from synchub.connectors.netsuite.auth import (
    CREDENTIALS,
    VENDOR,
    Authenticator,
    CredentialsRefused,
    MachineToMachineAuth,
)
from synchub.errors import PermanentError, TransientError, VendorError, VendorRejected

SUITEQL_PAGE = 1000  # NetSuite's maximum page of SuiteQL results
THROTTLE_CODES = ("SSS_REQUEST_LIMIT_EXCEEDED", "CONCURRENCY_LIMIT_EXCEEDED")
CREDENTIAL_CODES = ("INVALID_LOGIN", "INVALID_LOGIN_ATTEMPT", "INVALID_LOGIN_CREDENTIALS")
_SHARES: dict[str, threading.BoundedSemaphore] = {}
_SIZES: dict[str, int] = {}
_SHARES_LOCK = threading.Lock()


class PermissionDenied(PermanentError):
    """The integration's role lacks a permission (record, SuiteQL, a field): an administrator must grant it."""

    reason = "erp_permission_denied"


def concurrency_share(account: str, size: int) -> threading.BoundedSemaphore:
    """The process's one semaphore for `account` (every connection to one account shares SyncHub's share)."""
    with _SHARES_LOCK:
        if account not in _SHARES:
            _SHARES[account], _SIZES[account] = threading.BoundedSemaphore(size), size
        return _SHARES[account]


def allowed_concurrency(limits: dict[str, Any]) -> int | None:
    """What the governanceLimits answer allows this integration: its own allocation (integrationSpecific), else
    the account's unallocated limit shared by every integration without one (accountLimit); None: not said."""
    kind = limits.get("integrationLimitType")
    value = limits.get("integrationConcurrencyLimit") if kind == "integrationSpecific" else \
        limits.get("accountUnallocatedConcurrencyLimit") if kind == "accountLimit" else None
    return int(value) if isinstance(value, (int, float, str)) and str(value).isdigit() and int(value) > 0 else None


class _Signed(httpx.Auth):
    """Holds a slot of SyncHub's concurrency share for one attempt and puts its Authorization header on it."""

    def __init__(self, auth: Authenticator, share: threading.BoundedSemaphore) -> None:
        self.auth, self.share = auth, share

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.auth.authorization(request.method, str(request.url))
        with self.share:
            yield request


def details(body: Any) -> list[dict[str, Any]]:
    """The `o:errorDetails` of a NetSuite error body ([] when the body is not one)."""
    found = body.get("o:errorDetails") if isinstance(body, dict) else None
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def error_codes(body: Any) -> list[str]:
    return [str(item.get("o:errorCode")) for item in details(body) if item.get("o:errorCode")]


def _throttled(response: httpx.Response) -> TransientError | None:
    """A RESTlet-style concurrency refusal (HTTP 400 + SSS_REQUEST_LIMIT_EXCEEDED) is a throttle, like a 429."""
    if response.status_code != 400 or b"LIMIT_EXCEEDED" not in response.content[:8192]:
        return None
    try:
        codes = error_codes(response.json())
    except ValueError:
        return None
    code = next((code for code in codes if code in THROTTLE_CODES), None)
    if code is None:
        return None
    return TransientError(f"{VENDOR}: account concurrency limit reached ({code})", reason="throttled",
                          retry_after=retry_after_seconds(response), category=code)


class NetSuiteClient:
    def __init__(self, http: VendorHttp, auth: Authenticator, *, base_url: str,
                 share: threading.BoundedSemaphore, account: str = "", read_governance: bool = False) -> None:
        self.http, self.auth, self.base_url = http, auth, base_url.rstrip("/")
        self._signed = _Signed(auth, share)
        self.account = account
        self._governance_pending = read_governance
        self.governance: dict[str, Any] | None = None

    @classmethod
    def connect(cls, settings: Any, secret: dict[str, Any], *, http_client: httpx.Client | None = None,
                policy: RetryPolicy | None = None) -> NetSuiteClient:
        from synchub.connectors.netsuite.auth import authenticator

        client = http_client or httpx.Client(timeout=DEFAULT_TIMEOUT, headers={"User-Agent": "SyncHub"})
        auth = authenticator(settings, secret, post=client.post)
        http = VendorHttp(VENDOR, client, policy=policy, classify=_throttled)
        return cls(http, auth, base_url=settings.base_url, account=settings.account_id,
                   share=concurrency_share(settings.account_id, settings.concurrency),
                   read_governance=settings.read_governance)

    def read_governance(self) -> dict[str, Any] | None:
        """`GET /system/v1/governanceLimits` once per process: when the limit NetSuite allows this integration is
        below the configured share, the share shrinks to it. Only administrators may read it: a refusal keeps
        the configured share."""
        self._governance_pending = False
        try:
            self.governance = _object(self.request("GET", "system/v1/governanceLimits"))
        except (PermissionDenied, VendorRejected):
            return None
        allowed = allowed_concurrency(self.governance)
        if allowed is not None and self.account:
            with _SHARES_LOCK:
                if allowed < _SIZES.get(self.account, allowed + 1):
                    _SHARES[self.account] = self._signed.share = threading.BoundedSemaphore(allowed)
                    _SIZES[self.account] = allowed
                else:
                    self._signed.share = _SHARES.get(self.account, self._signed.share)
        return self.governance

    # -- transport ---------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None,
                headers: dict[str, str] | None = None) -> httpx.Response:
        if self._governance_pending:
            self.read_governance()
        url = f"{self.base_url}/{path.lstrip('/')}"
        sent = {"Accept": "application/json", **(headers or {})}
        content = None
        if body is not None:
            content = json.dumps(body)
            sent["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                return self.http.request(method, url, params=params, content=content, headers=sent,
                                         auth=self._signed)
            except VendorError as exc:
                error = _classified(exc, f"{method} {path}")
                if (isinstance(error, CredentialsRefused) and attempt == 1
                        and isinstance(self.auth, MachineToMachineAuth)):
                    self.auth.invalidate()  # a token revoked or expired early: one fresh token, then give up
                    continue
                raise error from None
        raise AssertionError("unreachable")

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """A record, or None when NetSuite has none at `path` (404)."""
        try:
            return _object(self.request("GET", path, params=params))
        except VendorRejected as exc:
            if exc.status == 404:
                return None
            raise

    def write(self, method: str, path: str, body: Any, params: dict[str, Any] | None = None) -> str | None:
        """POST, PUT or PATCH a record; the internal id from the `Location` header of the 204 (None if absent)."""
        response = self.request(method, path, params=params, body=body)
        location = response.headers.get("Location") or ""
        tail = location.rstrip("/").rsplit("/", 1)[-1]
        return tail if tail.isdigit() else None

    # -- SuiteQL ------------------------------------------------------------------------------------
    def suiteql(self, query: str, *, limit: int = SUITEQL_PAGE, offset: int = 0) -> dict[str, Any]:
        """One page of a SuiteQL query (which must ORDER BY a unique key, or pages skip rows)."""
        response = self.request("POST", "query/v1/suiteql", params={"limit": min(limit, SUITEQL_PAGE),
                                                                    "offset": offset},
                                body={"q": query}, headers={"Prefer": "transient"})
        return _object(response)

    def suiteql_rows(self, query: str, *, page_size: int = SUITEQL_PAGE) -> Iterator[dict[str, Any]]:
        """Every row, page after page, following `hasMore`."""
        offset = 0
        while True:
            page = self.suiteql(query, limit=page_size, offset=offset)
            items = page.get("items") or []
            yield from (_row(item) for item in items)
            if not page.get("hasMore") or not items:
                return
            offset += len(items)


def _row(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key != "links"}


def _object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise VendorError(f"{VENDOR}: {response.request.method} {response.request.url.path}: not JSON",
                          vendor=VENDOR, status=response.status_code, body=response.text[:300]) from None
    if not isinstance(body, dict):
        raise VendorError(f"{VENDOR}: not a JSON object", vendor=VENDOR, status=response.status_code)
    return body


def _classified(exc: VendorError, label: str) -> Exception:
    body = exc.body
    codes = error_codes(body)
    first = details(body)[0] if details(body) else {}
    detail = str(first.get("detail") or (body.get("title") if isinstance(body, dict) else "") or "")[:300]
    where = f" at {first['o:errorPath']}" if first.get("o:errorPath") else ""
    code = codes[0] if codes else (body.get("title") if isinstance(body, dict) else None) or f"HTTP {exc.status}"
    text = f"{VENDOR}: {label}: {code}: {detail}{where}"
    if exc.status == 401 or any(c in CREDENTIAL_CODES for c in codes):
        return CredentialsRefused(f"{VENDOR}: {label}: the credentials were refused ({code}): check the token or "
                                  "certificate, its role and the integration record", reason=CREDENTIALS,
                                  status=exc.status)
    if exc.status == 403:
        return PermissionDenied(text, status=exc.status, code=code)
    if exc.status is not None and 400 <= exc.status < 500:
        return VendorRejected(text, vendor=VENDOR, status=exc.status, category=str(code), body=body)
    return VendorError(text, vendor=VENDOR, status=exc.status, category=str(code), body=body)
