"""Load sample events from events/ exactly as a vendor would send them, and sign them like the vendor.

Samples carry no signature: a test signs the raw bytes with its own secret, so one file serves the
valid, forged and tampered cases.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"


def event_path(name: str) -> Path:
    """`shopify/orders_create`, with or without its extension (.json, or .txt for form bodies)."""
    exact = EVENTS_DIR / name
    if exact.is_file():
        return exact
    for suffix in (".json", ".txt"):
        candidate = EVENTS_DIR / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no sample event {name!r} under {EVENTS_DIR}")


def load_event(name: str) -> tuple[bytes, dict[str, str]]:
    """The body as raw bytes and the delivery headers from the `<name>.headers.json` sidecar ({} if none)."""
    body_path = event_path(name)
    sidecar = body_path.with_name(body_path.name.rsplit(".", 1)[0] + ".headers.json")
    headers = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.is_file() else {}
    return body_path.read_bytes(), headers


def load_json(name: str) -> dict:
    """A sample parsed as JSON (e.g. an EventBridge event, which arrives already parsed)."""
    return json.loads(event_path(name).read_bytes())


def _hmac_sha256_base64(body: bytes, secret: str) -> str:
    # Written out here rather than imported, so the tests pin the vendors' algorithm independently.
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def sign_shopify(body: bytes, secret: str) -> str:
    """The X-Shopify-Hmac-Sha256 value for `body`: base64(HMAC-SHA256(secret, raw body))."""
    return _hmac_sha256_base64(body, secret)


def sign_woocommerce(body: bytes, secret: str) -> str:
    """The X-WC-Webhook-Signature value for `body`: base64(HMAC-SHA256(secret, body as sent))."""
    return _hmac_sha256_base64(body, secret)
