"""A WooCommerce order moved to `completed` (by the merchant or a 3PL) as a StoreFulfillment of the whole order,
with the Shipment Tracking extension's items (`_wc_shipment_tracking_items`) as its tracking."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from synchub.connectors.woocommerce.fulfillments import meta_items
from synchub.errors import PermanentError
from synchub.models import StoreFulfillment, Tracking


class WooCommerceFulfillmentPayloads:
    def fulfillment(self, store_id: str, entity: str, payload: dict) -> StoreFulfillment | None:
        if entity != "order" or payload.get("status") != "completed":
            return None
        try:
            items = meta_items(payload)
            carrier = next((item.get("custom_tracking_provider") or item.get("tracking_provider")
                            for item in items if item.get("custom_tracking_provider") or item.get("tracking_provider")),
                           None)
            return StoreFulfillment(
                store=store_id, order_id=str(payload["id"]), fulfillment_id=f"order-{payload['id']}-completed",
                carrier=carrier or None,
                tracking=tuple(Tracking(number=str(item["tracking_number"]),
                                        url=_link(item)) for item in items if item.get("tracking_number")),
                updated_at=_stamp(payload.get("date_modified_gmt") or payload.get("date_completed_gmt")))
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentError(f"unusable WooCommerce order: {exc}", reason="invalid_payload") from exc


def _link(item: dict[str, Any]) -> str | None:
    link = item.get("custom_tracking_link") or ""
    return link.replace("%1$s", str(item.get("tracking_number") or "")) or None


def _stamp(value: Any) -> datetime:
    if not isinstance(value, str) or not value:
        return datetime.now(UTC)
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
