"""Issue 4: reconcile 100,000 SKUs with 2% drift against the Shopify sandbox at the Standard plan's rate limit.

The store side is what is measured: the real ShopifyStorefront over httpx.WSGITransport to the Shopify
sandbox, whose leaky bucket (2,000 points, 100 points/s restored) runs on the real clock, so pacing really
sleeps. The ERP side is in memory (tests.fakes.FakeErp holding the same SKUs). The run is the production
path: synchub.flows.reconcile.plan_reconciliation (bulk export + ERP walk + chunk events), then
apply_reconcile_chunk for every chunk event, on a fresh storefront as a separate Lambda invocation would
be (the SKU -> inventory item cache of the planner is not shared; the mapping store is). The baseline
writes SKU by SKU (one inventorySetQuantities per SKU) on a 100-SKU sample and is extrapolated.
"""
from __future__ import annotations

import math
import time
from typing import Any

from tests.bench import Context, Figure, fmt, quiet

NAME = "reconcile"
TITLE = "100k-SKU stock reconciliation, 2% drift, Shopify sandbox at 100 points/s"
TOKEN = "shpat_bench_reconcile"
DOMAIN = "synchub-bench.myshopify.com"
RESTORE_RATE = 100.0  # Standard plan: points per second
BUCKET = 2000.0  # Standard plan: bucket size
API_VERSION = "2026-01"
WAREHOUSE = "WH"
WRITE_BATCH = 250  # inventorySetQuantities takes up to 250 quantities
WRITE_COST = 10  # a mutation's cost in Shopify's calculated query cost


def store_quantity(index: int, place: int) -> int:
    return (index * 7 + place) % 50  # seed_synthetic's default, restated so the ERP side can agree


def erp_levels(skus: list[str], drift_every: int) -> tuple[list[Any], dict[str, int]]:
    """ERP stock equal to the store's except every `drift_every`-th SKU; returns levels and the drifted targets."""
    from synchub.models import StockLevel

    levels, drifted = [], {}
    for index, sku in enumerate(skus):
        reserved = index % 3
        sellable = store_quantity(index, 0)
        if index % drift_every == 0:
            sellable = (sellable + 1 + index % 17) % 60
            drifted[sku] = sellable
        levels.append(StockLevel(sku=sku, warehouse=WAREHOUSE, on_hand=sellable + reserved, reserved=reserved))
    return levels, drifted


def sandbox(n_skus: int) -> tuple[Any, str, list[str]]:
    from infra.local.sandboxes.shopify import create_app, seed_synthetic

    app = create_app(TOKEN, DOMAIN, restore_rate=RESTORE_RATE, maximum_available=BUCKET)
    skus = seed_synthetic(app, n_skus, ["Warehouse"])
    return app, app.locations()[0]["id"], skus


def storefront(app: Any, location: str, mappings: Any, **options: Any) -> Any:
    import httpx
    from synchub.connectors.shopify.inventory import shopify_storefront_from_config
    from synchub.connectors.shopify.settings import ShopifySettings

    store = ShopifySettings(domain=DOMAIN, api_url=f"https://{DOMAIN}", api_version=API_VERSION,
                            locations={WAREHOUSE: location}, restore_rate=RESTORE_RATE)
    client = httpx.Client(base_url=f"https://{DOMAIN}", transport=httpx.WSGITransport(app=app), timeout=600)
    return shopify_storefront_from_config(store, {"access_token": TOKEN}, http_client=client, mappings=mappings, store_id="main",
                                          poll_interval=0.5, **options)


def run(ctx: Context) -> list[Figure]:
    with quiet():
        return _run(ctx)


def _run(ctx: Context) -> list[Figure]:
    from synchub.flows.inventory import StoreTarget
    from synchub.flows.reconcile import apply_reconcile_chunk, plan_reconciliation

    from tests.fakes import FakeErp, InMemoryMappingStore, InMemoryReports, RecordingPublisher

    n_skus = 10_000 if ctx.quick else 100_000
    drift_every = 50  # 2%
    started = time.monotonic()
    app, location, skus = sandbox(n_skus)
    levels, drifted = erp_levels(skus, drift_every)
    erp = FakeErp(stock=levels)
    ctx.say(f"  seeded {n_skus:,} SKUs in the Shopify sandbox and the in-memory ERP in "
            f"{time.monotonic() - started:.1f} s; {len(drifted):,} drifted ({100 / drift_every:.0f}%). "
            "ERP side is IN MEMORY for this benchmark: the store side and its rate limit are what is measured.")

    mappings, reports, publisher = InMemoryMappingStore(), InMemoryReports(), RecordingPublisher()
    planner = storefront(app, location, mappings)
    started = time.monotonic()
    plan = plan_reconciliation(run_id="bench", erp=erp, stores=[StoreTarget("main", planner, {WAREHOUSE: location})],
                               warehouses=[WAREHOUSE], publisher=publisher, reports=reports)
    plan_s = time.monotonic() - started
    applier = storefront(app, location, mappings)  # the chunk function: another invocation, same mapping store
    started = time.monotonic()
    for envelope in publisher.published:
        apply_reconcile_chunk(envelope, stores=[StoreTarget("main", applier, {WAREHOUSE: location})],
                              reports=reports)
    apply_s = time.monotonic() - started
    wall = plan_s + apply_s
    calls = planner.admin.calls + applier.admin.calls
    points = planner.admin.cost_spent + applier.admin.cost_spent
    summary = reports.summary("bench")["bench/main"]
    lookups = applier.admin.operations.get("SkuLookup", 0)
    ctx.say(f"  plan: {fmt(plan_s)} s ({plan.checked:,} checked, {plan.drifted:,} drifted, {len(publisher.published)} "
            f"chunk events, {planner.admin.calls} calls, {planner.admin.cost_spent:.0f} points); "
            f"apply: {fmt(apply_s)} s ({applier.admin.calls} calls, {applier.admin.cost_spent:.0f} points, "
            f"{lookups} SKU lookups, paced {applier.admin.paced_seconds:.1f} s, throttled "
            f"{applier.admin.throttled}x); fixed {summary['fixed']:,}, failed {summary['failed']:,}")
    ctx.say(f"  operations: {dict(planner.admin.operations + applier.admin.operations)}")

    # The least a run can spend: the export the planner did plus full 250-quantity writes, no SKU lookups.
    minimum_points = planner.admin.cost_spent + math.ceil(len(drifted) / WRITE_BATCH) * WRITE_COST
    floor_s = max(0.0, points - BUCKET) / RESTORE_RATE
    ctx.say(f"  cost: {points:.0f} points spent; export + writes need {minimum_points:.0f} points "
            f"({math.ceil(len(drifted) / WRITE_BATCH)} x inventorySetQuantities of {WRITE_BATCH}), the export "
            f"{planner.admin.cost_spent:.0f}; rate-limit floor "
            f"for the points spent = {points:.0f}/{RESTORE_RATE:.0f} = {points / RESTORE_RATE:.1f} s "
            f"({floor_s:.1f} s after the {BUCKET:.0f}-point bucket)")

    wrong = [sku for sku, want in drifted.items() if app.available(sku, location) != want]
    untouched = [sku for index, sku in enumerate(skus[:5000])
                 if index % drift_every and app.available(sku, location) != store_quantity(index, 0)]
    ctx.say(f"  check: {len(drifted) - len(wrong):,}/{len(drifted):,} drifted SKUs now equal the ERP's sellable "
            f"quantity; {len(untouched)} of the first 5,000 undrifted SKUs changed: "
            + ("[green]OK[/]" if not wrong and not untouched else f"[red]MISMATCH[/] e.g. {wrong[:3]} {untouched[:3]}"))

    per_sku = baseline_per_sku(ctx, n_sample=30 if ctx.quick else 100)
    baseline_s = max(per_sku["seconds"] * len(drifted),
                     (per_sku["points"] * len(drifted) - BUCKET) / RESTORE_RATE)
    baseline_points = per_sku["points"] * len(drifted)
    ctx.say(f"  baseline SKU by SKU extrapolated to {len(drifted):,} SKUs: max({per_sku['seconds'] * 1000:.1f} ms x n, "
            f"({per_sku['points']:.1f} points x n - {BUCKET:.0f}) / {RESTORE_RATE:.0f}/s) = {fmt(baseline_s)} s, "
            f"{per_sku['calls'] * len(drifted):,.0f} calls, {baseline_points:,.0f} points")
    return [
        Figure(NAME, f"wall time, {n_skus:,} SKUs / {len(drifted):,} drifted", wall, "s", baseline_s,
               "SKU-by-SKU, extrapolated", note="real sleeping on the sandbox clock"),
        Figure(NAME, "API calls", calls, "calls", per_sku["calls"] * len(drifted), "SKU-by-SKU, extrapolated"),
        Figure(NAME, "cost points spent", points, "points", baseline_points, "SKU-by-SKU, extrapolated"),
        Figure(NAME, "cost points vs export + writes minimum", points, "points", minimum_points,
               "export + writes only"),
        Figure(NAME, "wall time vs rate-limit floor of points spent", wall, "s", floor_s,
               "(points - bucket) / 100 per s"),
        Figure(NAME, "drifted SKUs verified equal to ERP", len(drifted) - len(wrong), "SKUs", len(drifted),
               "drifted"),
    ]


def baseline_per_sku(ctx: Context, n_sample: int) -> dict[str, float]:
    """One inventorySetQuantities per SKU (its SKU lookup included), on a fresh sandbox of 1,000 SKUs."""
    from synchub.models import StockUpdate

    from tests.fakes import InMemoryMappingStore

    app, location, skus = sandbox(1000)
    front = storefront(app, location, InMemoryMappingStore())
    sample = skus[:n_sample]
    started = time.monotonic()
    for index, sku in enumerate(sample):
        before = store_quantity(index, 0)
        [result] = front.set_available([StockUpdate(sku=sku, location_id=location, available=before + 3,
                                                    expected=before)], idempotency_key=f"baseline:{sku}")
        if not result.ok:
            raise AssertionError(f"baseline write failed for {sku}: {result.reason}")
    seconds = time.monotonic() - started
    per_sku = {"seconds": seconds / n_sample, "calls": front.admin.calls / n_sample,
               "points": front.admin.cost_spent / n_sample}
    ctx.say(f"  baseline sample: {n_sample} SKUs one by one in {fmt(seconds)} s, {front.admin.calls} calls, "
            f"{front.admin.cost_spent:.0f} points ({per_sku['points']:.1f}/SKU), paced {front.admin.paced_seconds:.1f} s")
    return per_sku
