"""Business Central API v2.0 client: Entra client-credentials tokens (msal), OData paging, ETags, `$batch`, errors.

Endpoint: `https://api.businesscentral.dynamics.com/v2.0/<tenant>/<environment>/api/v2.0/companies(<id>)/<set>`.
Tokens: `POST https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token` (client credentials, scope
`https://api.businesscentral.dynamics.com/.default`) through msal, which keeps the token in its in-memory cache
until shortly before `expires_in` (Entra tokens live 60-90 minutes; there is no refresh token).

Limits: an app registration counts as one user: 6,000 requests per 5-minute sliding window, 5 running and 95
queued requests per user; beyond that BC answers 429 (retried by VendorHttp, honouring `Retry-After` when sent).
Errors come as `{"error": {"code": "...", "message": "..."}}`: `Authentication_*` is a permanent
`erp_credentials_refused` (rotate the secret or fix the app's card on "Microsoft Entra Applications"),
`Authorization_*` a permanent `erp_permission_denied`, `Request_EntityChanged` (412, a stale `If-Match`) the
transient EntityChanged that callers answer by re-reading, `Internal_ServerError`/`Internal_TenantUnavailable`
transient, anything else a VendorRejected carrying BC's code. The secret never appears in a log or an error.
"""
from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from synchub.connectors.http import DEFAULT_TIMEOUT, RetryPolicy, VendorHttp
from synchub.errors import PermanentError, TransientError, VendorError, VendorRejected

VENDOR = "business_central"
SCOPE = "https://api.businesscentral.dynamics.com/.default"
CREDENTIALS = "erp_credentials_refused"
PERMISSION = "erp_permission_denied"
_TRANSIENT_CODES = {"Internal_ServerError", "Internal_TenantUnavailable"}
_JSON = {"Content-Type": "application/json", "Accept": "application/json"}


class CredentialsRefused(PermanentError):
    """Entra or BC refused the app's credentials: a wrong or expired client secret, or no BC card for the app."""

    reason = CREDENTIALS


class EntityChanged(TransientError):
    """412 Request_EntityChanged: the record changed after it was read (a stale ETag); re-read and retry."""

    reason = "write_conflict"


def bc_http_client(*, transport: httpx.BaseTransport | None = None,
                   timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.Client:
    return httpx.Client(transport=transport, timeout=timeout, headers={"User-Agent": "SyncHub"})


def odata_string(value: str) -> str:
    """A string literal for `$filter`: single quotes doubled, as OData's ABNF escapes them."""
    return "'" + value.replace("'", "''") + "'"


class _MsalHttp:
    """msal's HTTP client over httpx (one transport for tokens and API calls, injectable in tests).

    msal accepts https authorities only; an `http://` authority (the local sandbox) is given to msal as https
    and its requests are sent back over http here."""

    def __init__(self, client: httpx.Client, plain_http_host: str | None = None) -> None:
        self.client = client
        self.plain_http_host = plain_http_host

    def _url(self, url: str) -> str:
        parts = urlsplit(url)
        if self.plain_http_host and parts.netloc == self.plain_http_host and parts.scheme == "https":
            return urlunsplit(("http", *parts[1:]))
        return url

    def get(self, url: str, params: Any = None, headers: Any = None, **kwargs: Any) -> httpx.Response:
        return self.client.get(self._url(url), params=params, headers=headers, timeout=DEFAULT_TIMEOUT)

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None,
             **kwargs: Any) -> httpx.Response:
        return self.client.post(self._url(url), params=params, data=data, headers=headers, timeout=DEFAULT_TIMEOUT)

    def close(self) -> None:  # msal may close its client; the httpx client belongs to the connection
        return None


class EntraTokens:
    """Client-credentials tokens for Business Central from Microsoft Entra ID, cached by msal."""

    def __init__(self, *, tenant: str, client_id: str, client_secret: str, authority_url: str,
                 http_client: httpx.Client) -> None:
        import msal  # imported here: only functions that talk to Business Central pay for it

        parts = urlsplit(authority_url.rstrip("/"))
        local = parts.scheme == "http"
        authority = urlunsplit(("https", parts.netloc, f"{parts.path}/{tenant}", "", ""))
        self._app = msal.ConfidentialClientApplication(
            client_id, client_credential=client_secret, authority=authority,
            http_client=_MsalHttp(http_client, parts.netloc if local else None),
            # Entra's own authorities are validated by msal; a local sandbox is not in Microsoft's instance list.
            instance_discovery=not local, validate_authority=not local)
        self.fetched = 0  # tokens fetched from the endpoint (not served from msal's cache)

    def token(self) -> str:
        try:
            result = self._app.acquire_token_for_client(scopes=[SCOPE])
        except (httpx.TimeoutException, httpx.NetworkError) as exc:
            raise TransientError(f"{VENDOR}: token endpoint unreachable ({type(exc).__name__})",
                                 reason="network") from None
        if "access_token" in result:
            if result.get("token_source") == "identity_provider":
                self.fetched += 1
            return str(result["access_token"])
        error = str(result.get("error") or "unknown_error")
        if error in ("temporarily_unavailable", "server_error"):
            raise TransientError(f"{VENDOR}: Entra token endpoint: {error}", reason="vendor_unavailable")
        codes = ",".join(str(code) for code in result.get("error_codes") or [])
        detail = f"{error} {codes}".strip()
        raise CredentialsRefused(f"{VENDOR}: Entra refused the app's credentials ({detail}): check the client id and "
                                 "rotate the client secret")


class BusinessCentralClient:
    """Requests under one company of one environment; paths are relative to `companies(<id>)/`."""

    def __init__(self, http: VendorHttp, tokens: EntraTokens, *, api_root: str, company_id: str,
                 max_page_size: int = 1000) -> None:
        self.http = http
        self.tokens = tokens
        self.api_root = api_root.rstrip("/")  # .../v2.0/<tenant>/<environment>/api
        self.company_id = company_id
        self.max_page_size = max_page_size
        self._ids = itertools.count(1)

    @classmethod
    def connect(cls, *, api_url: str, authority_url: str, tenant: str, environment: str, company_id: str,
                client_id: str, client_secret: str, http_client: httpx.Client | None = None,
                policy: RetryPolicy | None = None, max_page_size: int = 1000) -> BusinessCentralClient:
        client = http_client or bc_http_client()
        tokens = EntraTokens(tenant=tenant, client_id=client_id, client_secret=client_secret,
                             authority_url=authority_url, http_client=client)
        root = f"{api_url.rstrip('/')}/v2.0/{tenant}/{environment}/api"
        return cls(VendorHttp(VENDOR, client, policy=policy), tokens, api_root=root, company_id=company_id,
                   max_page_size=max_page_size)

    # -- URLs ----------------------------------------------------------------------------------------
    def company_path(self, path: str) -> str:
        return f"companies({self.company_id})/{path.lstrip('/')}"

    def url(self, path: str, api: str = "v2.0") -> str:
        """Absolute URL of `path` under the company, on the standard API or a custom route (`publisher/group/v`)."""
        return f"{self.api_root}/{api}/{self.company_path(path)}"

    # -- requests ------------------------------------------------------------------------------------
    def get(self, path: str, params: dict[str, str] | None = None, *, api: str = "v2.0") -> dict[str, Any]:
        return self._send("GET", self.url(path, api), params=params)

    def root_url(self, path: str) -> str:
        """A URL of API v2.0 outside any company (webhook subscriptions live there)."""
        return f"{self.api_root}/v2.0/{path.lstrip('/')}"

    def send_root(self, method: str, path: str, body: dict[str, Any] | None = None,
                  etag: str | None = None) -> dict[str, Any]:
        return self._send(method, self.root_url(path), body=body, headers={"If-Match": etag} if etag else None)

    def get_or_none(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any] | None:
        try:
            return self.get(path, params)
        except VendorRejected as exc:
            if exc.status == 404:
                return None
            raise

    def pages(self, path: str, params: dict[str, str] | None = None, *, page_size: int | None = None,
              api: str = "v2.0") -> Iterator[list[dict[str, Any]]]:
        """Each page of an entity set, following `@odata.nextLink` (BC pages at most 20,000 rows)."""
        prefer = {"Prefer": f"odata.maxpagesize={page_size or self.max_page_size}"}
        answer = self._send("GET", self.url(path, api), params=params, headers=prefer)
        while True:
            yield list(answer.get("value") or [])
            link = answer.get("@odata.nextLink")
            if not link:
                return
            answer = self._send("GET", str(link), headers=prefer)

    def rows(self, path: str, params: dict[str, str] | None = None, *, api: str = "v2.0") -> list[dict[str, Any]]:
        return [row for page in self.pages(path, params, api=api) for row in page]

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._send("POST", self.url(path), body=body)

    def patch(self, path: str, body: dict[str, Any], etag: str) -> dict[str, Any]:
        return self._send("PATCH", self.url(path), body=body, headers={"If-Match": etag})

    def delete(self, path: str, etag: str) -> None:
        self._send("DELETE", self.url(path), headers={"If-Match": etag})

    def batch(self, operations: list[tuple[str, str, dict[str, Any] | None, str | None]]) -> list[dict[str, Any]]:
        """One transactional JSON `$batch` (`Isolation: snapshot`): (method, company path, body, If-Match) each.

        BC runs the operations in order in one transaction; if one fails, none is kept and its error is raised."""
        requests = []
        for method, path, body, etag in operations:
            headers = {"Content-Type": "application/json"}
            if etag:
                headers["If-Match"] = etag
            request: dict[str, Any] = {"method": method, "id": str(next(self._ids)), "url": self.company_path(path),
                                       "headers": headers}
            if body is not None:
                request["body"] = body
            requests.append(request)
        answer = self._send("POST", f"{self.api_root}/v2.0/$batch", body={"requests": requests},
                            headers={"Isolation": "snapshot"})
        responses = list(answer.get("responses") or [])
        for response in responses:
            status = int(response.get("status") or 500)
            if status >= 400:
                raise _classified(status, response.get("body"), "$batch")
        return responses

    def _send(self, method: str, url: str, *, params: dict[str, str] | None = None, body: Any = None,
              headers: dict[str, str] | None = None) -> dict[str, Any]:
        sent = {**_JSON, **(headers or {}), "Authorization": f"Bearer {self.tokens.token()}"}
        content = json.dumps(body) if body is not None else None
        try:
            response = self.http.request(method, url, params=params, content=content, headers=sent)
        except VendorError as exc:
            raise _classified(exc.status or 500, exc.body, f"{method} {_path(url)}") from None
        if response.status_code == 204 or not response.content:
            return {}
        try:
            answer = response.json()
        except ValueError:
            raise VendorError(f"{VENDOR}: {method} {_path(url)}: not JSON", vendor=VENDOR,
                              status=response.status_code) from None
        return answer if isinstance(answer, dict) else {"value": answer}


def error_code(body: Any) -> tuple[str, str]:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "Unknown", str(body)[:200] if body else ""
    return str(error.get("code") or "Unknown"), str(error.get("message") or "")


def _classified(status: int, body: Any, label: str) -> Exception:
    code, message = error_code(body)
    text = f"{VENDOR}: {label}: {code}: {message[:300]}"
    if status == 401 or code.startswith("Authentication_"):
        return CredentialsRefused(f"{VENDOR}: {label}: the app's credentials were refused ({code}): rotate the client"
                                  " secret or check the app's card on BC's Microsoft Entra Applications page",
                                  status=status)
    if status == 403 or code.startswith("Authorization_"):
        return PermanentError(f"{text} (grant the app's BC card the permission sets it needs)", reason=PERMISSION,
                              status=status)
    if status == 412 or code == "Request_EntityChanged":
        return EntityChanged(text, status=status)
    if status == 429 or status >= 500 or code in _TRANSIENT_CODES:
        return TransientError(text, reason="throttled" if status == 429 else "vendor_unavailable", status=status)
    return VendorRejected(text, vendor=VENDOR, status=status, category=code, body=body)


def _path(url: str) -> str:
    """The URL's path without tenant and query, for messages (ids are not personal data)."""
    path = urlsplit(url).path
    return path.split("/api/", 1)[-1] if "/api/" in path else path
