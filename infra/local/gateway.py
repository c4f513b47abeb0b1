"""The laptop's API Gateway: turns HTTP requests into REST API proxy events for the ingest handler.

Also answers the local control routes: POST /_local/trigger/<schedule> runs a schedule now, and
GET /_local/status shows queue and DLQ depths.
"""
from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

Invoke = Callable[[dict[str, Any]], dict[str, Any]]

ROUTES = Map([
    Rule("/webhooks/<store>/<platform>", endpoint="webhook", methods=["POST"]),
    Rule("/_local/trigger/<schedule>", endpoint="trigger", methods=["POST"]),
    Rule("/_local/status", endpoint="status", methods=["GET"]),
])


def proxy_event(request: Request, store: str, platform: str, body: bytes) -> dict[str, Any]:
    """A REST API Lambda-proxy event, as API Gateway sends it with binary media types enabled."""
    headers = {name: value for name, value in request.headers.items()}
    return {
        "resource": "/webhooks/{store}/{platform}", "path": request.path, "httpMethod": "POST",
        "headers": headers, "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": dict(request.args) or None, "multiValueQueryStringParameters": None,
        "pathParameters": {"store": store, "platform": platform}, "stageVariables": None,
        "requestContext": {"resourcePath": "/webhooks/{store}/{platform}", "httpMethod": "POST", "stage": "local",
                           "requestId": str(uuid.uuid4()), "requestTimeEpoch": int(time.time() * 1000),
                           "identity": {"sourceIp": request.remote_addr or "127.0.0.1"},
                           "path": request.path, "accountId": "000000000000", "apiId": "local"},
        "body": base64.b64encode(body).decode("ascii"), "isBase64Encoded": True,
    }


class Gateway:
    def __init__(self, *, ingest: Invoke, trigger: Callable[[str, dict], dict], status: Callable[[], dict],
                 max_body_bytes: int = 10 * 1024 * 1024) -> None:
        self.ingest = ingest
        self.trigger = trigger
        self.status = status
        self.max_body_bytes = max_body_bytes  # API Gateway's own 10 MB payload limit

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        try:
            endpoint, arguments = ROUTES.bind_to_environ(environ).match()
            response = getattr(self, f"_{endpoint}")(request, **arguments)
        except HTTPException as error:
            response = error.get_response()
        return response(environ, start_response)

    def _webhook(self, request: Request, store: str, platform: str) -> Response:
        body = request.get_data(cache=False)
        if len(body) > self.max_body_bytes:
            return _json(413, {"message": "Request Too Long"})
        result = self.ingest(proxy_event(request, store, platform, body))
        headers = result.get("headers") or {}
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
        return Response(payload, status=result["statusCode"], headers=headers)

    def _trigger(self, request: Request, schedule: str) -> Response:
        options = request.get_json(silent=True) or {}
        try:
            return _json(200, self.trigger(schedule, options))
        except LookupError:
            raise NotFound(f"no schedule {schedule}") from None

    def _status(self, request: Request) -> Response:
        return _json(200, self.status())


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body, default=str), status=status, content_type="application/json")
