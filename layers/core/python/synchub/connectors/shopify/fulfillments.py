"""Shopify fulfilments for ERP shipments over the GraphQL Admin API.

The order's fulfilment orders say what is left to ship (`remainingQuantity` per line item); a shipment
fulfils only its own SKUs and quantities with `fulfillmentCreate` (`lineItemsByFulfillmentOrder`, the
carrier's `trackingInfo`, `notifyCustomer: true`), so partial shipments and several parcels work. Before
any create the order's fulfilments are searched for the shipment's tracking numbers: a repeat, or a retry
after a crash between Shopify's write and ours, finds the fulfilment instead of making a second one.
Tracking changed in the ERP later is sent with `fulfillmentTrackingInfoUpdate`.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx
from aws_lambda_powertools import Logger

from synchub.connectors.http import DEFAULT_TIMEOUT, RetryPolicy
from synchub.connectors.shopify.admin import ShopifyAdmin
from synchub.connectors.shopify.settings import ShopifySettings
from synchub.errors import PermanentError, VendorRejected
from synchub.models import FulfillmentStatus, Shipment
from synchub.ports import FulfillmentResult

logger = Logger(service="synchub")

# Requested cost about 560 of the 1,000 a query may ask for: 10 fulfilment orders of 50 line items each.
ORDER_FULFILLMENT = """query OrderFulfillment($id: ID!) {
  order(id: $id) {
    id displayFulfillmentStatus
    fulfillments(first: 50) { id status trackingInfo(first: 10) { company number url } }
    fulfillmentOrders(first: 10) {
      nodes { id status lineItems(first: 50) { nodes { id sku remainingQuantity } } }
    }
  }
}"""
FULFILLMENT_CREATE = """mutation FulfillShipment($fulfillment: FulfillmentInput!, $message: String) {
  fulfillmentCreate(fulfillment: $fulfillment, message: $message) {
    fulfillment { id status trackingInfo(first: 10) { company number url } order { displayFulfillmentStatus } }
    userErrors { field message }
  }
}"""
TRACKING_UPDATE = """mutation UpdateTracking($fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!,
    $notifyCustomer: Boolean) {
  fulfillmentTrackingInfoUpdate(fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput,
      notifyCustomer: $notifyCustomer) {
    fulfillment { id trackingInfo(first: 10) { company number url } }
    userErrors { field message }
  }
}"""
FULFILLABLE = ("OPEN", "IN_PROGRESS")  # fulfilment order states that take a fulfilment
LIVE = ("SUCCESS", "OPEN", "PENDING")  # fulfilments that still stand (not cancelled, not failed)
STATUS = {"FULFILLED": FulfillmentStatus.FULFILLED, "PARTIALLY_FULFILLED": FulfillmentStatus.PARTIAL}


def order_gid(order_id: str) -> str:
    return order_id if order_id.startswith("gid://") else f"gid://shopify/Order/{order_id}"


def tracking_input(shipment: Shipment) -> dict[str, Any]:
    """FulfillmentTrackingInput: one parcel as number/url, several as numbers/urls."""
    values: dict[str, Any] = {}
    if shipment.carrier:
        values["company"] = shipment.carrier
    parcels = shipment.tracking
    if len(parcels) == 1:
        values["number"] = parcels[0].number
        if parcels[0].url:
            values["url"] = parcels[0].url
    elif parcels:
        values["numbers"] = [parcel.number for parcel in parcels]
        urls = [parcel.url for parcel in parcels if parcel.url]
        if len(urls) == len(parcels):
            values["urls"] = urls
    return values


class ShopifyFulfillments:
    def __init__(self, admin: ShopifyAdmin) -> None:
        self.admin = admin

    def fulfil(self, shipment: Shipment) -> FulfillmentResult | None:
        order = self.admin.execute(ORDER_FULFILLMENT, {"id": order_gid(shipment.order_id)}, cost=560).get("order")
        if order is None:
            raise PermanentError(f"Shopify has no order {shipment.order_id}", reason="store_order_not_found")
        existing = self._existing(order, shipment)
        if existing is not None:
            logger.info("Shopify fulfilment already there", extra={"fulfillment": existing})
            return FulfillmentResult(fulfillment_id=existing, created=False,
                                     order_status=STATUS.get(order.get("displayFulfillmentStatus") or "",
                                                             FulfillmentStatus.UNFULFILLED))
        groups = self._allocate(order, shipment)
        if not groups:
            return None
        fulfillment: dict[str, Any] = {"lineItemsByFulfillmentOrder": groups, "notifyCustomer": True}
        tracking = tracking_input(shipment)
        if tracking:
            fulfillment["trackingInfo"] = tracking
        result = self.admin.execute(FULFILLMENT_CREATE, {"fulfillment": fulfillment},
                                    cost=10)["fulfillmentCreate"]
        self._check(result, "fulfillmentCreate")
        created = result["fulfillment"]
        status = STATUS.get((created.get("order") or {}).get("displayFulfillmentStatus") or "",
                            FulfillmentStatus.UNFULFILLED)
        logger.info("Shopify fulfilment created", extra={"fulfillment": created["id"], "order_status": status.value})
        return FulfillmentResult(fulfillment_id=created["id"], created=True, order_status=status)

    def update_tracking(self, fulfillment_id: str, shipment: Shipment) -> None:
        result = self.admin.execute(TRACKING_UPDATE, {"fulfillmentId": fulfillment_id,
                                                      "trackingInfoInput": tracking_input(shipment),
                                                      "notifyCustomer": True})["fulfillmentTrackingInfoUpdate"]
        self._check(result, "fulfillmentTrackingInfoUpdate")

    @staticmethod
    def _existing(order: dict[str, Any], shipment: Shipment) -> str | None:
        ours = set(shipment.tracking_numbers)
        if not ours:
            return None
        for fulfillment in order.get("fulfillments") or ():
            numbers = {info.get("number") for info in fulfillment.get("trackingInfo") or ()}
            if fulfillment.get("status") in LIVE and ours & numbers:
                return str(fulfillment["id"])
        return None

    @staticmethod
    def _allocate(order: dict[str, Any], shipment: Shipment) -> list[dict[str, Any]]:
        """The shipped quantities spread over the open fulfilment order line items of the same SKU."""
        wanted: dict[str, int] = defaultdict(int)
        for line in shipment.lines:
            wanted[line.sku] += line.quantity
        groups = []
        for fulfillment_order in (order.get("fulfillmentOrders") or {}).get("nodes") or ():
            if fulfillment_order.get("status") not in FULFILLABLE:
                continue
            items = []
            for item in (fulfillment_order.get("lineItems") or {}).get("nodes") or ():
                take = min(wanted.get(item.get("sku") or "", 0), int(item.get("remainingQuantity") or 0))
                if take > 0:
                    wanted[item["sku"]] -= take
                    items.append({"id": item["id"], "quantity": take})
            if items:
                groups.append({"fulfillmentOrderId": fulfillment_order["id"], "fulfillmentOrderLineItems": items})
        left = {sku: quantity for sku, quantity in wanted.items() if quantity > 0}
        if left and groups:
            logger.warning("shipped more than the Shopify order has left to fulfil", extra={"skus": sorted(left)})
        return groups

    @staticmethod
    def _check(result: dict[str, Any], mutation: str) -> None:
        errors = result.get("userErrors") or []
        if errors:
            raise VendorRejected(f"shopify: {mutation}: {errors[0].get('message', '')[:200]}", vendor="shopify",
                                 status=200, category="userErrors", body=errors)


def shopify_fulfillments_from_config(store: ShopifySettings, secret: dict[str, Any],
                                     http_client: httpx.Client | None = None, *,
                                     policy: RetryPolicy | None = None) -> ShopifyFulfillments:
    shop_url = store.shop_url
    client = http_client or httpx.Client(base_url=shop_url, timeout=DEFAULT_TIMEOUT)
    admin = ShopifyAdmin(client, shop_url=shop_url, api_version=store.api_version,
                         access_token=secret["access_token"], policy=policy, restore_rate=store.restore_rate)
    return ShopifyFulfillments(admin)
