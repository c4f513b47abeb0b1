"""Shopify fulfilment webhooks (`fulfillments/create`, `fulfillments/update`) as StoreFulfillments.

The body is the Fulfillment resource: `order_id`, `status` (pending, open, success, cancelled, error,
failure), `tracking_company`, `tracking_numbers`/`tracking_urls` (one per parcel) and the fulfilled
`line_items` with their SKU and quantity. An order update is not a fulfilment here: Shopify reports those
through the fulfilment topics.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from synchub.errors import PermanentError
from synchub.models import ShippedLine, StoreFulfillment, Tracking


class ShopifyFulfillmentPayloads:
    def fulfillment(self, store_id: str, entity: str, payload: dict) -> StoreFulfillment | None:
        if entity != "fulfillment":
            return None
        try:
            return StoreFulfillment(
                store=store_id, order_id=str(payload["order_id"]), fulfillment_id=str(payload["id"]),
                status=str(payload.get("status") or "success"), carrier=payload.get("tracking_company") or None,
                tracking=_tracking(payload), lines=_lines(payload.get("line_items") or []),
                updated_at=_stamp(payload.get("updated_at") or payload.get("created_at")))
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentError(f"unusable Shopify fulfilment: {exc}", reason="invalid_payload") from exc


def _tracking(payload: dict[str, Any]) -> tuple[Tracking, ...]:
    numbers = list(payload.get("tracking_numbers") or ([payload["tracking_number"]]
                                                         if payload.get("tracking_number") else []))
    urls = list(payload.get("tracking_urls") or ([payload["tracking_url"]] if payload.get("tracking_url") else []))
    return tuple(Tracking(number=str(number), url=urls[index] if index < len(urls) else None)
                 for index, number in enumerate(numbers) if number)


def _lines(items: list[dict[str, Any]]) -> tuple[ShippedLine, ...]:
    lines = [ShippedLine(sku=item["sku"], quantity=int(item["quantity"])) for item in items
             if item.get("sku") and int(item.get("quantity") or 0) > 0]
    if any(not item.get("sku") for item in items):
        raise ValueError("a fulfilled line has no SKU: the ERP cannot tell which product left")
    return tuple(lines)


def _stamp(value: Any) -> datetime:
    if not isinstance(value, str):
        return datetime.now(UTC)
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
