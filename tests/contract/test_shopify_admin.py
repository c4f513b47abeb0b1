"""ShopifyAdmin against Shopify's documented GraphQL wire shapes: endpoint, auth header, cost-based pacing,
THROTTLED inside a 200, GraphQL errors, and the 401 for a bad token."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from synchub.connectors.http import RetryPolicy
from synchub.connectors.shopify.admin import ShopifyAdmin
from synchub.errors import TransientError, VendorRejected

from infra.local.sandboxes.shopify import create_app

EVENTS = Path(__file__).resolve().parents[2] / "events" / "shopify" / "admin_graphql"
CATALOG = Path(__file__).resolve().parents[2] / "infra" / "local" / "demo_catalog.json"
SHOP = "https://demo-shop.myshopify.com"
QUERY = "query SkuLookup($first: Int!, $query: String!) { productVariants(first: $first, query: $query) " \
        "{ nodes { sku inventoryItem { id } } } }"


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


class Replies:
    """A MockTransport handler answering with the given bodies in turn and keeping every request."""

    def __init__(self, *bodies: tuple[int, dict[str, Any]]) -> None:
        self.bodies = list(bodies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, body = self.bodies.pop(0) if len(self.bodies) > 1 else self.bodies[0]
        return httpx.Response(status, json=body)


def admin_over(handler: Any, sleeps: list[float], **kw: Any) -> ShopifyAdmin:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return ShopifyAdmin(client, shop_url=SHOP, api_version="2026-01", access_token="shpat_test",
                        policy=RetryPolicy(sleep=sleeps.append, max_attempts=kw.pop("max_attempts", 5)), **kw)


def test_query_is_posted_to_the_versioned_endpoint_with_the_access_token_header() -> None:
    replies = Replies((200, load("sku_lookup_low_bucket.json")))
    admin = admin_over(replies, [])

    data = admin.execute(QUERY, {"first": 1, "query": 'sku:"TEE-BLK-M"'})

    request = replies.requests[0]
    assert request.method == "POST"
    assert str(request.url) == f"{SHOP}/admin/api/2026-01/graphql.json"
    assert request.headers["X-Shopify-Access-Token"] == "shpat_test"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {"query": QUERY, "variables": {"first": 1, "query": 'sku:"TEE-BLK-M"'}}
    assert data["productVariants"]["nodes"][0]["sku"] == "TEE-BLK-M"


def test_throttled_answer_in_a_200_is_retried_after_the_cost_deficit_drains() -> None:
    ok = load("sku_lookup_low_bucket.json")
    ok["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] = 1000
    replies = Replies((200, load("throttled.json")), (200, ok))
    sleeps: list[float] = []
    admin = admin_over(replies, sleeps)

    data = admin.execute(QUERY, {"first": 1, "query": "sku:x"})

    # (requestedQueryCost 502 - currentlyAvailable 102) / restoreRate 100 = 4 s, then the query succeeds
    assert sleeps == [pytest.approx(4.0)]
    assert len(replies.requests) == 2
    assert admin.throttled == 1
    assert data["productVariants"]["nodes"]


def test_client_paces_itself_when_the_bucket_cannot_pay_for_another_such_query() -> None:
    replies = Replies((200, load("sku_lookup_low_bucket.json")))
    sleeps: list[float] = []
    admin = admin_over(replies, sleeps)

    admin.execute(QUERY, {"first": 1, "query": "sku:x"})

    # requested 300, available 100, restore rate 50/s: wait (300 - 100) / 50 = 4 s before the next call
    assert sleeps == [pytest.approx(4.0)]
    assert admin.paced_seconds == pytest.approx(4.0)
    assert admin.cost_spent == 6 and admin.throttle_status == {"maximumAvailable": 1000.0,
                                                               "currentlyAvailable": 100, "restoreRate": 50.0}


def test_no_wait_while_the_bucket_has_room() -> None:
    body = load("sku_lookup_low_bucket.json")
    body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] = 700
    sleeps: list[float] = []
    admin_over(Replies((200, body)), sleeps).execute(QUERY, {"first": 1, "query": "sku:x"})
    assert sleeps == []


def test_a_dearer_query_waits_for_the_bucket_before_it_is_sent() -> None:
    cheap = load("sku_lookup_low_bucket.json")
    cheap["extensions"]["cost"].update(requestedQueryCost=10, actualQueryCost=10)
    replies = Replies((200, cheap))
    sleeps: list[float] = []
    admin = admin_over(replies, sleeps)
    admin.execute(QUERY, {"first": 1, "query": "sku:x"})

    admin.execute(QUERY, {"first": 250, "query": "sku:x"}, cost=600)

    # 100 points left at 50 points/s: (600 - 100) / 50 = 10 s before the 600-point query goes out
    assert sleeps == [pytest.approx(10.0, abs=0.05)]
    assert len(replies.requests) == 2


def test_throttling_that_never_clears_ends_as_a_transient_error() -> None:
    sleeps: list[float] = []
    admin = admin_over(Replies((200, load("throttled.json"))), sleeps, max_attempts=3)

    with pytest.raises(TransientError) as caught:
        admin.execute(QUERY, {"first": 1, "query": "sku:x"})

    assert caught.value.reason == "throttled"
    assert caught.value.retry_after == pytest.approx(4.0)
    assert admin.calls == 3


def test_graphql_error_other_than_throttling_is_a_permanent_rejection() -> None:
    admin = admin_over(Replies((200, load("access_denied.json"))), [])

    with pytest.raises(VendorRejected) as caught:
        admin.execute("query Levels { inventoryItems(first: 1) { nodes { id } } }")

    assert caught.value.category == "ACCESS_DENIED"
    assert admin.calls == 1  # not retried


def test_wrong_access_token_is_rejected_by_the_sandbox_with_shopifys_401() -> None:
    app = create_app("shpat_right", "demo-shop.myshopify.com")
    client = httpx.Client(transport=httpx.WSGITransport(app=app))
    admin = ShopifyAdmin(client, shop_url=SHOP, api_version="2026-01", access_token="shpat_wrong",
                         policy=RetryPolicy(sleep=lambda _: None))

    with pytest.raises(VendorRejected) as caught:
        admin.execute("query Shop { locations(first: 1) { nodes { id } } }")

    assert caught.value.status == 401
    assert caught.value.body == load("invalid_token.json")


def test_cost_points_and_calls_are_counted_against_the_sandbox() -> None:
    app = create_app("shpat_test", "demo-shop.myshopify.com", catalog=CATALOG)
    client = httpx.Client(transport=httpx.WSGITransport(app=app))
    admin = ShopifyAdmin(client, shop_url=SHOP, api_version="2026-01", access_token="shpat_test",
                         policy=RetryPolicy(sleep=lambda _: None))

    admin.execute(QUERY, {"first": 10, "query": 'sku:"TEE-BLK-M" OR sku:"MUG-CER-01"'})

    # requested 2 + 10 x (variant 1 + inventoryItem 1) = 22; two variants came back: 2 + 2 x 2 = 6
    assert admin.cost_requested == 22 and admin.cost_spent == 6 == app.cost_spent
    assert admin.calls == 1 and admin.operations["SkuLookup"] == 1


def test_api_versions_without_compare_and_swap_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="2026-01"):
        ShopifyAdmin(httpx.Client(), shop_url=SHOP, api_version="2025-10", access_token="t")
