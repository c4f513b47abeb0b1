"""Where vendors are registered: adding a vendor is one package plus one line per role here.

Entries are dotted paths, imported on first use, so a function only pays the import of the vendors
it talks to.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

ERPS = {"tryton": "synchub.connectors.tryton.erp:tryton_erp_from_config"}
CRMS = {"hubspot": "synchub.connectors.hubspot.crm:hubspot_crm_from_config"}
STOREFRONTS = {
    "shopify": "synchub.connectors.shopify.inventory:shopify_storefront_from_config",
    "woocommerce": "synchub.connectors.woocommerce.inventory:woocommerce_storefront_from_config",
}
WEBHOOKS = {
    "shopify": "synchub.connectors.shopify.webhooks:ShopifyWebhooks",
    "woocommerce": "synchub.connectors.woocommerce.webhooks:WooCommerceWebhooks",
}
PAYLOADS = {
    "shopify": "synchub.connectors.shopify.mapping:ShopifyPayloads",
    "woocommerce": "synchub.connectors.woocommerce.mapping:WooCommercePayloads",
}


def resolve(table: dict[str, str], kind: str) -> Any:
    try:
        module_name, attribute = table[kind].split(":")
    except KeyError:
        raise LookupError(f"no connector registered for {kind!r}") from None
    return getattr(import_module(module_name), attribute)
