"""WooCommerce as a store: signed webhooks, order and customer payloads, stock through REST v3 batches."""
from __future__ import annotations

from typing import TYPE_CHECKING

from synchub.connectors.woocommerce.settings import WooCommerceSettings
from synchub.ports import (
    CHANGE_FEED,
    FULFILLMENT_PAYLOADS,
    FULFILLMENTS,
    RECORD_FETCHER,
    STOCK_PAYLOADS,
    STOCK_SINK,
    STORE_PAYLOADS,
    ConnectionContext,
    VendorSpec,
)

if TYPE_CHECKING:
    from synchub.connectors.woocommerce.feed import WooCommerceFeed
    from synchub.connectors.woocommerce.fulfillment_events import WooCommerceFulfillmentPayloads
    from synchub.connectors.woocommerce.fulfillments import WooCommerceFulfillments
    from synchub.connectors.woocommerce.inventory import WooCommerceStorefront
    from synchub.connectors.woocommerce.mapping import WooCommercePayloads
    from synchub.connectors.woocommerce.stock_events import WooCommerceStockPayloads
    from synchub.connectors.woocommerce.webhooks import WooCommerceWebhooks


def _storefront(context: ConnectionContext) -> WooCommerceStorefront:
    from synchub.connectors.woocommerce.inventory import woocommerce_storefront_from_config

    return context.shared("storefront", lambda: woocommerce_storefront_from_config(
        context.settings, context.secret, http_client=context.http_client))


def _payloads(context: ConnectionContext) -> WooCommercePayloads:
    from synchub.connectors.woocommerce.mapping import WooCommercePayloads

    return WooCommercePayloads()


def _stock_payloads(context: ConnectionContext) -> WooCommerceStockPayloads:
    from synchub.connectors.woocommerce.stock_events import WooCommerceStockPayloads

    locations = set(context.settings.locations.values())
    return WooCommerceStockPayloads(*locations) if locations else WooCommerceStockPayloads()


def _feed(context: ConnectionContext) -> WooCommerceFeed:
    from synchub.connectors.woocommerce.feed import WooCommerceFeed

    return context.shared("feed", lambda: WooCommerceFeed(_storefront(context).client))


def _fulfillments(context: ConnectionContext) -> WooCommerceFulfillments:
    from synchub.connectors.woocommerce.fulfillments import WooCommerceFulfillments

    return context.shared("fulfillments", lambda: WooCommerceFulfillments(_storefront(context).client))


def _fulfillment_payloads(context: ConnectionContext) -> WooCommerceFulfillmentPayloads:
    from synchub.connectors.woocommerce.fulfillment_events import WooCommerceFulfillmentPayloads

    return WooCommerceFulfillmentPayloads()


def _webhooks() -> WooCommerceWebhooks:
    from synchub.connectors.woocommerce.webhooks import WooCommerceWebhooks

    return WooCommerceWebhooks()


SPEC = VendorSpec(
    vendor="woocommerce",
    roles=("store",),
    settings=WooCommerceSettings,
    secret_fields=("webhook_secret", "consumer_key", "consumer_secret"),
    placeholder_secret_field="webhook_secret",
    provides=(STOCK_SINK.provided_by(_storefront), STORE_PAYLOADS.provided_by(_payloads),
              STOCK_PAYLOADS.provided_by(_stock_payloads),
              CHANGE_FEED.provided_by(_feed), RECORD_FETCHER.provided_by(_feed),
              FULFILLMENTS.provided_by(_fulfillments), FULFILLMENT_PAYLOADS.provided_by(_fulfillment_payloads)),
    webhooks=_webhooks,
    local_sandbox="infra.local.vendors.woocommerce:start",
    description="WooCommerce REST API v3 (consumer key and secret) and signed webhooks",
)
