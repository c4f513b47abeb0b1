"""ShopifyStorefront against the Shopify sandbox: batching, compare-and-swap retries, idempotent replays,
unknown SKUs, the bulk export, and pacing on the cost bucket. In-process (WSGI), no sockets, no real sleep."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from synchub.connectors.http import RetryPolicy
from synchub.connectors.shopify.inventory import ENTITY, ShopifyStorefront, shopify_storefront_from_config
from synchub.connectors.shopify.settings import ShopifySettings
from synchub.errors import TransientError
from synchub.models import StockUpdate
from synchub.ports import Mapping

from infra.local.sandboxes.shopify import ShopifySandbox, create_app, seed_synthetic

CATALOG = Path(__file__).resolve().parents[2] / "infra" / "local" / "demo_catalog.json"
TOKEN = "shpat_test"


class FakeClock:
    """Shared by the sandbox (its bucket refills on it) and the client (its sleeps advance it)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Interposer(httpx.BaseTransport):
    """Forwards to the sandbox; runs `before` / `after` hooks on requests whose body contains `marker`."""

    def __init__(self, app: ShopifySandbox, marker: str, before: Callable[[], None] | None = None,
                 lose_first_response: bool = False) -> None:
        self.inner = httpx.WSGITransport(app=app)
        self.marker, self.before, self.lose_first_response = marker, before, lose_first_response
        self.seen = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        hit = self.marker in request.content.decode()
        if hit:
            self.seen += 1
            if self.seen == 1 and self.before:
                self.before()
        response = self.inner.handle_request(request)
        if hit and self.seen == 1 and self.lose_first_response:
            response.read()
            raise httpx.ReadTimeout("response lost", request=request)
        return response


class MemoryMappings:
    """An in-memory MappingStore (only what the storefront uses), counting look-ups."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Mapping] = {}

    def get(self, entity: str, key: str) -> Mapping | None:
        return self.rows.get((entity, key))

    def find(self, entity: str, system: str, system_id: str) -> Mapping | None:
        return next((m for m in self.rows.values() if m.entity == entity and m.ids.get(system) == system_id), None)

    def link(self, entity: str, key: str, system: str, system_id: str) -> None:
        old = self.rows.get((entity, key)) or Mapping(entity=entity, key=key)
        self.rows[(entity, key)] = old.model_copy(update={"ids": {**old.ids, system: system_id}})

    def claim_version(self, entity: str, key: str, version: datetime) -> bool:
        raise NotImplementedError

    def remember_written(self, entity: str, key: str, system: str, content_hash: str) -> None:
        raise NotImplementedError

    def get_watermark(self, source: str) -> str | None:
        raise NotImplementedError

    def set_watermark(self, source: str, value: str) -> None:
        raise NotImplementedError


def storefront(app: ShopifySandbox, clock: FakeClock, transport: httpx.BaseTransport | None = None,
               mappings: MemoryMappings | None = None, **store: Any) -> ShopifyStorefront:
    store.setdefault("locations", {"WH": app.locations()[0]["id"]})
    config = ShopifySettings(domain="demo.myshopify.com", **store)
    client = httpx.Client(transport=transport or httpx.WSGITransport(app=app))
    return shopify_storefront_from_config(config, {"access_token": TOKEN}, client, mappings, store_id="demo",
                                          policy=RetryPolicy(sleep=clock.sleep), sleep=clock.sleep)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def demo(clock: FakeClock) -> ShopifySandbox:
    return create_app(TOKEN, "demo.myshopify.com", clock=clock, catalog=CATALOG)


def test_600_updates_are_sent_as_three_mutations_of_at_most_250(clock: FakeClock) -> None:
    app = create_app(TOKEN, "big.myshopify.com", clock=clock)
    app.seed(locations=["Warehouse"])
    location = app.locations()[0]["id"]
    skus = seed_synthetic(app, 600, [location], stock=lambda i, _: 5)
    shop = storefront(app, clock)

    results = shop.set_available([StockUpdate(sku=s, location_id=location, available=i % 40, expected=5)
                                  for i, s in enumerate(skus)], idempotency_key="stock-batch-1")

    assert app.field_calls["inventorySetQuantities"] == 3
    assert all(r.ok for r in results) and len(results) == 600
    assert [app.available(s, location) for s in skus] == [i % 40 for i in range(600)]
    assert results[7].before == 5 and results[7].after == 7


def test_stale_compare_and_swap_is_retried_with_the_fresh_value_and_ends_at_the_target(
        demo: ShopifySandbox, clock: FakeClock) -> None:
    location = demo.locations()[0]["id"]
    sale = Interposer(demo, "inventorySetQuantities", before=lambda: demo.set_available("TEE-BLK-M", location, 117))
    shop = storefront(demo, clock, transport=sale)

    [result] = shop.set_available([StockUpdate(sku="TEE-BLK-M", location_id=location, available=90)],
                                  idempotency_key="evt-42")

    # read 120, a sale made it 117 before the write: CHANGE_FROM_QUANTITY_STALE, re-read, written again
    assert demo.available("TEE-BLK-M", location) == 90
    assert result.ok and result.before == 117 and result.after == 90
    assert demo.field_calls["inventorySetQuantities"] == 2 and shop.stale_retries == 1


def test_a_replayed_request_with_the_same_idempotency_key_is_not_applied_twice(
        demo: ShopifySandbox, clock: FakeClock) -> None:
    location = demo.locations()[0]["id"]
    lossy = Interposer(demo, "inventorySetQuantities", lose_first_response=True)
    shop = storefront(demo, clock, transport=lossy)
    sold_meanwhile = False

    def sale_between_attempts(seconds: float) -> None:
        nonlocal sold_meanwhile
        if not sold_meanwhile:  # the write landed, its answer was lost; a customer buys one before the retry
            demo.set_available("MUG-CER-01", location, 249)
            sold_meanwhile = True
        clock.sleep(seconds)

    shop.admin.http.policy.sleep = sale_between_attempts
    [result] = shop.set_available([StockUpdate(sku="MUG-CER-01", location_id=location, available=250, expected=300)],
                                  idempotency_key="evt-7")

    assert lossy.seen == 2  # the same request went out twice
    assert result.ok and result.before == 300 and result.after == 250
    assert len(demo.shop.groups) == 1  # one adjustment: the retry was answered from the first result
    assert demo.available("MUG-CER-01", location) == 249  # the sale is not overwritten by a second apply


def test_unknown_sku_is_reported_per_update_and_the_rest_applied(demo: ShopifySandbox, clock: FakeClock) -> None:
    location = demo.locations()[0]["id"]
    shop = storefront(demo, clock)

    results = shop.set_available([StockUpdate(sku="NO-SUCH-SKU", location_id=location, available=3),
                                  StockUpdate(sku="CAP-NVY-OS", location_id=location, available=60)],
                                 idempotency_key="evt-9")

    assert [(r.sku, r.ok, r.reason) for r in results] == [("NO-SUCH-SKU", False, "unknown_sku"),
                                                          ("CAP-NVY-OS", True, None)]
    assert results[1].before == 65 and demo.available("CAP-NVY-OS", location) == 60


def test_no_mutation_when_the_store_already_holds_the_target(demo: ShopifySandbox, clock: FakeClock) -> None:
    location = demo.locations()[0]["id"]
    shop = storefront(demo, clock)

    [result] = shop.set_available([StockUpdate(sku="TOTE-CAN-01", location_id=location, available=150)],
                                  idempotency_key="evt-10")

    assert result.ok and result.before == result.after == 150
    assert demo.field_calls["inventorySetQuantities"] == 0


def test_sku_lookups_are_remembered_in_the_mapping_store(demo: ShopifySandbox, clock: FakeClock) -> None:
    location = demo.locations()[0]["id"]
    mappings = MemoryMappings()
    storefront(demo, clock, mappings=mappings).set_available(
        [StockUpdate(sku="BOTTLE-750", location_id=location, available=80)], idempotency_key="evt-11")
    lookups = demo.field_calls["productVariants"]

    later = storefront(demo, clock, mappings=mappings)  # a new process: empty in-process cache
    later.set_available([StockUpdate(sku="BOTTLE-750", location_id=location, available=70)], idempotency_key="evt-12")

    assert mappings.get(ENTITY, "demo:BOTTLE-750").ids == {"shopify": demo.inventory_item_id("BOTTLE-750")}
    assert demo.field_calls["productVariants"] == lookups == 1
    assert demo.available("BOTTLE-750", location) == 70


def test_read_available_returns_current_quantities_per_location(demo: ShopifySandbox, clock: FakeClock) -> None:
    location = demo.locations()[0]["id"]
    demo.set_available("HOOD-GRY-M", location, 12)

    rows = storefront(demo, clock).read_available(["HOOD-GRY-M", "TEE-BLK-L", "UNKNOWN-1"])

    assert {(r.sku, r.location_id, r.available) for r in rows} == {("HOOD-GRY-M", location, 12),
                                                                   ("TEE-BLK-L", location, 80)}
    assert rows[0].inventory_item_id == demo.inventory_item_id(rows[0].sku)


def test_bulk_export_of_1000_skus_returns_every_row(clock: FakeClock) -> None:
    app = create_app(TOKEN, "bulk.myshopify.com", clock=clock)
    app.seed(locations=["Main", "Outlet"])
    places = [p["id"] for p in app.locations()]
    skus = seed_synthetic(app, 1000, places)
    shop = storefront(app, clock, locations={"WH": places[0], "OUT": places[1]})

    rows = list(shop.read_inventory())

    assert len(rows) == 2000
    assert {(r.sku, r.location_id): r.available for r in rows} == {
        (s, p): app.available(s, p) for s in skus for p in places}
    assert clock.sleeps.count(shop.poll_interval) >= 1  # it polled the operation until COMPLETED
    assert app.field_calls["productVariants"] == 0  # SKUs learnt from the export need no lookup
    shop.set_available([StockUpdate(sku=skus[3], location_id=places[1], available=1)], idempotency_key="after-bulk")
    assert app.field_calls["productVariants"] == 0 and app.available(skus[3], places[1]) == 1


def test_failed_bulk_operation_is_a_transient_error(demo: ShopifySandbox, clock: FakeClock) -> None:
    demo.fail_next_bulk("INTERNAL_SERVER_ERROR")

    with pytest.raises(TransientError) as caught:
        list(storefront(demo, clock).read_inventory())

    assert caught.value.reason == "bulk_operation_failed"


def test_bulk_export_waits_for_a_bulk_query_already_running(clock: FakeClock) -> None:
    app = create_app(TOKEN, "busy.myshopify.com", clock=clock, catalog=CATALOG, bulk_query_concurrency=1)
    client = httpx.Client(transport=httpx.WSGITransport(app=app))
    other = client.post("https://busy.myshopify.com/admin/api/2026-01/graphql.json",
                        headers={"X-Shopify-Access-Token": TOKEN},
                        json={"query": 'mutation { bulkOperationRunQuery(query: "{ products { edges { node { id } } } }")'
                                       " { bulkOperation { id } userErrors { code } } }"}).json()
    assert other["data"]["bulkOperationRunQuery"]["userErrors"] == []

    rows = list(storefront(app, clock).read_inventory())

    assert len(rows) == 8
    assert [op.status for op in app.bulk.operations.values()] == ["COMPLETED", "COMPLETED"]


def test_pacing_on_a_small_bucket_gets_every_update_through(clock: FakeClock) -> None:
    app = create_app(TOKEN, "slow.myshopify.com", restore_rate=50.0, maximum_available=1000.0, clock=clock)
    app.seed(locations=["Warehouse"])
    location = app.locations()[0]["id"]
    skus = seed_synthetic(app, 600, [location], stock=lambda i, _: 9)
    shop = storefront(app, clock)

    results = shop.set_available([StockUpdate(sku=s, location_id=location, available=4) for s in skus],
                                 idempotency_key="slow-1")

    assert all(r.ok for r in results)
    # the bucket only refills while the client waits: the waits paid for what went beyond the first 1000 points
    assert clock.now * 50.0 >= app.cost_spent - 1000.0
    assert app.throttled == 0 and shop.admin.paced_seconds > 0


def test_factory_reads_the_token_from_the_secret_and_the_base_url_from_the_store(
        demo: ShopifySandbox, clock: FakeClock) -> None:
    seen: list[httpx.Request] = []

    def recorder(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": {"productVariants": {
            "nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}})

    config = ShopifySettings(domain="demo.myshopify.com", api_url="http://127.0.0.1:8081")
    shop = shopify_storefront_from_config(config, {"access_token": "shpat_x"},
                                          httpx.Client(transport=httpx.MockTransport(recorder)), store_id="demo")
    shop.inventory_item_ids(["A"])

    assert str(seen[0].url) == "http://127.0.0.1:8081/admin/api/2026-01/graphql.json"
    assert seen[0].headers["X-Shopify-Access-Token"] == "shpat_x"
    assert json.loads(seen[0].content)["variables"]["query"] == 'sku:"A"'


def test_updates_that_carry_their_inventory_item_id_need_no_sku_lookup(demo: ShopifySandbox, clock: FakeClock):
    location = demo.locations()[0]["id"]
    exported = {row.sku: row for row in storefront(demo, clock).read_inventory()}  # what reconciliation read
    fresh = storefront(demo, clock)  # another invocation: nothing cached in process
    updates = [StockUpdate(sku=sku, location_id=location, available=row.available + 1, expected=row.available,
                           inventory_item_id=row.inventory_item_id) for sku, row in exported.items()]

    results = fresh.set_available(updates, idempotency_key="chunk-1")

    assert all(result.ok for result in results)
    assert fresh.admin.operations["SkuLookup"] == 0
    assert all(demo.available(sku, location) == row.available + 1 for sku, row in exported.items())
