"""Tryton JSON-RPC client: `POST /<db>/` with `{"id","method","params"}`, session login, typed errors.

Transport retries come from VendorHttp (5xx, 429, timeouts are transient there). This module knows
Tryton's value encoding (`{"__class__": "Decimal", ...}`), its session header, and its error body
`{"error": ["UserError", [message, description, ...]]}`.
"""
from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

from synchub.connectors.http import DEFAULT_TIMEOUT, RetryPolicy, VendorHttp
from synchub.errors import TransientError, VendorError, VendorRejected

VENDOR = "tryton"
# Raised by Tryton when a concurrent transaction won, or when a client logs in too often: try again later.
_TRANSIENT_ERRORS = {"ConcurrencyException", "RateLimitException", "DatabaseOperationalError"}
_UNIQUE_VIOLATION = "must be unique"  # Tryton's SQL unique-constraint message: "The code on party must be unique."


def encode_value(value: Any) -> Any:
    """Tryton's JSON extension types; everything else is plain JSON."""
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"__class__": "datetime", "year": value.year, "month": value.month, "day": value.day,
                "hour": value.hour, "minute": value.minute, "second": value.second,
                "microsecond": value.microsecond}
    if isinstance(value, dt.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, (bytes, bytearray)):
        return {"__class__": "bytes", "base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, Mapping):
        return {key: encode_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode_value(item) for item in value]
    return value


def decode_object(obj: dict[str, Any]) -> Any:
    """json object_hook: turns Tryton's `__class__` objects back into Python values."""
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "datetime":
        return dt.datetime(obj["year"], obj["month"], obj["day"], obj.get("hour", 0), obj.get("minute", 0),
                           obj.get("second", 0), obj.get("microsecond", 0))
    if kind == "date":
        return dt.date(obj["year"], obj["month"], obj["day"])
    if kind == "time":
        return dt.time(obj.get("hour", 0), obj.get("minute", 0), obj.get("second", 0), obj.get("microsecond", 0))
    if kind == "timedelta":
        return dt.timedelta(seconds=obj["seconds"])
    if kind == "bytes":
        return base64.b64decode(obj["base64"])
    return obj


def tryton_http_client(url: str, *, transport: httpx.BaseTransport | None = None,
                       timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.Client:
    """An httpx.Client for one Tryton server (the database goes in the path of each call)."""
    return httpx.Client(base_url=url.rstrip("/"), transport=transport, timeout=timeout,
                        headers={"Content-Type": "application/json", "User-Agent": "SyncHub"})


class TrytonClient:
    """Calls Tryton's RPC methods as a logged-in user. `model()` appends the context, which goes last."""

    def __init__(self, http: VendorHttp, database: str, username: str, password: str, *,
                 language: str = "en") -> None:
        self.http = http
        self.database = database
        self.username = username
        self._password = password
        self.language = language
        self._ids = itertools.count(1)
        self._authorization: str | None = None
        self.context: dict[str, Any] = {}

    @classmethod
    def connect(cls, url: str, database: str, username: str, password: str, *,
                http_client: httpx.Client | None = None, policy: RetryPolicy | None = None) -> TrytonClient:
        client = http_client or tryton_http_client(url)
        if not str(client.base_url):
            client.base_url = httpx.URL(url.rstrip("/"))
        return cls(VendorHttp(VENDOR, client, policy=policy), database, username, password)

    @property
    def path(self) -> str:
        return f"/{self.database}/"

    def login(self) -> None:
        """`common.db.login` gives [user_id, session]; then every call carries `Session base64(user:id:session)`."""
        user_id, session = self._post("common.db.login",
                                      [self.username, {"password": self._password}, self.language], auth=False)
        token = base64.b64encode(f"{self.username}:{user_id}:{session}".encode()).decode("ascii")
        self._authorization = f"Session {token}"
        # The user's preferences carry company and language: the context Tryton's own client sends.
        try:
            self.context = self._post("model.res.user.get_preferences", [True, {}])
        except BaseException:
            # No session without its context: calls without the company fail Tryton's company rules
            # ("User in companies") and would be parked as rejected. The next call logs in again.
            self._authorization = None
            raise

    def call(self, method: str, params: list[Any]) -> Any:
        if self._authorization is None:
            self.login()
        return self._post(method, params)

    def model(self, model: str, method: str, *args: Any, context: Mapping[str, Any] | None = None) -> Any:
        """`model.<name>.<method>` with the session context (plus `context`) as the last parameter."""
        if self._authorization is None:
            self.login()  # the context comes from the user's preferences
        return self.call(f"model.{model}.{method}", [*args, {**self.context, **(context or {})}])

    def _post(self, method: str, params: list[Any], *, auth: bool = True) -> Any:
        body = json.dumps({"id": next(self._ids), "method": method, "params": encode_value(params)})
        for attempt in (1, 2):
            headers = {"Authorization": self._authorization} if auth and self._authorization else {}
            try:
                response = self.http.request("POST", self.path, content=body, headers=headers)
            except VendorRejected as exc:
                # An expired or killed session answers 401/403: log in again, once, and replay the call.
                if auth and attempt == 1 and exc.status in (401, 403):
                    self.login()
                    continue
                if not auth and exc.status in (401, 403):
                    raise VendorRejected(f"{VENDOR}: login refused for the configured user",
                                         vendor=VENDOR, status=exc.status, category="LoginError") from None
                raise
            return self._result(response, method)
        raise AssertionError("unreachable")

    def _result(self, response: httpx.Response, method: str) -> Any:
        try:
            payload = json.loads(response.content, object_hook=decode_object)
        except ValueError:
            raise VendorError(f"{VENDOR}: {method}: not JSON", vendor=VENDOR, status=response.status_code,
                              body=response.text[:500]) from None
        if "error" not in payload or payload["error"] is None:
            return payload.get("result")
        kind, detail = _split_error(payload["error"])
        message = _message(detail) or kind
        text = f"{VENDOR}: {method}: {kind}: {message}"
        if kind in _TRANSIENT_ERRORS:
            raise TransientError(text, reason="vendor_busy", category=kind)
        if kind == "UserError" and _UNIQUE_VIOLATION in str(message):
            # Another transaction wrote the same key (or drew the same sequence number on SQLite) at the
            # same moment: a write conflict. A retry searches again and finds or creates cleanly.
            raise TransientError(text, reason="write_conflict", category=kind)
        if kind in ("UserError", "UserWarning", "AccessError", "LoginException"):
            raise VendorRejected(text, vendor=VENDOR, status=response.status_code, category=kind, body=detail)
        if "database is locked" in kind:  # SQLite's writer lock was held past trytond's own retries
            raise TransientError(f"{VENDOR}: {method}: database busy", reason="vendor_busy")
        # A server-side crash: `[str(exception), traceback]`; not the input's fault, not retried in a loop.
        raise VendorError(f"{VENDOR}: {method}: server error: {kind[:200]}", vendor=VENDOR,
                          status=response.status_code, category="ServerError", body=payload["error"])


def _split_error(error: Any) -> tuple[str, Any]:
    if isinstance(error, list) and error and isinstance(error[0], str):
        return error[0], error[1] if len(error) > 1 else None
    return "Error", error


def _message(detail: Any) -> str:
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list) and detail:
        parts = [part for part in detail[:2] if isinstance(part, str) and part]
        return " ".join(parts)
    return ""
