"""Echo suppression: a store's stock webhook caused by our own push ends as skipped: echo; a store-side
change does not. On the vendors' own payloads (WooCommerce's product, Shopify's inventory level)."""
from __future__ import annotations

from datetime import UTC, datetime

from synchub.connectors.shopify.inventory import ENTITY as SHOPIFY_ITEMS
from synchub.connectors.shopify.stock_events import ShopifyStockPayloads
from synchub.connectors.woocommerce.stock_events import WooCommerceStockPayloads
from synchub.flows.inventory import push_stock, watch_store_stock
from synchub.models import EventEnvelope, StockLevel
from synchub.ports import StoreTarget

from tests.eventdata import load_json
from tests.fakes import FakeStorefront, InMemoryMappingStore

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _event(store: str, entity: str, payload: dict) -> EventEnvelope:
    return EventEnvelope(event_id=f"evt-{store}-{payload.get('id')}", source="store", store=store,
                         topic="product.updated", entity=entity, entity_id="1", occurred_at=T0, payload=payload)


def _push(mappings: InMemoryMappingStore, store: FakeStorefront, location: str, on_hand: int, reserved: int) -> None:
    push_stock(EventEnvelope(event_id="stock:1", source="erp", store="erp", topic="stock.changed", entity="stock",
                             entity_id="0", occurred_at=T0, payload={"levels": [StockLevel(
                                 sku="MUG-CER-01", warehouse="WH", on_hand=on_hand, reserved=reserved,
                                 updated_at=T0).model_dump(mode="json")]}),
               stores=[StoreTarget("eu", store, {"WH": location})], mappings=mappings)


def _woo_product(quantity: int) -> dict:
    payload = load_json("woocommerce/product_updated")
    return {**payload, "sku": "MUG-CER-01", "manage_stock": True, "stock_quantity": quantity}


def test_the_store_reporting_back_what_we_pushed_is_an_echo() -> None:
    mappings, store = InMemoryMappingStore(), FakeStorefront({("MUG-CER-01", "default"): 4})
    _push(mappings, store, "default", on_hand=9, reserved=2)
    assert store.available[("MUG-CER-01", "default")] == 7

    outcome = watch_store_stock(_event("eu", "product", _woo_product(7)), stock_payloads=WooCommerceStockPayloads(),
                                mappings=mappings)

    assert (outcome.action, outcome.reason) == ("skipped", "echo")


def test_a_change_made_in_the_store_is_not_an_echo() -> None:
    mappings, store = InMemoryMappingStore(), FakeStorefront({("MUG-CER-01", "default"): 4})
    _push(mappings, store, "default", on_hand=9, reserved=2)

    outcome = watch_store_stock(_event("eu", "product", _woo_product(6)), stock_payloads=WooCommerceStockPayloads(),
                                mappings=mappings)

    assert outcome.reason == "filtered:store_side_change" and outcome.ids == {"skus": "MUG-CER-01"}


def test_a_catalogue_product_without_sku_or_managed_stock_reports_no_level() -> None:
    payload = load_json("woocommerce/product_updated")  # the REST docs' product: "sku": "", manage_stock false
    assert WooCommerceStockPayloads().stock_levels("eu", "product", payload) == []
    outcome = watch_store_stock(_event("eu", "product", payload), stock_payloads=WooCommerceStockPayloads(),
                                mappings=InMemoryMappingStore())
    assert outcome.reason == "filtered:no_synced_stock"


def test_shopify_inventory_level_maps_to_the_sku_our_push_linked_and_its_echo_is_dropped() -> None:
    payload = load_json("shopify/inventory_levels_update")
    item_gid = f"gid://shopify/InventoryItem/{payload['inventory_item_id']}"
    location = f"gid://shopify/Location/{payload['location_id']}"
    mappings = InMemoryMappingStore()
    mappings.link(SHOPIFY_ITEMS, "main:MUG-CER-01", "shopify", item_gid)  # what the Shopify stock sink records
    stock = ShopifyStockPayloads(mappings)

    [level] = stock.stock_levels("main", "inventory_level", payload)
    assert (level.sku, level.location_id, level.available) == ("MUG-CER-01", location, payload["available"])
    assert stock.stock_levels("other-store", "inventory_level", payload) == []  # another shop's item id

    store = FakeStorefront({("MUG-CER-01", location): 3})
    push_stock(EventEnvelope(event_id="stock:2", source="erp", store="erp", topic="stock.changed", entity="stock",
                             entity_id="0", occurred_at=T0, payload={"levels": [StockLevel(
                                 sku="MUG-CER-01", warehouse="WH", on_hand=payload["available"], reserved=0,
                                 updated_at=T0).model_dump(mode="json")]}),
               stores=[StoreTarget("main", store, {"WH": location})], mappings=mappings)
    outcome = watch_store_stock(_event("main", "inventory_level", payload), stock_payloads=stock, mappings=mappings)
    assert outcome.reason == "echo"
