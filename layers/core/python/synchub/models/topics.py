"""Canonical topics: the names events carry on the bus (EventBridge detail-types), each tied to its entity.

Connectors map their vendor topics onto these; flows subscribe to them. Using the constants, not free
strings, keeps a typo from silently routing nothing.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str  # e.g. "order.created": the envelope's topic and the bus detail-type
    entity: str  # the canonical entity the payload describes (models/<entity>)

    def __str__(self) -> str:
        return self.name


CUSTOMER_CREATED = Topic("customer.created", "customer")
CUSTOMER_UPDATED = Topic("customer.updated", "customer")
ORDER_CREATED = Topic("order.created", "order")
ORDER_UPDATED = Topic("order.updated", "order")
ORDER_PAID = Topic("order.paid", "order")
ORDER_CANCELLED = Topic("order.cancelled", "order")
ORDER_DELETED = Topic("order.deleted", "order")
# Lines added, removed or re-quantified after checkout; the event may carry only the edit, not the order.
ORDER_EDITED = Topic("order.edited", "order")
REFUND_CREATED = Topic("refund.created", "refund")
PRODUCT_CREATED = Topic("product.created", "product")
PRODUCT_UPDATED = Topic("product.updated", "product")
PRODUCT_DELETED = Topic("product.deleted", "product")
STORE_INVENTORY_UPDATED = Topic("inventory.updated", "inventory_level")  # a store's own stock change
STOCK_CHANGED = Topic("stock.changed", "stock")  # ERP stock levels, published by the stock poll
RECONCILE_CHUNK = Topic("inventory.reconcile_chunk", "stock")
SHIPMENT_SHIPPED = Topic("shipment.shipped", "shipment")  # an ERP shipment done, published by the shipment poll
FULFILLMENT_CREATED = Topic("fulfillment.created", "fulfillment")  # a store's own fulfilment (store or 3PL)
FULFILLMENT_UPDATED = Topic("fulfillment.updated", "fulfillment")
PRIVACY_DATA_REQUEST = Topic("privacy.data_request", "customer")
PRIVACY_CUSTOMER_REDACT = Topic("privacy.customer_redact", "customer")
PRIVACY_SHOP_REDACT = Topic("privacy.shop_redact", "shop")

CUSTOMER_TOPICS = (CUSTOMER_CREATED, CUSTOMER_UPDATED)
ORDER_TOPICS = (ORDER_CREATED, ORDER_UPDATED, ORDER_PAID, ORDER_CANCELLED, ORDER_EDITED)
# A store's fulfilments, and its order updates (a store without fulfilment webhooks reports shipping there)
STORE_FULFILLMENT_TOPICS = (FULFILLMENT_CREATED, FULFILLMENT_UPDATED, ORDER_UPDATED)

ALL = tuple(value for value in list(globals().values()) if isinstance(value, Topic))
