"""Odoo external API client: JSON-2 (Odoo 19+) and JSON-RPC `execute_kw` (Odoo 17/18) behind one `call`.

JSON-2: `POST /json/2/<model>/<method>` with `Authorization: bearer <API key>` and `X-Odoo-Database`; the
body holds `ids`, `context` and the method's parameters by name; errors are HTTP 4xx/5xx with
`{"name", "message", "arguments", "context", "debug"}` (UserError 422, AccessError 403, MissingError 404,
a bad, expired or revoked key 401 "Invalid apikey").
JSON-RPC: `POST /jsonrpc` `{"service": "object", "method": "execute_kw", "args": [db, uid, key, model, method,
args, kwargs]}`, uid from `common.authenticate`; errors come with HTTP 200 as `{"error": {"code": 200,
"message": "Odoo Server Error", "data": {"name": "odoo.exceptions.UserError", ...}}}`.

429, 5xx and connection errors are transient (VendorHttp's backoff). Odoo API keys expire (three months at
most) and Odoo cannot tell an expired key from a wrong one, so any refusal of the key is one permanent
error, `erp_credentials_expired`: parking with that reason raises the alarm, where a retry loop would not.
The key never appears in a log line or an error.
"""
from __future__ import annotations

import itertools
import json
from typing import Any

import httpx

from synchub.connectors.http import DEFAULT_TIMEOUT, RetryPolicy, VendorHttp
from synchub.errors import PermanentError, TransientError, VendorError, VendorRejected

VENDOR = "odoo"
CREDENTIALS = "erp_credentials_expired"
ACCESS_DENIED = "odoo.exceptions.AccessDenied"
# Raised when a concurrent transaction won and Odoo's own retries ran out: try again later.
_CONCURRENCY = ("SerializationFailure", "ConcurrencyError", "LockNotAvailable", "TransactionRollbackError")
_REJECTIONS = ("UserError", "ValidationError", "AccessError", "MissingError", "RedirectWarning")
# JSON-2 takes every argument by name: the names of the positional ones SyncHub passes.
_POSITIONAL = {"create": ("vals_list",)}
_JSON = {"Content-Type": "application/json; charset=utf-8"}


class CredentialsRefused(PermanentError):
    """Odoo refused the API key: expired (three months at most), revoked, or never valid."""

    reason = CREDENTIALS


def odoo_http_client(url: str, *, transport: httpx.BaseTransport | None = None,
                     timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.Client:
    return httpx.Client(base_url=url.rstrip("/"), transport=transport, timeout=timeout,
                        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "SyncHub"})


class OdooClient:
    """`call(model, method, *args, ids=..., context=..., **params)` in either API flavour."""

    def __init__(self, http: VendorHttp, *, database: str, api_key: str, api: str = "json2",
                 login: str | None = None) -> None:
        if api == "jsonrpc" and not login:
            raise PermanentError("odoo: the jsonrpc API needs the API user's `login` in the settings",
                                 reason="invalid_settings")
        self.http = http
        self.database = database
        self.api = api
        self.login = login
        self._key = api_key
        self._uid: int | None = None
        self._ids = itertools.count(1)

    @classmethod
    def connect(cls, url: str, *, database: str, api_key: str, api: str = "json2", login: str | None = None,
                http_client: httpx.Client | None = None, policy: RetryPolicy | None = None) -> OdooClient:
        client = http_client or odoo_http_client(url)
        if not str(client.base_url):
            client.base_url = httpx.URL(url.rstrip("/"))
        http = VendorHttp(VENDOR, client, policy=policy, classify=_transient_rpc_error if api == "jsonrpc" else None)
        return cls(http, database=database, api_key=api_key, api=api, login=login)

    def call(self, model: str, method: str, *args: Any, ids: list[int] | None = None,
             context: dict[str, Any] | None = None, **params: Any) -> Any:
        """Run `model.method`; `ids` are the records (omit for @api.model methods), `params` go by name."""
        if self.api == "json2":
            return self._json2(model, method, args, ids, context, params)
        return self._execute_kw(model, method, args, ids, context, params)

    # -- JSON-2 ----------------------------------------------------------------------------------
    def _json2(self, model: str, method: str, args: tuple[Any, ...], ids: list[int] | None,
               context: dict[str, Any] | None, params: dict[str, Any]) -> Any:
        names = _POSITIONAL.get(method, ())
        if len(args) > len(names):
            raise TypeError(f"JSON-2 takes {model}.{method}'s arguments by name")
        body: dict[str, Any] = {**dict(zip(names, args, strict=False)), **params}
        if ids is not None:
            body["ids"] = ids
        if context:
            body["context"] = context
        headers = {**_JSON, "Authorization": f"bearer {self._key}", "X-Odoo-Database": self.database}
        try:
            response = self.http.request("POST", f"/json/2/{model}/{method}", content=json.dumps(body),
                                         headers=headers)
        except VendorRejected as exc:
            raise _json2_error(exc, model, method) from None
        return _json(response, model, method)

    # -- JSON-RPC --------------------------------------------------------------------------------
    def authenticate(self) -> int:
        uid = self._rpc("common", "authenticate", [self.database, self.login, self._key, {}], "authenticate")
        if not uid:  # Odoo answers `false` to a wrong login or key
            raise CredentialsRefused("odoo: the API key was refused (expired, revoked or wrong): rotate it")
        self._uid = int(uid)
        return self._uid

    def _execute_kw(self, model: str, method: str, args: tuple[Any, ...], ids: list[int] | None,
                    context: dict[str, Any] | None, params: dict[str, Any]) -> Any:
        uid = self._uid or self.authenticate()
        positional = ([ids] if ids is not None else []) + list(args)
        kwargs = {**params, **({"context": context} if context else {})}
        return self._rpc("object", "execute_kw",
                         [self.database, uid, self._key, model, method, positional, kwargs], f"{model}.{method}")

    def _rpc(self, service: str, method: str, args: list[Any], label: str) -> Any:
        body = {"jsonrpc": "2.0", "method": "call", "params": {"service": service, "method": method, "args": args},
                "id": next(self._ids)}
        response = self.http.request("POST", "/jsonrpc", content=json.dumps(body), headers=_JSON)
        payload = _json(response, label, "")
        if not isinstance(payload, dict):
            raise VendorError(f"{VENDOR}: {label}: not a JSON-RPC answer", vendor=VENDOR, status=response.status_code)
        error = payload.get("error")
        if not error:
            return payload.get("result")
        data = error.get("data") or {}
        name = str(data.get("name") or error.get("message") or "Error")
        message = str(data.get("message") or error.get("message") or "")
        raise _classified(name, message, label, status=response.status_code, body=_without_debug(data))


def _json(response: httpx.Response, model: str, method: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise VendorError(f"{VENDOR}: {model}{'.' if method else ''}{method}: not JSON", vendor=VENDOR,
                          status=response.status_code, body=response.text[:300]) from None


def _json2_error(exc: VendorRejected, model: str, method: str) -> Exception:
    body = exc.body if isinstance(exc.body, dict) else {}
    name = str(body.get("name") or f"HTTP {exc.status}")
    message = str(body.get("message") or "")
    if exc.status == 401:
        return CredentialsRefused(f"{VENDOR}: {model}.{method}: the API key was refused ({message or 'HTTP 401'}): "
                                  "it expired, was revoked or is wrong; rotate it", status=401)
    return _classified(name, message, f"{model}.{method}", status=exc.status, body=_without_debug(body))


def _classified(name: str, message: str, label: str, *, status: int | None, body: Any) -> Exception:
    short = name.rsplit(".", 1)[-1]
    text = f"{VENDOR}: {label}: {short}: {message[:300]}"
    if name == ACCESS_DENIED:
        return CredentialsRefused(f"{VENDOR}: {label}: access denied: the API key expired, was revoked or is wrong;"
                                  " rotate it", status=status)
    if short in _CONCURRENCY:
        return TransientError(text, reason="write_conflict", category=short)
    if short in _REJECTIONS:
        return VendorRejected(text, vendor=VENDOR, status=status, category=short, body=body)
    # A server-side crash (KeyError, TypeError, ...): not the input's fault, not retried in a loop.
    return VendorError(f"{VENDOR}: {label}: server error: {short}", vendor=VENDOR, status=status,
                       category="ServerError", body=body)


def _without_debug(body: dict[str, Any]) -> dict[str, Any]:
    """Odoo's error body minus the server traceback (long, and no use in a parked message)."""
    return {key: value for key, value in body.items() if key != "debug"}


def _transient_rpc_error(response: httpx.Response) -> TransientError | None:
    """JSON-RPC reports a lost concurrent update with HTTP 200: retry it with backoff like a 503."""
    if response.status_code != 200 or b"error" not in response.content[:4096]:
        return None
    try:
        name = str(response.json()["error"]["data"]["name"])
    except (ValueError, KeyError, TypeError):
        return None
    if name.rsplit(".", 1)[-1] in _CONCURRENCY:
        return TransientError(f"{VENDOR}: concurrent update ({name.rsplit('.', 1)[-1]})", reason="write_conflict")
    return None
