"""Shopify as a store: signed webhooks and EventBridge delivery, order and customer payloads, and stock and
orders by id (for thin events) through the GraphQL Admin API."""
from __future__ import annotations

from typing import TYPE_CHECKING

from synchub.connectors.shopify.settings import ShopifySettings
from synchub.ports import (
    FULFILLMENT_PAYLOADS,
    FULFILLMENTS,
    ORDER_TRANSACTIONS,
    RECORD_FETCHER,
    REFUND_READER,
    STOCK_PAYLOADS,
    STOCK_SINK,
    STORE_PAYLOADS,
    ConnectionContext,
    VendorSpec,
)

if TYPE_CHECKING:
    from synchub.connectors.shopify.fulfillment_events import ShopifyFulfillmentPayloads
    from synchub.connectors.shopify.fulfillments import ShopifyFulfillments
    from synchub.connectors.shopify.inventory import ShopifyStorefront
    from synchub.connectors.shopify.mapping import ShopifyPayloads
    from synchub.connectors.shopify.orders import ShopifyOrders
    from synchub.connectors.shopify.payments import ShopifyOrderTransactions
    from synchub.connectors.shopify.refunds import ShopifyRefunds
    from synchub.connectors.shopify.stock_events import ShopifyStockPayloads
    from synchub.connectors.shopify.webhooks import ShopifyWebhooks


def _storefront(context: ConnectionContext) -> ShopifyStorefront:
    from synchub.connectors.shopify.inventory import shopify_storefront_from_config

    return context.shared("storefront", lambda: shopify_storefront_from_config(
        context.settings, context.secret, context.http_client, context.mappings, store_id=context.connection_id))


def _payloads(context: ConnectionContext) -> ShopifyPayloads:
    from synchub.connectors.shopify.mapping import ShopifyPayloads

    return ShopifyPayloads()


def _orders(context: ConnectionContext) -> ShopifyOrders:
    from synchub.connectors.shopify.orders import ShopifyOrders

    return context.shared("orders", lambda: ShopifyOrders(_storefront(context).admin))


def _stock_payloads(context: ConnectionContext) -> ShopifyStockPayloads:
    from synchub.connectors.shopify.stock_events import ShopifyStockPayloads

    return ShopifyStockPayloads(context.mappings)


def _transactions(context: ConnectionContext) -> ShopifyOrderTransactions:
    from synchub.connectors.shopify.payments import ShopifyOrderTransactions

    return ShopifyOrderTransactions(_storefront(context).admin)


def _refunds(context: ConnectionContext) -> ShopifyRefunds:
    from synchub.connectors.shopify.refunds import ShopifyRefunds

    return ShopifyRefunds()
def _fulfillments(context: ConnectionContext) -> ShopifyFulfillments:
    from synchub.connectors.shopify.fulfillments import shopify_fulfillments_from_config

    return context.shared("fulfillments", lambda: shopify_fulfillments_from_config(
        context.settings, context.secret, context.http_client))


def _fulfillment_payloads(context: ConnectionContext) -> ShopifyFulfillmentPayloads:
    from synchub.connectors.shopify.fulfillment_events import ShopifyFulfillmentPayloads

    return ShopifyFulfillmentPayloads()


def _webhooks() -> ShopifyWebhooks:
    from synchub.connectors.shopify.webhooks import ShopifyWebhooks

    return ShopifyWebhooks()


SPEC = VendorSpec(
    vendor="shopify",
    roles=("store",),
    settings=ShopifySettings,
    secret_fields=("webhook_secret", "access_token"),
    placeholder_secret_field="webhook_secret",
    provides=(STOCK_SINK.provided_by(_storefront), STORE_PAYLOADS.provided_by(_payloads),
              STOCK_PAYLOADS.provided_by(_stock_payloads), ORDER_TRANSACTIONS.provided_by(_transactions),
              REFUND_READER.provided_by(_refunds),
              FULFILLMENTS.provided_by(_fulfillments),
              FULFILLMENT_PAYLOADS.provided_by(_fulfillment_payloads), RECORD_FETCHER.provided_by(_orders)),
    webhooks=_webhooks,
    partner_detail_types=("shopifyWebhook",),
    local_sandbox="infra.local.vendors.shopify:start",
    description="Shopify GraphQL Admin API, signed HTTPS webhooks and the EventBridge partner source",
)
