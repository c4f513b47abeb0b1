"""Issue 11: NetSuite ERP calls per new order, through sync_order_to_erp with NetSuiteErp (OAuth 2.0 M2M) against
the NetSuite sandbox in-process; distinct orders from events/shopify/orders_create (bench_orders' factory), every
customer placing two. HTTP requests counted by VendorHttp.calls, plus the M2M token requests.

API minimum per new order: GET salesOrder/eid:<ref> (crash safety) + SuiteQL item lookup + POST salesOrder (created
approved, 204 + Location) = 3 for a known customer; + PUT customer/eid:<ref> (upsert, one call) = 4 for a new one.
Per-process lookups (the warehouse's location, the currency, the service items, the first token, governanceLimits) are made once, outside the count.
"""
from __future__ import annotations

import uuid

from tests.bench import Context, Figure, quiet

NAME = "netsuite_orders"
TITLE = "orders: NetSuite ERP calls per new order against the API minimum"
MINIMUM = {"new customer": 4, "returning customer": 3}
GOAL = 1.1


def run(ctx: Context) -> list[Figure]:
    with quiet():
        return calls_per_order(ctx, 40 if ctx.quick else 400)


def calls_per_order(ctx: Context, count: int) -> list[Figure]:
    import httpx
    from synchub.connectors.netsuite.erp import netsuite_erp_from_config
    from synchub.connectors.netsuite.settings import NetSuiteSettings
    from synchub.connectors.shopify.mapping import ShopifyPayloads
    from synchub.flows.orders import sync_order_to_erp

    from infra.local.sandboxes.netsuite import create_app
    from tests.bench.bench_orders import OrderFactory
    from tests.fakes import InMemoryMappingStore
    from tests.netsuite_keys import m2m, m2m_secret

    app = create_app("123456_SB1", m2m=m2m())
    config = NetSuiteSettings(account_id="123456_SB1", jwt_algorithm="ES256",
                              api_url="https://123456-sb1.suitetalk.api.netsuite.com/services/rest")
    erp = netsuite_erp_from_config(config, m2m_secret(), http_client=httpx.Client(transport=httpx.WSGITransport(app=app)))
    erp.resolve_products([])  # the first token and the service items, once per process
    erp._location(config.warehouses[0])
    erp._currency("USD")

    def spent() -> int:
        return erp.client.http.calls + getattr(erp.client.auth, "tokens_issued", 0)

    mappings, payloads, orders = InMemoryMappingStore(), ShopifyPayloads(), OrderFactory(uuid.uuid4().hex[:6])
    calls: dict[str, list[int]] = {}
    for index in range(count):
        envelope = orders.envelope(index)
        group = "new customer" if index % 2 == 0 else "returning customer"
        before = spent()
        outcome = sync_order_to_erp(envelope, payloads=payloads, sales_orders=erp, products=erp, customers=erp,
                                    mappings=mappings)
        if outcome.action != "applied":
            raise AssertionError(f"order {index} not applied: {outcome}")
        calls.setdefault(group, []).append(spent() - before)
    approved = [sale for sale in app.sales_orders() if sale["orderStatus"]["id"] == "B"]
    ctx.say(f"  {count} distinct orders ({count // 2} customers, two orders each): {len(approved)} approved NetSuite "
            f"sales orders, {len(app.customers())} customers in the sandbox")
    figures = []
    for group, counts in calls.items():
        average = sum(counts) / len(counts)
        figures.append(Figure(NAME, f"NetSuite calls per new order, {group}", average, "calls", MINIMUM[group],
                              "API minimum", goal_ratio=GOAL))
        ctx.say(f"  {group}: {average:.2f} calls per order (min {min(counts)}, max {max(counts)}), "
                f"API minimum {MINIMUM[group]}")
    return figures
