"""WooCommerce storefront: stock writes through the batch endpoints, SKU lookup, stale reports, reads."""
from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from synchub.connectors.http import RetryPolicy
from synchub.connectors.woocommerce.inventory import WooCommerceStorefront, woocommerce_storefront_from_config
from synchub.connectors.woocommerce.settings import WooCommerceSettings
from synchub.errors import VendorRejected
from synchub.models import StockUpdate, StoreStock

from infra.local.sandboxes.woocommerce import create_app

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "woocommerce" / "rest"
SECRET = {"consumer_key": "ck_live_1", "consumer_secret": "cs_live_1"}
BATCH = ("POST", "/wp-json/wc/v3/products/batch")
LOOKUP = ("GET", "/wp-json/wc/v3/products")


def _store(**overrides) -> WooCommerceSettings:
    return WooCommerceSettings(**{"domain": "shop.example.com", **overrides})


def _storefront(app, **overrides) -> WooCommerceStorefront:
    http_client = httpx.Client(transport=httpx.WSGITransport(app=app))  # bare: the factory adds base URL and auth
    return woocommerce_storefront_from_config(_store(**overrides), SECRET, http_client,
                                              policy=RetryPolicy(sleep=lambda _: None))


def _set(sku: str, available: int, expected: int | None = None, location: str = "default") -> StockUpdate:
    return StockUpdate(sku=sku, location_id=location, available=available, expected=expected)


@pytest.fixture
def shop():
    return create_app(SECRET["consumer_key"], SECRET["consumer_secret"])  # the demo catalogue


@pytest.fixture
def storefront(shop) -> WooCommerceStorefront:
    return _storefront(shop)


def test_250_updates_are_written_in_3_batch_calls_and_all_land(shop) -> None:
    empty = create_app(SECRET["consumer_key"], SECRET["consumer_secret"], seed=False)
    for n in range(250):
        empty.add_product(f"SKU-{n:03d}", 0)

    results = _storefront(empty).set_available([_set(f"SKU-{n:03d}", n + 1) for n in range(250)],
                                               idempotency_key="push-1")

    assert empty.requests.count(BATCH) == 3
    assert all(result.ok for result in results)
    assert [empty.stock(f"SKU-{n:03d}") for n in range(250)] == [n + 1 for n in range(250)]


def test_results_follow_the_update_order_with_before_and_after(shop, storefront) -> None:
    results = storefront.set_available([_set("MUG-CER-01", 280), _set("CAP-NVY-OS", 60)], idempotency_key="k")

    assert [(r.sku, r.ok, r.before, r.after) for r in results] == [("MUG-CER-01", True, 300, 280),
                                                                   ("CAP-NVY-OS", True, 65, 60)]
    assert (shop.stock("MUG-CER-01"), shop.stock("CAP-NVY-OS")) == (280, 60)


def test_an_unknown_sku_fails_alone_and_the_rest_is_written(shop, storefront) -> None:
    results = storefront.set_available([_set("NO-SUCH-SKU", 4), _set("TOTE-CAN-01", 149)], idempotency_key="k")

    assert (results[0].ok, results[0].reason) == (False, "unknown_sku")
    assert results[1].ok and shop.stock("TOTE-CAN-01") == 149


def test_a_variation_is_written_through_its_parents_variations_batch(shop, storefront) -> None:
    parent, _ = shop.add_variable_product("Organic tee, red", {"TEE-RED-S": 5, "TEE-RED-M": 7})

    results = storefront.set_available([_set("TEE-RED-M", 2), _set("MUG-CER-01", 299)], idempotency_key="k")

    assert all(result.ok for result in results)
    assert shop.stock("TEE-RED-M") == 2 and shop.stock("TEE-RED-S") == 5
    assert ("POST", f"/wp-json/wc/v3/products/{parent}/variations/batch") in shop.requests
    assert shop.requests.count(BATCH) == 1  # the simple product only


def test_a_changed_store_quantity_is_reported_stale_and_not_overwritten(shop, storefront) -> None:
    shop.set_stock("HOOD-GRY-M", 38)  # two hoodies sold since the flow read 40

    [result] = storefront.set_available([_set("HOOD-GRY-M", 45, expected=40)], idempotency_key="k")

    assert (result.ok, result.reason, result.before) == (False, "stale", 38)
    assert shop.stock("HOOD-GRY-M") == 38
    assert BATCH not in shop.requests


def test_an_expected_quantity_that_still_holds_is_written(shop, storefront) -> None:
    [result] = storefront.set_available([_set("HOOD-GRY-M", 45, expected=40)], idempotency_key="k")

    assert (result.ok, result.before, result.after) == (True, 40, 45)
    assert shop.stock("HOOD-GRY-M") == 45


def test_repeating_an_applied_update_writes_nothing_and_succeeds(shop, storefront) -> None:
    update = _set("BOTTLE-750", 70, expected=90)
    storefront.set_available([update], idempotency_key="k")
    calls = shop.requests.count(BATCH)

    [again] = storefront.set_available([update], idempotency_key="k")  # SQS redelivery of the same message

    assert (again.ok, again.before, again.after) == (True, 70, 70)
    assert shop.requests.count(BATCH) == calls


def test_sku_lookups_are_cached_between_calls(shop, storefront) -> None:
    storefront.set_available([_set("SOCK-WOOL-3", 150)], idempotency_key="a")
    lookups = shop.requests.count(LOOKUP)

    [result] = storefront.set_available([_set("SOCK-WOOL-3", 140)], idempotency_key="b")

    assert result.ok and shop.stock("SOCK-WOOL-3") == 140
    assert shop.requests.count(LOOKUP) == lookups


def test_a_product_deleted_after_it_was_cached_is_reported_unknown_and_others_still_land(shop, storefront) -> None:
    storefront.read_available(["TEE-BLK-M", "TEE-BLK-L"])  # caches both ids
    shop.delete_product("TEE-BLK-M")

    results = storefront.set_available([_set("TEE-BLK-M", 1), _set("TEE-BLK-L", 2)], idempotency_key="k")

    assert [(r.ok, r.reason) for r in results] == [(False, "unknown_sku"), (True, None)]
    assert shop.stock("TEE-BLK-L") == 2


def test_a_per_item_error_in_a_batch_answer_fails_that_item_only() -> None:
    lookup = json.loads((SAMPLES / "products_by_sku.json").read_text())
    answer = json.loads((SAMPLES / "products_batch_update_partial_error.json").read_text())
    sent: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=lookup, headers={"X-WP-Total": "3", "X-WP-TotalPages": "1"})
        sent.append(json.loads(request.content))
        return httpx.Response(200, json=answer)

    storefront = woocommerce_storefront_from_config(_store(), SECRET, httpx.Client(transport=httpx.MockTransport(handler)),
                                                    policy=RetryPolicy(sleep=lambda _: None))
    results = storefront.set_available([_set("TEE-BLK-M", 118), _set("TEE-BLK-L", 79), _set("HOOD-GRY-M", 37)],
                                       idempotency_key="k")

    assert sent == [{"update": [{"id": 794, "manage_stock": True, "stock_quantity": 118},
                                {"id": 795, "manage_stock": True, "stock_quantity": 79},
                                {"id": 796, "manage_stock": True, "stock_quantity": 37}]}]
    assert [(r.sku, r.ok, r.reason, r.after) for r in results] == [
        ("TEE-BLK-M", True, None, 118),
        ("TEE-BLK-L", False, "vendor_rejected:woocommerce_rest_product_not_editable", None),
        ("HOOD-GRY-M", True, None, 37)]


def test_wrong_credentials_raise_instead_of_failing_item_by_item(shop) -> None:
    http_client = httpx.Client(transport=httpx.WSGITransport(app=shop))
    storefront = woocommerce_storefront_from_config(_store(), {"consumer_key": "ck_live_1", "consumer_secret": "x"},
                                                    http_client, policy=RetryPolicy(sleep=lambda _: None))
    with pytest.raises(VendorRejected):
        storefront.set_available([_set("MUG-CER-01", 1)], idempotency_key="k")


def test_an_update_for_another_location_is_refused(shop, storefront) -> None:
    [result] = storefront.set_available([_set("MUG-CER-01", 1, location="gid://other")], idempotency_key="k")
    assert (result.ok, result.reason) == (False, "unknown_location")
    assert shop.stock("MUG-CER-01") == 300


def test_the_store_location_id_comes_from_the_store_config(shop) -> None:
    storefront = _storefront(shop, locations={"WH": "main"})

    [result] = storefront.set_available([_set("MUG-CER-01", 12, location="main")], idempotency_key="k")

    assert result.ok and shop.stock("MUG-CER-01") == 12
    assert {stock.location_id for stock in storefront.read_inventory()} == {"main"}


def test_read_inventory_yields_every_stock_managed_product_and_variation(shop, storefront) -> None:
    parent, ids = shop.add_variable_product("Organic tee, red", {"TEE-RED-S": 5, "TEE-RED-M": 7})
    shop.add_product("GIFT-CARD", None, manage_stock=False)

    stocks = {stock.sku: stock for stock in storefront.read_inventory()}

    assert stocks["TEE-RED-M"] == StoreStock(sku="TEE-RED-M", location_id="default", available=7,
                                             inventory_item_id=str(ids["TEE-RED-M"]))
    assert stocks["MUG-CER-01"].available == 300
    assert "GIFT-CARD" not in stocks
    assert len(stocks) == 10  # 8 demo products + 2 variations
    assert ("GET", f"/wp-json/wc/v3/products/{parent}/variations") in shop.requests


def test_read_inventory_pages_through_250_products() -> None:
    empty = create_app(SECRET["consumer_key"], SECRET["consumer_secret"], seed=False)
    for n in range(250):
        empty.add_product(f"SKU-{n:03d}", n)

    stocks = list(_storefront(empty).read_inventory())

    assert [(s.sku, s.available) for s in stocks] == [(f"SKU-{n:03d}", n) for n in range(250)]
    assert empty.requests.count(LOOKUP) == 3


def test_read_inventory_primes_the_cache_so_writes_need_no_lookup(shop, storefront) -> None:
    list(storefront.read_inventory())
    lookups = shop.requests.count(LOOKUP)

    [result] = storefront.set_available([_set("CAP-NVY-OS", 10)], idempotency_key="k")

    assert result.ok and shop.stock("CAP-NVY-OS") == 10
    assert shop.requests.count(LOOKUP) == lookups


def test_read_available_answers_current_quantities_of_known_skus(shop, storefront) -> None:
    shop.add_variable_product("Organic tee, red", {"TEE-RED-S": 5})
    shop.set_stock("MUG-CER-01", 297)

    stocks = storefront.read_available(["MUG-CER-01", "TEE-RED-S", "NO-SUCH-SKU"])

    assert [(s.sku, s.available, s.location_id) for s in stocks] == [("MUG-CER-01", 297, "default"),
                                                                     ("TEE-RED-S", 5, "default")]


def test_a_store_config_naming_two_locations_is_refused() -> None:
    with pytest.raises(ValueError, match="one stock location"):
        woocommerce_storefront_from_config(_store(locations={"WH": "a", "WH2": "b"}), SECRET)
