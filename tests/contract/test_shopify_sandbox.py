"""The Shopify sandbox keeps Shopify's documented contract: auth error, query cost, leaky bucket and THROTTLED,
compare-and-swap and idempotency of inventorySetQuantities, input caps, API-version differences, bulk queries."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.local.sandboxes.shopify import ShopifySandbox, create_app, seed_synthetic

CATALOG = Path(__file__).resolve().parents[2] / "infra" / "local" / "demo_catalog.json"
TOKEN = "shpat_sandbox"
SET = """mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) @idempotent(key: "%s") {
    inventoryAdjustmentGroup { id changes(quantityNames: ["available"]) { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}"""
LOOKUP = "query($q: String!) { productVariants(first: 10, query: $q) { nodes { sku inventoryItem { id } } } }"
RUN_BULK = "mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id status } " \
           "userErrors { field message code } } }"
POLL = "query($id: ID!) { node(id: $id) { ... on BulkOperation { status objectCount rootObjectCount url } } }"
INVENTORY_EXPORT = ('{ productVariants { edges { node { id sku inventoryItem { id inventoryLevels { edges { node '
                    '{ location { id } quantities(names: ["available"]) { name quantity } } } } } } } } }')


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def post(app: ShopifySandbox, query: str, variables: dict[str, Any] | None = None, *, token: str = TOKEN,
         version: str = "2026-01") -> httpx.Response:
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="https://demo.myshopify.com")
    return client.post(f"/admin/api/{version}/graphql.json", headers={"X-Shopify-Access-Token": token},
                       json={"query": query, "variables": variables or {}})


def set_input(app: ShopifySandbox, *quantities: tuple[str, int, int | None]) -> dict[str, Any]:
    location = app.locations()[0]["id"]
    return {"input": {"name": "available", "reason": "correction", "referenceDocumentUri": "synchub://test/1",
                      "quantities": [{"inventoryItemId": app.inventory_item_id(sku), "locationId": location,
                                      "quantity": quantity, "changeFromQuantity": change_from}
                                     for sku, quantity, change_from in quantities]}}


@pytest.fixture
def app() -> ShopifySandbox:
    return create_app(TOKEN, "demo.myshopify.com", clock=Clock(), catalog=CATALOG)


@pytest.mark.parametrize("token", ["", "shpat_wrong"])
def test_missing_or_wrong_token_gets_401_with_shopifys_body(app: ShopifySandbox, token: str) -> None:
    response = post(app, "{ locations(first: 1) { nodes { id } } }", token=token)

    assert response.status_code == 401
    assert response.json() == {"errors": "[API] Invalid API key or access token "
                                         "(unrecognized login or wrong password)"}


def test_query_cost_follows_the_documented_rules(app: ShopifySandbox) -> None:
    body = post(app, LOOKUP, {"q": 'sku:"TEE-BLK-M" OR sku:"MUG-CER-01"'}).json()

    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 2 + 10 * (1 + 1)  # connection 2 + 10 x (variant + inventoryItem)
    assert cost["actualQueryCost"] == 2 + 2 * (1 + 1)  # two variants came back
    assert cost["throttleStatus"] == {"maximumAvailable": 2000.0, "currentlyAvailable": 1994, "restoreRate": 100.0}
    assert {n["sku"] for n in body["data"]["productVariants"]["nodes"]} == {"TEE-BLK-M", "MUG-CER-01"}
    mutation = post(app, SET % "k-cost", set_input(app, ("TEE-BLK-M", 100, 120))).json()
    assert mutation["extensions"]["cost"]["requestedQueryCost"] == 10


def test_connections_need_first_or_last_and_at_most_250(app: ShopifySandbox) -> None:
    missing = post(app, "{ productVariants { nodes { sku } } }").json()
    too_many = post(app, "{ productVariants(first: 251) { nodes { sku } } }").json()

    assert missing["errors"][0]["message"] == "you must provide one of first or last"
    assert "250" in too_many["errors"][0]["message"]


def test_bucket_throttles_with_http_200_and_refills_at_the_restore_rate() -> None:
    clock = Clock()
    app = create_app(TOKEN, "tiny.myshopify.com", restore_rate=10.0, maximum_available=50.0, clock=clock,
                     catalog=CATALOG)
    query = {"q": "sku:TEE-BLK-M"}  # requested 22, actual 4: 18 refunded each time

    answers = [post(app, LOOKUP, query).json() for _ in range(2)]
    assert [a["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] for a in answers] == [46, 42]
    for _ in range(5):
        post(app, LOOKUP, query)
    throttled = post(app, LOOKUP, query)  # 50 - 7 x 4 = 22 left: still enough; then 18 < 22
    throttled = post(app, LOOKUP, query)

    assert throttled.status_code == 200
    body = throttled.json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED" and "data" not in body
    assert body["extensions"]["cost"]["requestedQueryCost"] == 22
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 18
    assert app.throttled == 1
    clock.now += 0.4  # 4 points restored at 10/s
    assert "errors" not in post(app, LOOKUP, query).json()


def test_query_over_the_single_query_maximum_is_refused(app: ShopifySandbox) -> None:
    body = post(app, "{ productVariants(first: 250) { nodes { inventoryItem { inventoryLevels(first: 10) "
                     "{ nodes { location { id } } } } } } }").json()

    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert app.cost_spent == 0


def test_stale_change_from_quantity_rejects_the_whole_call(app: ShopifySandbox) -> None:
    location = app.locations()[0]["id"]
    body = post(app, SET % "k-stale", set_input(app, ("TEE-BLK-M", 100, 120), ("TEE-BLK-L", 10, 79))).json()

    payload = body["data"]["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert payload["userErrors"] == [{"field": ["input", "quantities", "1", "changeFromQuantity"],
                                      "message": "The changeFromQuantity value does not match persisted value.",
                                      "code": "CHANGE_FROM_QUANTITY_STALE"}]
    assert (app.available("TEE-BLK-M", location), app.available("TEE-BLK-L", location)) == (120, 80)


def test_null_change_from_quantity_opts_out_of_the_check(app: ShopifySandbox) -> None:
    body = post(app, SET % "k-null", set_input(app, ("TEE-BLK-L", 5, None))).json()

    assert body["data"]["inventorySetQuantities"]["userErrors"] == []
    assert app.available("TEE-BLK-L", app.locations()[0]["id"]) == 5


def test_same_idempotency_key_and_input_returns_the_first_result_without_applying_again(app: ShopifySandbox) -> None:
    location = app.locations()[0]["id"]
    first = post(app, SET % "k-once", set_input(app, ("MUG-CER-01", 250, None))).json()
    app.set_available("MUG-CER-01", location, 249)  # a sale after the write

    again = post(app, SET % "k-once", set_input(app, ("MUG-CER-01", 250, None))).json()
    other = post(app, SET % "k-once", set_input(app, ("MUG-CER-01", 240, None))).json()

    assert again["data"] == first["data"]
    assert app.available("MUG-CER-01", location) == 249
    assert other["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"


def test_more_than_250_quantities_is_an_input_size_error(app: ShopifySandbox) -> None:
    many = set_input(app, *[("TEE-BLK-M", 1, None)] * 251)

    body = post(app, SET % "k-big", many).json()

    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert app.shop.groups == {}


def test_unknown_item_and_unstocked_location_are_user_errors(app: ShopifySandbox) -> None:
    variables = set_input(app, ("TEE-BLK-M", 1, None))
    variables["input"]["quantities"][0]["inventoryItemId"] = "gid://shopify/InventoryItem/1"

    body = post(app, SET % "k-unknown", variables).json()

    assert body["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == "INVALID_INVENTORY_ITEM"


def test_versions_before_2026_01_know_neither_change_from_quantity_nor_idempotent(app: ShopifySandbox) -> None:
    keyed = post(app, SET % "k-old", set_input(app, ("TEE-BLK-M", 1, 120)), version="2025-10").json()
    unkeyed = post(app, (SET % "x").replace(' @idempotent(key: "x")', ""), set_input(app, ("TEE-BLK-M", 1, 120)),
                   version="2025-10").json()

    assert "@idempotent" in keyed["errors"][0]["message"]
    assert "changeFromQuantity" in unkeyed["errors"][0]["message"]
    assert app.available("TEE-BLK-M", app.locations()[0]["id"]) == 120


def test_idempotency_is_mandatory_from_2026_04(app: ShopifySandbox) -> None:
    unkeyed = (SET % "x").replace(' @idempotent(key: "x")', "")

    body = post(app, unkeyed, set_input(app, ("TEE-BLK-M", 1, None)), version="2026-04").json()

    assert "@idempotent" in body["errors"][0]["message"]


def test_bulk_query_runs_created_running_completed_and_serves_jsonl_with_parent_ids() -> None:
    app = create_app(TOKEN, "bulk.myshopify.com", clock=Clock())
    app.seed(locations=["Main", "Outlet"])
    skus = seed_synthetic(app, 3, [p["id"] for p in app.locations()])

    started = post(app, RUN_BULK, {"q": INVENTORY_EXPORT}).json()["data"]["bulkOperationRunQuery"]
    statuses = [started["bulkOperation"]["status"]]
    polls = [post(app, POLL, {"id": started["bulkOperation"]["id"]}).json()["data"]["node"] for _ in range(2)]
    statuses += [p["status"] for p in polls]
    jsonl = httpx.Client(transport=httpx.WSGITransport(app=app)).get(polls[-1]["url"]).text
    lines = [json.loads(line) for line in jsonl.splitlines()]

    assert statuses == ["CREATED", "RUNNING", "COMPLETED"]
    assert polls[-1]["objectCount"] == "9" and polls[-1]["rootObjectCount"] == "3"  # UnsignedInt64 is a string
    variants = {line["id"]: line for line in lines if "__parentId" not in line}
    levels = [line for line in lines if "__parentId" in line]
    assert sorted(v["sku"] for v in variants.values()) == skus
    assert len(levels) == 6 and all(level["__parentId"] in variants for level in levels)
    assert "inventoryLevels" not in next(iter(variants.values()))["inventoryItem"]


def test_only_one_bulk_query_at_a_time_before_2026_01() -> None:
    app = create_app(TOKEN, "bulk.myshopify.com", clock=Clock(), catalog=CATALOG)
    query = {"q": "{ products { edges { node { id } } } }"}

    first = post(app, RUN_BULK, query, version="2025-10").json()["data"]["bulkOperationRunQuery"]
    second = post(app, RUN_BULK, query, version="2025-10").json()["data"]["bulkOperationRunQuery"]

    assert first["userErrors"] == []
    assert second["bulkOperation"] is None and second["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"


def test_bulk_query_rules_are_enforced(app: ShopifySandbox) -> None:
    no_parent_id = ("{ productVariants { edges { node { sku inventoryItem { inventoryLevels { edges { node "
                    "{ location { id } } } } } } } } }")
    not_a_connection = '{ product(id: "gid://shopify/Product/1") { id } }'

    for query in (no_parent_id, not_a_connection):
        errors = post(app, RUN_BULK, {"q": query}).json()["data"]["bulkOperationRunQuery"]["userErrors"]
        assert errors[0]["code"] == "INVALID" and errors[0]["field"] == ["query"]


def test_failed_bulk_operation_reports_its_error_code(app: ShopifySandbox) -> None:
    app.fail_next_bulk("TIMEOUT")
    started = post(app, RUN_BULK, {"q": INVENTORY_EXPORT}).json()["data"]["bulkOperationRunQuery"]

    polls = [post(app, POLL, {"id": started["bulkOperation"]["id"]}).json()["data"]["node"] for _ in range(2)]
    current = post(app, "{ currentBulkOperation { status errorCode url } }").json()["data"]["currentBulkOperation"]

    assert polls[-1]["status"] == "FAILED" and polls[-1]["url"] is None
    assert current == {"status": "FAILED", "errorCode": "TIMEOUT", "url": None}


def test_http_inspection_routes_show_and_change_stock(app: ShopifySandbox) -> None:
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="https://demo.myshopify.com")
    location = app.locations()[0]["id"]

    client.post("/_sandbox/inventory", json={"sku": "CAP-NVY-OS", "location_id": location, "available": 3})
    state = client.get("/_sandbox/state").json()

    assert client.get("/_sandbox/inventory", params={"sku": "CAP-NVY-OS", "location_id": location}).json()[
        "available"] == 3
    assert state["skus"] == 8 and state["locations"] == app.locations()


def test_seed_synthetic_stocks_every_sku_at_every_location() -> None:
    app = create_app(TOKEN, "synthetic.myshopify.com", clock=Clock())
    skus = seed_synthetic(app, 50, ["East", "West"], stock=lambda i, place: i + 100 * place)

    places = [p["id"] for p in app.locations()]
    assert [p["name"] for p in app.locations()] == ["East", "West"]
    assert app.available(skus[7], places[0]) == 7 and app.available(skus[7], places[1]) == 107
    found = post(app, LOOKUP, {"q": f'sku:"{skus[49]}"'}).json()["data"]["productVariants"]["nodes"]
    assert found == [{"sku": "SKU-000049", "inventoryItem": {"id": app.inventory_item_id("SKU-000049")}}]
