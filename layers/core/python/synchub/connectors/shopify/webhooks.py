"""Shopify webhooks: HMAC check on the raw body, then the delivery as a canonical EventEnvelope.

Two ways in: HTTPS (signed, `decode`) and the EventBridge partner source (authenticated by AWS,
`decode_eventbridge`). Both end in the same envelope, so flows never know which one carried it.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from synchub.connectors.signed_webhooks import hmac_sha256_base64, json_object, lower_headers, signature_matches
from synchub.models import EventEnvelope, topics
from synchub.ports import WebhookDecision

logger = Logger(service="synchub")

SOURCE = "shopify"
EVENTBRIDGE_DETAIL_TYPE = "shopifyWebhook"


@dataclass(frozen=True)
class TopicRule:
    """How one Shopify topic becomes a canonical event: its topic, entity, and the entity id path."""

    topic: str
    entity: str
    id_path: tuple[str, ...]  # one or more dotted paths; several are joined with ":"
    required: tuple[str, ...] = ()  # further dotted paths without which the payload is useless
    times: tuple[str, ...] = ("updated_at", "created_at")  # dotted paths of the version time, first present wins


TOPICS: dict[str, TopicRule] = {
    "orders/create": TopicRule(topics.ORDER_CREATED.name, "order", ("id",), ("line_items", "currency")),
    "orders/updated": TopicRule(topics.ORDER_UPDATED.name, "order", ("id",), ("line_items", "currency")),
    "orders/paid": TopicRule(topics.ORDER_PAID.name, "order", ("id",), ("line_items", "currency")),
    "orders/cancelled": TopicRule(topics.ORDER_CANCELLED.name, "order", ("id",), ("line_items", "currency")),
    # Thin: the body is the edit (`{"order_edit": {...}}`); the flows fetch the order it changed.
    "orders/edited": TopicRule(topics.ORDER_EDITED.name, "order", ("order_edit.order_id",), ("order_edit.id",),
                               times=("order_edit.committed_at", "order_edit.created_at")),
    "customers/create": TopicRule(topics.CUSTOMER_CREATED.name, "customer", ("id",)),
    "customers/update": TopicRule(topics.CUSTOMER_UPDATED.name, "customer", ("id",)),
    "fulfillments/create": TopicRule(topics.FULFILLMENT_CREATED.name, "fulfillment", ("id",), ("order_id",)),
    "fulfillments/update": TopicRule(topics.FULFILLMENT_UPDATED.name, "fulfillment", ("id",), ("order_id",)),
    "refunds/create": TopicRule(topics.REFUND_CREATED.name, "refund", ("id",), ("order_id",)),
    "products/update": TopicRule(topics.PRODUCT_UPDATED.name, "product", ("id",)),
    "inventory_levels/update": TopicRule(topics.STORE_INVENTORY_UPDATED.name, "inventory_level",
                                         ("inventory_item_id", "location_id")),
    "customers/data_request": TopicRule(topics.PRIVACY_DATA_REQUEST.name, "customer", ("customer.id",),
                                        ("shop_domain",)),
    "customers/redact": TopicRule(topics.PRIVACY_CUSTOMER_REDACT.name, "customer", ("customer.id",), ("shop_domain",)),
    "shop/redact": TopicRule(topics.PRIVACY_SHOP_REDACT.name, "shop", ("shop_id",), ("shop_domain",)),
}

# Header names, lower-cased: HTTP header names are case-insensitive and API Gateway may change case.
H_TOPIC = "x-shopify-topic"
H_HMAC = "x-shopify-hmac-sha256"
H_WEBHOOK_ID = "x-shopify-webhook-id"
H_EVENT_ID = "x-shopify-event-id"
H_TRIGGERED_AT = "x-shopify-triggered-at"
H_SHOP_DOMAIN = "x-shopify-shop-domain"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def normalise_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """Lower-case names; EventBridge metadata may also drop the `X-` prefix, so restore it."""
    return {f"x-{key}" if key.startswith("shopify-") else key: value
            for key, value in lower_headers(headers).items()}


def shopify_signature(raw_body: bytes, secret: str) -> str:
    """base64(HMAC-SHA256(secret, raw body)): the value Shopify puts in X-Shopify-Hmac-Sha256."""
    return hmac_sha256_base64(raw_body, secret)


class _Unusable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _lookup(payload: dict[str, Any], path: str) -> Any:
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _id_text(payload: dict[str, Any], path: str) -> str:
    """An id as exact text. json.loads keeps big ints exact; a float or bool here is corrupt."""
    value = _lookup(payload, path)
    if value is None or value == "":
        raise _Unusable(f"missing_field:{path}")
    if isinstance(value, (bool, float)):
        raise _Unusable(f"invalid_field:{path}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise _Unusable(f"invalid_field:{path}")


def parse_timestamp(value: Any) -> datetime | None:
    """ISO 8601 with offset (or `Z`) to an aware UTC datetime; None when absent or not a timestamp."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # parses, but lies outside datetime's range once in UTC (0001-01-01T00:00+01:00)
        return None


class ShopifyWebhooks:
    """WebhookDecoder for Shopify. `clock` is the received time, injectable for tests."""

    secret_field = "webhook_secret"

    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self._clock = clock

    def vendor_topic(self, headers: dict[str, str]) -> str | None:
        return normalise_headers(headers).get(H_TOPIC) or None

    def partner_domain(self, event: dict[str, Any]) -> str | None:
        detail = event.get("detail") if isinstance(event, dict) else None
        metadata = detail.get("metadata") if isinstance(detail, dict) else None
        domain = normalise_headers(metadata if isinstance(metadata, dict) else {}).get(H_SHOP_DOMAIN)
        return domain or None

    def is_unsigned_ping(self, headers: dict[str, str], raw_body: bytes) -> bool:
        # Shopify has no creation ping: every delivery is signed.
        return False

    def verify(self, headers: dict[str, str], raw_body: bytes, secret: str) -> bool:
        return signature_matches(normalise_headers(headers).get(H_HMAC, ""), raw_body, secret)

    def decode(self, store_id: str, headers: dict[str, str], raw_body: bytes) -> WebhookDecision:
        normalised = normalise_headers(headers)
        vendor_topic = normalised.get(H_TOPIC, "").strip()
        if not vendor_topic:
            return self._unusable("missing_header:x-shopify-topic", None)
        rule = TOPICS.get(vendor_topic)
        if rule is None:
            return WebhookDecision(kind="ignored", topic=vendor_topic)
        payload, reason = json_object(raw_body)
        if payload is None:
            return self._unusable(reason or "invalid_json", vendor_topic)
        return self._decision(store_id, vendor_topic, rule, normalised, payload, truncated=False)

    def decode_eventbridge(self, store_id: str, event: dict[str, Any]) -> WebhookDecision:
        """An EventBridge partner event (`detail-type: shopifyWebhook`): no HMAC, AWS vouches for it.

        Payloads over 1 MB arrive as `{"id": ...}` only; they still become events, flagged
        `"_truncated": true` so the flow fetches the full record before mapping it.
        """
        if not isinstance(event, dict) or event.get("detail-type") != EVENTBRIDGE_DETAIL_TYPE:
            return self._unusable("not_a_shopify_webhook_event", None)
        detail = event.get("detail")
        if not isinstance(detail, dict):
            return self._unusable("missing_field:detail", None)
        normalised = normalise_headers(detail.get("metadata") if isinstance(detail.get("metadata"), dict) else {})
        vendor_topic = normalised.get(H_TOPIC, "").strip()
        if not vendor_topic:
            return self._unusable("missing_header:x-shopify-topic", None)
        rule = TOPICS.get(vendor_topic)
        if rule is None:
            return WebhookDecision(kind="ignored", topic=vendor_topic)
        payload = detail.get("payload")
        if not isinstance(payload, dict):
            return self._unusable("not_an_object", vendor_topic)
        truncated = set(payload) <= {"id", "admin_graphql_api_id"} and "id" in payload
        # Without delivery headers, the EventBridge event id is the best delivery id and time we have.
        normalised.setdefault(H_WEBHOOK_ID, str(event.get("id") or ""))
        normalised.setdefault(H_TRIGGERED_AT, str(event.get("time") or ""))
        return self._decision(store_id, vendor_topic, rule, normalised, payload, truncated=truncated)

    def _decision(self, store_id: str, vendor_topic: str, rule: TopicRule, headers: dict[str, str],
                  payload: dict[str, Any], *, truncated: bool) -> WebhookDecision:
        try:
            entity_id = ":".join(_id_text(payload, path) for path in rule.id_path)
            if not truncated:
                for path in rule.required:
                    if _lookup(payload, path) in (None, ""):
                        raise _Unusable(f"missing_field:{path}")
            occurred_at = self._occurred_at(payload, headers, rule.times)
        except _Unusable as unusable:
            return self._unusable(unusable.reason, vendor_topic)
        event_id = (headers.get(H_EVENT_ID) or headers.get(H_WEBHOOK_ID) or "").strip()
        if not event_id:
            event_id = _derived_event_id(store_id, vendor_topic, entity_id, occurred_at)
        envelope = EventEnvelope(
            event_id=event_id,
            source=SOURCE,
            store=store_id,
            topic=rule.topic,
            entity=rule.entity,
            entity_id=entity_id,
            occurred_at=occurred_at,
            received_at=self._clock(),
            delivery_id=(headers.get(H_WEBHOOK_ID) or "").strip() or None,
            payload={**payload, "_truncated": True} if truncated else payload,
        )
        return WebhookDecision(kind="event", envelope=envelope, topic=vendor_topic)

    def _occurred_at(self, payload: dict[str, Any], headers: dict[str, str], fields: tuple[str, ...]) -> datetime:
        """The payload's own version time first (ordering is by updated_at), then the trigger time."""
        for field in fields:
            raw = _lookup(payload, field)
            if raw in (None, ""):
                continue
            moment = parse_timestamp(raw)
            if moment is None:
                raise _Unusable(f"invalid_field:{field}")
            return moment
        triggered = parse_timestamp(headers.get(H_TRIGGERED_AT))
        # Privacy topics carry no timestamp and may lack the header: the received time is then the truth.
        return triggered or self._clock()

    @staticmethod
    def _unusable(reason: str, vendor_topic: str | None) -> WebhookDecision:
        logger.warning("unusable shopify webhook", extra={"reason": reason, "vendor_topic": vendor_topic})
        return WebhookDecision(kind="unusable", reason=reason, topic=vendor_topic)


def _derived_event_id(store_id: str, vendor_topic: str, entity_id: str, occurred_at: datetime) -> str:
    """Stable stand-in when Shopify's id headers are absent: same change, same id."""
    basis = f"{store_id}\n{vendor_topic}\n{entity_id}\n{occurred_at.isoformat()}"
    return "shopify:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:40]
