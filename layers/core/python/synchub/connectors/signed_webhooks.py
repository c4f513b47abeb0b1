"""What every HMAC-signed webhook platform shares: case-insensitive headers, base64(HMAC-SHA256) of
the raw body checked in constant time before any parsing, and a body that must be a JSON object."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any


def lower_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(name).strip().lower(): "" if value is None else str(value) for name, value in (headers or {}).items()}


def hmac_sha256_base64(raw_body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_matches(provided: str, raw_body: bytes, secret: str) -> bool:
    provided = provided.strip()
    if not provided or not secret:
        return False
    return hmac.compare_digest(hmac_sha256_base64(raw_body, secret).encode("ascii"), provided.encode("utf-8"))


def json_object(raw_body: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The parsed body, or None and the machine-readable reason it cannot be used."""
    try:
        payload = json.loads(raw_body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, "invalid_json"
    if not isinstance(payload, dict):
        return None, "not_an_object"
    return payload, None
