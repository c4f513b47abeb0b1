"""The sandbox app skeleton: WSGI entry, werkzeug routing and dispatch, JSON answers, vendor errors,
the request log and the kit's own `/_sandbox/` inspection and fault routes."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from infra.local.sandboxes.kit.faults import Fault, Faults
from infra.local.sandboxes.kit.limits import RateLimiter

CONTROL = "/_sandbox/"  # the sandbox's own surface: not part of the vendor's API


class VendorError(Exception):
    """An error the vendor answers with: `status` and `body()` in the vendor's documented shape."""

    status: int = 500

    def body(self) -> Any:
        raise NotImplementedError


def json_object(request: Request) -> dict[str, Any] | None:
    """The request's JSON body when it is an object; None when absent, not JSON or not an object."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


class RequestLog(list[tuple[str, str]]):
    """(method, path) of recent API requests, oldest first, keeping the last `maxlen`."""

    def __init__(self, maxlen: int = 100_000) -> None:
        super().__init__()
        self.maxlen = maxlen

    def record(self, request: Request) -> None:
        self.append((request.method, request.path))
        if len(self) > self.maxlen:
            del self[: len(self) - self.maxlen]


class Sandbox:
    """Base of every vendor sandbox; see the kit's module docstring for what a vendor provides."""

    ROUTES: ClassVar[list[Rule]] = []
    JSON_CONTENT_TYPE: ClassVar[str] = "application/json"
    JSON_OPTIONS: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 latency: float = 0.0) -> None:
        self.clock, self.sleep = clock, sleep
        self.latency = latency  # simulated network time per API request, 0 by default
        self._lock = threading.RLock()
        self.faults = Faults()
        self.requests = RequestLog()
        self.limiter: RateLimiter | None = None
        self._routes = Map([
            *(rule.empty() for rule in self.ROUTES),
            Rule(f"{CONTROL}state", endpoint="sandbox_state", methods=["GET"]),
            Rule(f"{CONTROL}requests", endpoint="sandbox_requests", methods=["GET"]),
            Rule(f"{CONTROL}faults", endpoint="sandbox_faults", methods=["POST", "DELETE"]),
        ])

    # -- WSGI and dispatch ------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        with self._lock:
            response = self._respond(request)
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        try:
            rule, args = self._routes.bind_to_environ(request.environ).match(return_rule=True)
        except HTTPException as exc:
            return self.no_route(exc)
        endpoint = str(rule.endpoint)
        if rule.rule.startswith(CONTROL):
            return getattr(self, f"_on_{endpoint}")(request, **args)
        self.requests.record(request)
        if self.latency:
            self.sleep(self.latency)
        try:
            refusal = self.gate(request, endpoint)
        except VendorError as error:
            return self.error_response(error)
        if refusal is not None:
            return refusal
        extra = self.limiter.headers() if self.limiter is not None else {}
        try:
            response = self.serve(request, endpoint, dict(args))
        except VendorError as error:
            response = self.error_response(error)
        response.headers.update(extra)
        return response

    def gate(self, request: Request, endpoint: str) -> Response | None:
        """Checks before the handler (faults, auth, rate limits) in the vendor's order; a Response refuses."""
        return self.fault_answer()

    def serve(self, request: Request, endpoint: str, args: dict[str, Any]) -> Response:
        handler: Callable[..., Response] = getattr(self, f"_on_{endpoint}")
        return handler(request, **args)

    # -- answers --------------------------------------------------------------------------------------
    def json(self, payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        return Response(json.dumps(payload, **self.JSON_OPTIONS), status=status, headers=dict(headers or {}),
                        content_type=self.JSON_CONTENT_TYPE)

    def error_response(self, error: VendorError) -> Response:
        return self.json(error.body(), error.status)

    def no_route(self, exc: HTTPException) -> Response:
        return self.json({"message": exc.description or exc.name}, exc.code or 404)

    def fault_response(self, fault: Fault) -> Response:
        """The vendor's own error body for an injected status; vendors override."""
        return self.json({"message": "The sandbox was told to fail this request."}, fault.status, fault.headers())

    # -- fault injection ------------------------------------------------------------------------------
    def fail_next(self, count: int = 1, status: int = 503, retry_after: float | None = None, *,
                  body: Any = None, latency: float = 0.0) -> None:
        """The next `count` API requests fail with `status` (and `body`, or the vendor's error body)."""
        with self._lock:
            self.faults.fail_next(count, Fault(status, body, latency, retry_after))

    def outage(self, status: int = 503, *, retry_after: float | None = None, body: Any = None,
               latency: float = 0.0) -> None:
        """Every API request fails with `status` until `restore()`."""
        with self._lock:
            self.faults.outage(Fault(status, body, latency, retry_after))

    def restore(self) -> None:
        """End an outage and drop the one-shot faults not yet served."""
        with self._lock:
            self.faults.clear()

    def fault_answer(self) -> Response | None:
        """The answer to this request if a fault is injected for it, else None."""
        fault = self.faults.take()
        if fault is None:
            return None
        if fault.latency:
            self.sleep(fault.latency)
        if fault.body is not None:
            return self.json(fault.body, fault.status, fault.headers())
        return self.fault_response(fault)

    # -- inspection -----------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """A summary of the sandbox's state for tests and the demo; vendors extend it."""
        return {"requests": len(self.requests)}

    def _on_sandbox_state(self, request: Request) -> Response:
        return self.json(self.state())

    def _on_sandbox_requests(self, request: Request) -> Response:
        return self.json({"requests": [{"method": method, "path": path} for method, path in self.requests]})

    def _on_sandbox_faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.faults.clear()
        else:
            order = json_object(request) or {}
            fault = Fault(int(order.get("status", 503)), order.get("body"), float(order.get("latency", 0.0)),
                          order.get("retry_after"))
            if order.get("count") is None:
                self.faults.outage(fault)
            else:
                self.faults.fail_next(int(order["count"]), fault)
        return self.json({"outage": self.faults.in_outage, "pending": self.faults.pending})
