"""Issue 11: Business Central API calls per new order, against the API minimum.

Distinct orders (tests.bench.bench_orders.OrderFactory: every customer places two orders) through
sync_order_to_erp with BusinessCentralErp against the Business Central sandbox in-process (its per-user window
raised so the count is about calls, not pacing). HTTP requests counted by VendorHttp.calls; Entra token requests
are counted apart (msal caches the token for its lifetime, so a warm function fetches none).

API minimum for a new order, by API v2.0 and our guarantees: find the order by externalDocumentNumber (crash
safety), look the items up (one `or` filter), one deep insert of the order with its lines; plus, for a new
customer, find it by No. and create it (no upsert): 5 for a new customer, 3 for a returning one.
"""
from __future__ import annotations

import time
import uuid

from tests.bench import Context, Figure, quiet
from tests.bench.bench_orders import CATALOG, OrderFactory

NAME = "business_central"
TITLE = "Business Central: API calls per new order against the API minimum"
MINIMUM = {"new customer": 5, "returning customer": 3}


def run(ctx: Context) -> list[Figure]:
    with quiet():
        return calls_per_order(ctx, 50 if ctx.quick else 500)


def calls_per_order(ctx: Context, count: int) -> list[Figure]:
    import httpx
    from synchub.connectors.business_central.erp import business_central_erp_from_config
    from synchub.connectors.business_central.settings import BusinessCentralSettings
    from synchub.connectors.shopify.mapping import ShopifyPayloads
    from synchub.flows.orders import sync_order_to_erp

    from infra.local.sandboxes.business_central import create_app
    from tests.fakes import InMemoryMappingStore

    app = create_app("bench-client", "bench-secret", requests_per_window=100_000_000)
    settings = BusinessCentralSettings(tenant="synchub.onmicrosoft.com", company_id=app.company_id,
                                       api_url="http://bc.bench", authority_url="http://login.bench",
                                       tax_code="NONTAXABLE")
    erp = business_central_erp_from_config(settings, {"client_id": "bench-client", "client_secret": "bench-secret"},
                                           http_client=httpx.Client(transport=httpx.WSGITransport(app=app)))
    erp.resolve_products([p["sku"] for p in CATALOG["products"]])  # the first token, outside the counts
    mappings, payloads = InMemoryMappingStore(), ShopifyPayloads()
    orders = OrderFactory(uuid.uuid4().hex[:6])
    calls: dict[str, list[int]] = {}
    started, tokens = time.perf_counter(), app.tokens_issued
    for index in range(count):
        group = "new customer" if index % 2 == 0 else "returning customer"
        before = erp.client.http.calls
        outcome = sync_order_to_erp(orders.envelope(index), payloads=payloads, sales_orders=erp, products=erp,
                                    customers=erp, mappings=mappings)
        if outcome.action != "applied":
            raise AssertionError(f"order {index} not applied: {outcome}")
        calls.setdefault(group, []).append(erp.client.http.calls - before)
    elapsed = time.perf_counter() - started
    ctx.say(f"  {count} distinct orders ({count // 2} customers, two orders each): {len(app.records('salesOrders'))} BC "
            f"sales orders, {app.tokens_issued - tokens} Entra tokens fetched after the first, "
            f"{elapsed / count * 1000:.1f} ms per order in-process")
    figures = []
    for group, counts in calls.items():
        ctx.say(f"  {group}: {sum(counts) / len(counts):.2f} calls (min {min(counts)}, max {max(counts)})")
        figures.append(Figure(NAME, f"Business Central calls per new order, {group}", sum(counts) / len(counts),
                              "calls", MINIMUM[group], "API minimum", goal_ratio=1.1))
    return figures
