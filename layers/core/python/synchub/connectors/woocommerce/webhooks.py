"""WooCommerce webhooks: the unsigned creation ping, the HMAC check, and the canonical EventEnvelope.

WooCommerce sends no event id and never retries, so the dedupe key is derived from the change itself
(store, topic, resource id, date_modified_gmt): a replay or a catch-up poll of the same change
produces the same id.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from synchub.connectors.signed_webhooks import hmac_sha256_base64, json_object, lower_headers, signature_matches
from synchub.models import EventEnvelope, topics
from synchub.ports import WebhookDecision

logger = Logger(service="synchub")

SOURCE = "woocommerce"

# vendor topic -> (canonical topic, entity). order.updated may become order.cancelled (see _canonical_topic).
TOPICS: dict[str, tuple[str, str]] = {
    "order.created": (topics.ORDER_CREATED.name, "order"),
    "order.updated": (topics.ORDER_UPDATED.name, "order"),
    "order.deleted": (topics.ORDER_DELETED.name, "order"),
    "customer.created": (topics.CUSTOMER_CREATED.name, "customer"),
    "customer.updated": (topics.CUSTOMER_UPDATED.name, "customer"),
    "product.updated": (topics.PRODUCT_UPDATED.name, "product"),
}

H_TOPIC = "x-wc-webhook-topic"
H_SIGNATURE = "x-wc-webhook-signature"
H_DELIVERY_ID = "x-wc-webhook-delivery-id"

_PING_BODY = re.compile(rb"^webhook_id=\d+$")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def normalise_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    return lower_headers(headers)


def woocommerce_signature(raw_body: bytes, secret: str) -> str:
    """base64(HMAC-SHA256(secret, body as sent)): the value of X-WC-Webhook-Signature."""
    return hmac_sha256_base64(raw_body, secret)


def parse_gmt(value: Any) -> datetime | None:
    """WooCommerce `*_gmt` fields carry no offset ("2017-03-22T19:28:08"); they are UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # parses, but lies outside datetime's range once in UTC (0001-01-01T00:00+01:00)
        return None


def derived_event_id(store_id: str, vendor_topic: str, resource_id: str, modified_gmt: str) -> str:
    """The dedupe key WooCommerce does not send: same store, topic, resource and version, same id."""
    basis = f"{store_id}\n{vendor_topic}\n{resource_id}\n{modified_gmt}"
    return "wc:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:40]


class WooCommerceWebhooks:
    """WebhookDecoder for WooCommerce. `clock` is the received time, injectable for tests."""

    secret_field = "webhook_secret"

    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self._clock = clock

    def vendor_topic(self, headers: dict[str, str]) -> str | None:
        return normalise_headers(headers).get(H_TOPIC) or None

    def is_unsigned_ping(self, headers: dict[str, str], raw_body: bytes) -> bool:
        """The ping sent when a webhook is created: form body `webhook_id=<id>`, no signature."""
        if normalise_headers(headers).get(H_SIGNATURE, "").strip():
            return False
        return bool(_PING_BODY.match(raw_body.strip()))

    def verify(self, headers: dict[str, str], raw_body: bytes, secret: str) -> bool:
        return signature_matches(normalise_headers(headers).get(H_SIGNATURE, ""), raw_body, secret)

    def decode(self, store_id: str, headers: dict[str, str], raw_body: bytes) -> WebhookDecision:
        normalised = normalise_headers(headers)
        if self.is_unsigned_ping(normalised, raw_body):
            return WebhookDecision(kind="ping")
        vendor_topic = normalised.get(H_TOPIC, "").strip()
        if not vendor_topic:
            return self._unusable("missing_header:x-wc-webhook-topic", None)
        mapped = TOPICS.get(vendor_topic)
        if mapped is None:
            return WebhookDecision(kind="ignored", topic=vendor_topic)
        payload, reason = json_object(raw_body)
        if payload is None:
            return self._unusable(reason or "invalid_json", vendor_topic)
        resource_id = payload.get("id")
        if resource_id is None or resource_id == "":
            return self._unusable("missing_field:id", vendor_topic)
        if isinstance(resource_id, (bool, float)) or not str(resource_id).strip().isdigit():
            return self._unusable("invalid_field:id", vendor_topic)
        entity_id = str(resource_id).strip()
        topic, entity = mapped

        modified_raw = payload.get("date_modified_gmt")
        deleted = vendor_topic.endswith(".deleted")
        if modified_raw in (None, "") and not deleted:
            return self._unusable("missing_field:date_modified_gmt", vendor_topic)
        occurred_at = parse_gmt(modified_raw) if modified_raw not in (None, "") else None
        if modified_raw not in (None, "") and occurred_at is None:
            return self._unusable("invalid_field:date_modified_gmt", vendor_topic)
        received_at = self._clock()
        envelope = EventEnvelope(
            event_id=derived_event_id(store_id, vendor_topic, entity_id, str(modified_raw or "")),
            source=SOURCE,
            store=store_id,
            topic=_canonical_topic(topic, payload),
            entity=entity,
            entity_id=entity_id,
            # A deleted resource arrives as {"id": ...} only: the time we heard of it is all there is.
            occurred_at=occurred_at or received_at,
            received_at=received_at,
            delivery_id=normalised.get(H_DELIVERY_ID, "").strip() or None,
            payload=payload,
        )
        return WebhookDecision(kind="event", envelope=envelope, topic=vendor_topic)

    @staticmethod
    def _unusable(reason: str, vendor_topic: str | None) -> WebhookDecision:
        logger.warning("unusable woocommerce webhook", extra={"reason": reason, "vendor_topic": vendor_topic})
        return WebhookDecision(kind="unusable", reason=reason, topic=vendor_topic)


def _canonical_topic(topic: str, payload: dict[str, Any]) -> str:
    """order.updated with status cancelled is a cancellation.

    A processing/completed order with date_paid stays order.updated: without the previous state we
    cannot tell that this update is the payment, and the flows read the status from the order anyway.
    """
    if topic == topics.ORDER_UPDATED.name and payload.get("status") == "cancelled":
        return topics.ORDER_CANCELLED.name
    return topic
