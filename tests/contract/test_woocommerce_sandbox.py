"""The WooCommerce sandbox keeps WooCommerce's REST v3 contract: auth, limits, paging, errors, stock."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest

from infra.local.sandboxes.woocommerce import create_app

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "events" / "woocommerce" / "rest"
AUTH = ("ck_sandbox_1", "cs_sandbox_1")


@pytest.fixture
def shop():
    return create_app(*AUTH)


def _http(app, auth: tuple[str, str] | None = AUTH) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app), auth=auth,
                        base_url="http://127.0.0.1/wp-json/wc/v3/")


def test_it_is_seeded_with_the_demo_catalogue_skus_and_stock(shop) -> None:
    catalogue = json.loads((ROOT / "infra" / "local" / "demo_catalog.json").read_text())

    products = _http(shop).get("products", params={"per_page": 100}).json()

    assert {p["sku"]: p["stock_quantity"] for p in products} == {p["sku"]: p["stock"] for p in catalogue["products"]}
    assert all(p["manage_stock"] and p["type"] == "simple" for p in products)


def test_a_batch_of_101_items_is_refused_with_413_and_nothing_changes(shop) -> None:
    ids = [p["id"] for p in _http(shop).get("products", params={"per_page": 100}).json()]
    update = [{"id": ids[n % len(ids)], "stock_quantity": 1} for n in range(101)]

    response = _http(shop).post("products/batch", json={"update": update})

    assert response.status_code == 413
    assert response.json() == json.loads((SAMPLES / "error_batch_too_large.json").read_text())
    assert shop.stock("MUG-CER-01") == 300


def test_the_batch_limit_counts_create_update_and_delete_together(shop) -> None:
    response = _http(shop).post("products/batch", json={"create": [{"name": f"N{n}"} for n in range(60)],
                                                        "delete": list(range(41))})
    assert response.status_code == 413


def test_a_batch_reports_a_bad_item_in_its_place_and_applies_the_others(shop) -> None:
    mug = _http(shop).get("products", params={"sku": "MUG-CER-01"}).json()[0]

    answer = _http(shop).post("products/batch", json={"update": [
        {"id": 999999, "stock_quantity": 1}, {"id": mug["id"], "manage_stock": True, "stock_quantity": 7}]}).json()

    assert answer["update"][0] == {"id": 999999, "error": {
        "code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.", "data": {"status": 400}}}
    assert answer["update"][1]["stock_quantity"] == 7 and shop.stock("MUG-CER-01") == 7


def test_wrong_credentials_get_401_authentication_error(shop) -> None:
    response = _http(shop, auth=("ck_sandbox_1", "nope")).get("products")

    assert response.status_code == 401
    assert response.json() == {"code": "woocommerce_rest_authentication_error",
                               "message": "Consumer secret is invalid.", "data": {"status": 401}}


def test_missing_credentials_cannot_list(shop) -> None:
    response = _http(shop, auth=None).get("products")
    assert (response.status_code, response.json()["code"]) == (401, "woocommerce_rest_cannot_view")


def test_query_string_credentials_are_accepted(shop) -> None:
    response = _http(shop, auth=None).get("products", params={"consumer_key": AUTH[0], "consumer_secret": AUTH[1]})
    assert response.status_code == 200


def test_an_unknown_product_is_404_invalid_id(shop) -> None:
    response = _http(shop).get("products/424242")
    assert response.status_code == 404
    assert response.json() == json.loads((SAMPLES / "error_product_invalid_id.json").read_text())


def test_listing_pages_carry_wordpress_pagination_headers() -> None:
    shop = create_app(*AUTH, seed=False)
    for n in range(250):
        shop.add_product(f"SKU-{n:03d}", n)

    response = _http(shop).get("products", params={"per_page": 100, "page": 2, "orderby": "id", "order": "asc"})

    assert (response.headers["X-WP-Total"], response.headers["X-WP-TotalPages"]) == ("250", "3")
    assert [p["sku"] for p in response.json()] == [f"SKU-{n:03d}" for n in range(100, 200)]
    links = {rel: httpx.URL(link["url"]).params for rel, link in response.links.items()}
    assert (links["prev"]["page"], links["next"]["page"]) == ("1", "3")
    assert links["next"]["orderby"] == "id" and links["next"]["per_page"] == "100"


def test_per_page_above_100_is_an_invalid_parameter(shop) -> None:
    response = _http(shop).get("products", params={"per_page": 101})
    assert (response.status_code, response.json()["code"]) == (400, "rest_invalid_param")


def test_a_sku_search_finds_variations_with_their_parent(shop) -> None:
    parent, _ = shop.add_variable_product("Organic tee, red", {"TEE-RED-S": 5, "TEE-RED-M": 7})

    found = _http(shop).get("products", params={"sku": "TEE-RED-M,MUG-CER-01", "_fields": "id,sku,type,parent_id"}).json()
    listed = _http(shop).get("products", params={"per_page": 100}).json()

    assert sorted((p["sku"], p["type"], p["parent_id"]) for p in found) == [
        ("MUG-CER-01", "simple", 0), ("TEE-RED-M", "variation", parent)]
    assert set(found[0]) == {"id", "sku", "type", "parent_id"}
    assert "TEE-RED-M" not in {p["sku"] for p in listed}  # a plain listing holds products, not variations


def test_variation_stock_is_set_through_the_variations_batch(shop) -> None:
    parent, ids = shop.add_variable_product("Organic tee, red", {"TEE-RED-S": 5})

    answer = _http(shop).post(f"products/{parent}/variations/batch", json={
        "update": [{"id": ids["TEE-RED-S"], "manage_stock": True, "stock_quantity": 0}]}).json()

    assert answer["update"][0]["stock_status"] == "outofstock"
    assert shop.stock("TEE-RED-S") == 0


def test_a_paid_order_takes_stock_and_cancelling_it_gives_it_back(shop) -> None:
    http = _http(shop)
    mug = http.get("products", params={"sku": "MUG-CER-01"}).json()[0]

    order = http.post("orders", json={"set_paid": True, "billing": {"email": "ana@example.com"},
                                      "line_items": [{"product_id": mug["id"], "quantity": 3}]}).json()
    assert (order["status"], order["line_items"][0]["sku"], order["total"]) == ("processing", "MUG-CER-01", "43.50")
    assert shop.stock("MUG-CER-01") == 297

    http.put(f"orders/{order['id']}", json={"status": "completed"})
    assert shop.stock("MUG-CER-01") == 297  # taken once only
    cancelled = http.put(f"orders/{order['id']}", json={"status": "cancelled"}).json()
    assert cancelled["status"] == "cancelled" and shop.stock("MUG-CER-01") == 300
    assert http.get(f"orders/{order['id']}").json()["status"] == "cancelled"


def test_customers_are_created_found_by_email_and_updated(shop) -> None:
    http = _http(shop)
    created = http.post("customers", json={"email": "ana@example.com", "first_name": "Ana"})
    duplicate = http.post("customers", json={"email": "ANA@example.com"})
    found = http.get("customers", params={"email": "ana@example.com"}).json()
    updated = http.put(f"customers/{created.json()['id']}", json={"last_name": "Lima"}).json()

    assert created.status_code == 201
    assert (duplicate.status_code, duplicate.json()["code"]) == (400, "registration-error-email-exists")
    assert [c["id"] for c in found] == [created.json()["id"]]
    assert (updated["first_name"], updated["last_name"]) == ("Ana", "Lima")
    assert http.get("customers/9999").json()["code"] == "woocommerce_rest_invalid_id"


def test_the_state_route_and_set_stock_show_what_tests_arranged(shop) -> None:
    shop.set_stock("CAP-NVY-OS", 3)

    state = httpx.Client(transport=httpx.WSGITransport(app=shop)).get("http://127.0.0.1/_sandbox/state").json()

    assert {p["sku"]: p["stock_quantity"] for p in state["products"]}["CAP-NVY-OS"] == 3


def test_concurrent_orders_take_exactly_their_stock(shop) -> None:
    mug_id = _http(shop).get("products", params={"sku": "MUG-CER-01"}).json()[0]["id"]

    def buy_ten() -> None:
        http = _http(shop)
        for _ in range(10):
            http.post("orders", json={"status": "processing", "line_items": [{"product_id": mug_id, "quantity": 1}]})

    threads = [threading.Thread(target=buy_ten) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert shop.stock("MUG-CER-01") == 260
    assert len(shop.state()["orders"]) == 40
