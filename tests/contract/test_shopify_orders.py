"""The Shopify order fetch (RecordFetcher) against the sandbox's GraphQL Admin API: `order(id:)` posted to the
versioned endpoint with the access token, read back in the REST webhook shape, before and after an order edit."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from synchub.connectors.shopify.admin import ShopifyAdmin
from synchub.connectors.shopify.mapping import ShopifyPayloads
from synchub.connectors.shopify.orders import ShopifyOrders

from infra.local.sandboxes.shopify import ShopifySandbox, create_app
from tests.eventdata import load_json

CATALOG = Path(__file__).resolve().parents[2] / "infra" / "local" / "demo_catalog.json"
TOKEN = "shpat_orders"


@pytest.fixture
def sandbox() -> ShopifySandbox:
    return create_app(TOKEN, "orders.myshopify.com", catalog=CATALOG)


def orders_over(app: Any, seen: list[httpx.Request]) -> ShopifyOrders:
    transport = httpx.WSGITransport(app=app)

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return transport.handle_request(request)

    client = httpx.Client(transport=httpx.MockTransport(record))
    return ShopifyOrders(ShopifyAdmin(client, shop_url="https://orders.myshopify.com", api_version="2026-01",
                                      access_token=TOKEN))


def lines(order: Any) -> list[tuple[str | None, int]]:
    return [(line.sku, line.quantity) for line in order.lines]


def test_an_order_is_fetched_by_id_with_one_query_and_maps_like_its_webhook(sandbox: ShopifySandbox) -> None:
    placed = sandbox.add_order(load_json("shopify/orders_create"))
    seen: list[httpx.Request] = []

    fetched = orders_over(sandbox, seen).fetch("order", str(placed["id"]))

    [request] = seen
    assert request.method == "POST" and request.url.path == "/admin/api/2026-01/graphql.json"
    assert request.headers["X-Shopify-Access-Token"] == TOKEN
    body = json.loads(request.content)
    assert body["variables"]["id"] == f"gid://shopify/Order/{placed['id']}" and "currentQuantity" in body["query"]
    assert fetched is not None and fetched["id"] == placed["id"]
    mapped, webhook = ShopifyPayloads().order("main", fetched), ShopifyPayloads().order("main", placed)
    assert lines(mapped) == lines(webhook) == [("TEE-BLK-M", 2), ("MUG-CER-01", 1), ("HOOD-GRY-M", 1)]
    assert (mapped.total, mapped.total_tax, mapped.subtotal, mapped.total_discount, mapped.total_shipping) == (
        webhook.total, webhook.total_tax, webhook.subtotal, webhook.total_discount, webhook.total_shipping)
    assert (mapped.reference, mapped.currency, mapped.email, mapped.financial_status) == (
        webhook.reference, webhook.currency, webhook.email, webhook.financial_status)
    assert mapped.updated_at == webhook.updated_at and mapped.created_at == webhook.created_at
    assert mapped.customer is not None and mapped.customer.source_id == webhook.customer.source_id
    assert mapped.shipping_address == webhook.shipping_address
    assert [line.unit_price for line in mapped.lines] == [line.unit_price for line in webhook.lines]


def test_after_an_edit_the_fetch_has_the_current_quantities_the_new_line_and_the_current_total(
        sandbox: ShopifySandbox) -> None:
    placed = sandbox.add_order(load_json("shopify/orders_create"))
    ids = {line["sku"]: line["id"] for line in placed["line_items"]}

    edit, edited = sandbox.edit_order(placed["id"], quantities={ids["TEE-BLK-M"]: 3, ids["MUG-CER-01"]: 0},
                                      add=[{"sku": "CAP-NVY-OS", "quantity": 1}])
    fetched = orders_over(sandbox, []).fetch("order", str(placed["id"]))

    assert edit["order_edit"]["order_id"] == placed["id"]
    assert edit["order_edit"]["line_items"]["removals"] == [{"id": ids["MUG-CER-01"], "delta": 1}]
    assert {"id": ids["TEE-BLK-M"], "delta": 1} in edit["order_edit"]["line_items"]["additions"]
    mug = next(line for line in fetched["line_items"] if line["sku"] == "MUG-CER-01")
    assert (mug["quantity"], mug["current_quantity"]) == (1, 0)
    order = ShopifyPayloads().order("main", fetched)
    assert lines(order) == [("TEE-BLK-M", 3), ("HOOD-GRY-M", 1), ("CAP-NVY-OS", 1)]
    assert order.total.amount == Decimal(edited["current_total_price"]) != Decimal(placed["total_price"])
    assert order.updated_at > ShopifyPayloads().order("main", placed).updated_at


def test_an_order_the_shop_does_not_have_is_none(sandbox: ShopifySandbox) -> None:
    assert orders_over(sandbox, []).fetch("order", "987654321") is None


def test_the_fetch_stays_within_the_single_query_cost_ceiling(sandbox: ShopifySandbox) -> None:
    placed = sandbox.add_order(load_json("shopify/orders_create"))
    fetcher = orders_over(sandbox, [])
    fetcher.fetch("order", str(placed["id"]))
    assert 0 < fetcher.admin.cost_requested <= 1000 and fetcher.admin.throttled == 0


def test_a_bad_token_is_refused_not_read_as_a_missing_order(sandbox: ShopifySandbox) -> None:
    from synchub.errors import VendorRejected

    placed = sandbox.add_order(load_json("shopify/orders_create"))
    client = httpx.Client(transport=httpx.WSGITransport(app=sandbox))
    fetcher = ShopifyOrders(ShopifyAdmin(client, shop_url="https://orders.myshopify.com", api_version="2026-01",
                                         access_token="shpat_wrong"))
    with pytest.raises(VendorRejected) as caught:
        fetcher.fetch("order", str(placed["id"]))
    assert caught.value.status == 401


@pytest.mark.parametrize("sample", ["shopify/orders_create_tip_duties", "shopify/orders_create_gift_card"])
def test_the_fetched_order_carries_the_parts_of_its_total(sandbox: ShopifySandbox, sample: str) -> None:
    """Tip, duties and a gift card sold come back through `order(id:)` as in the webhook, so a fetched order
    (after an edit) still adds up to its total."""
    payload = load_json(sample)
    for line in payload["line_items"]:
        if line.get("sku") and not line.get("gift_card"):
            line["sku"] = "TEE-BLK-M"  # a catalogue SKU of the sandbox
    placed = sandbox.add_order(payload)

    fetched = orders_over(sandbox, []).fetch("order", str(placed["id"]))

    assert fetched is not None
    mapped, webhook = ShopifyPayloads().order("main", fetched), ShopifyPayloads().order("main", placed)
    assert (mapped.total, mapped.total_tip, mapped.total_duties) == (webhook.total, webhook.total_tip,
                                                                     webhook.total_duties)
    assert [line.gift_card for line in mapped.lines] == [line.gift_card for line in webhook.lines]
    assert mapped.total_tip.amount + mapped.total_duties.amount + sum(
        (line.gift_card for line in mapped.lines), 0) > 0  # the sample really has a part to lose
