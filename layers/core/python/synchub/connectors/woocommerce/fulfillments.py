"""WooCommerce fulfilments for ERP shipments, stored as the WooCommerce Shipment Tracking extension stores them.

WooCommerce has no fulfilment object. The Shipment Tracking extension keeps one tracking item per parcel in
the order meta `_wc_shipment_tracking_items` (tracking_provider, custom_tracking_provider,
custom_tracking_link, tracking_number, date_shipped as a Unix timestamp, tracking_id), and shows them in the
order page, the customer's account and the order e-mails. So a shipment becomes:

- its parcels appended as tracking items (custom provider = the ERP carrier, link = its tracking URL), with a
  `tracking_id` derived from our shipment key, so a repeat finds them instead of adding them again;
- a customer note (`customer_note: true`: WooCommerce e-mails it) naming carrier and tracking;
- the order moved to `completed` only once the ERP says the whole order has shipped (WooCommerce then sends
  its Completed order e-mail); a partial shipment leaves the order's status alone.
"""
from __future__ import annotations

import hashlib
from typing import Any

from aws_lambda_powertools import Logger

from synchub.connectors.woocommerce.client import WooCommerceClient
from synchub.errors import PermanentError
from synchub.models import FulfillmentStatus, Shipment
from synchub.ports import FulfillmentResult

logger = Logger(service="synchub")

TRACKING_META = "_wc_shipment_tracking_items"
DONE = ("completed",)
CLOSED = ("cancelled", "refunded", "failed", "trash")


def tracking_ids(shipment: Shipment) -> list[str]:
    """The tracking_id of each parcel of the shipment (md5, as the extension's own ids): stable per shipment."""
    count = max(1, len(shipment.tracking))
    return [hashlib.md5(f"{shipment.key}:{index}".encode(), usedforsecurity=False).hexdigest()
            for index in range(count)]


def tracking_items(shipment: Shipment) -> list[dict[str, str]]:
    stamp = str(int(shipment.shipped_at.timestamp()))
    return [{"tracking_provider": "", "custom_tracking_provider": shipment.carrier or "",
             "custom_tracking_link": parcel.url or "", "tracking_number": parcel.number, "date_shipped": stamp,
             "tracking_id": tracking_id}
            for parcel, tracking_id in zip(shipment.tracking, tracking_ids(shipment), strict=False)]


def customer_note(shipment: Shipment) -> str:
    via = f" with {shipment.carrier}" if shipment.carrier else ""
    parts = [f"Your order has shipped{via}" + (" (the rest follows)." if not shipment.complete else ".")]
    for parcel in shipment.tracking:
        parts.append(f"Tracking number {parcel.number}" + (f": {parcel.url}" if parcel.url else "") + ".")
    if shipment.number:
        parts.append(f"Shipment {shipment.number}.")
    return " ".join(parts)


def meta_items(order: dict[str, Any]) -> list[dict[str, Any]]:
    for meta in order.get("meta_data") or ():
        if meta.get("key") == TRACKING_META and isinstance(meta.get("value"), list):
            return [item for item in meta["value"] if isinstance(item, dict)]
    return []


class WooCommerceFulfillments:
    def __init__(self, client: WooCommerceClient) -> None:
        self.client = client

    def fulfil(self, shipment: Shipment) -> FulfillmentResult | None:
        order = self.client.get(f"orders/{int(shipment.order_id)}")
        if order.get("status") in CLOSED:
            raise PermanentError(f"WooCommerce order {shipment.order_id} is {order['status']}",
                                 reason="store_order_closed")
        ours = set(tracking_ids(shipment))
        items = meta_items(order)
        new_items = not any(item.get("tracking_id") in ours for item in items)
        body: dict[str, Any] = {}
        if new_items and shipment.tracking:
            body["meta_data"] = [{"key": TRACKING_META, "value": items + tracking_items(shipment)}]
        if shipment.complete and order.get("status") not in DONE:
            body["status"] = "completed"
        if body:
            order = self.client.put(f"orders/{int(shipment.order_id)}", body)
        note = customer_note(shipment)
        notes = self.client.get(f"orders/{int(shipment.order_id)}/notes", {"type": "customer"})
        noted = any(existing.get("note") == note for existing in notes or ())
        if not noted:  # also after a crash between the meta write and the note
            self.client.post(f"orders/{int(shipment.order_id)}/notes", {"note": note, "customer_note": True})
        created = new_items if shipment.tracking else not noted  # no tracking: the note is the record
        status = FulfillmentStatus.FULFILLED if order.get("status") in DONE else FulfillmentStatus.PARTIAL
        logger.info("WooCommerce shipment recorded",
                    extra={"new_tracking": created, "order_status": order.get("status")})
        return FulfillmentResult(fulfillment_id=f"{shipment.order_id}/{tracking_ids(shipment)[0]}", created=created,
                                 order_status=status)

    def update_tracking(self, fulfillment_id: str, shipment: Shipment) -> None:
        order = self.client.get(f"orders/{int(shipment.order_id)}")
        ours = set(tracking_ids(shipment))
        kept = [item for item in meta_items(order) if item.get("tracking_id") not in ours]
        self.client.put(f"orders/{int(shipment.order_id)}",
                        {"meta_data": [{"key": TRACKING_META, "value": kept + tracking_items(shipment)}]})
        self.client.post(f"orders/{int(shipment.order_id)}/notes",
                         {"note": "Tracking updated. " + customer_note(shipment), "customer_note": True})
