"""WooCommerce REST v3 client: base URL, Basic auth, pagination headers, error body, retries."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
from synchub.connectors.http import RetryPolicy
from synchub.connectors.woocommerce.client import (
    WooCommerceClient,
    api_base_url,
    error_code,
    woocommerce_http_client,
)
from synchub.connectors.woocommerce.settings import WooCommerceSettings
from synchub.errors import TransientError, VendorError, VendorRejected

from infra.local.sandboxes.woocommerce import create_app

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "woocommerce" / "rest"
SECRET = {"consumer_key": "ck_live_1", "consumer_secret": "cs_live_1"}


def _store(**overrides: str) -> WooCommerceSettings:
    return WooCommerceSettings(**{"domain": "shop.example.com", **overrides})


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def sandbox():
    return create_app(SECRET["consumer_key"], SECRET["consumer_secret"], seed=False)


@pytest.fixture
def client(sandbox, sleeps) -> WooCommerceClient:
    http_client = httpx.Client(transport=httpx.WSGITransport(app=sandbox))
    return WooCommerceClient.for_store(_store(), SECRET, http_client=http_client, policy=RetryPolicy(sleep=sleeps))


def _mock_client(handler, **options) -> WooCommerceClient:
    http_client = woocommerce_http_client(api_base_url(_store()), SECRET["consumer_key"], SECRET["consumer_secret"],
                                          transport=httpx.MockTransport(handler), **options)
    return WooCommerceClient.for_store(_store(), SECRET, http_client=http_client, policy=RetryPolicy(sleep=Sleeps()))


def test_requests_go_to_the_site_api_base_with_basic_auth_of_key_and_secret() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": 14, "sku": "MUG-CER-01"})

    _mock_client(handler).get("products/14")

    expected = "Basic " + base64.b64encode(b"ck_live_1:cs_live_1").decode()
    assert str(seen[0].url) == "https://shop.example.com/wp-json/wc/v3/products/14"
    assert seen[0].headers["authorization"] == expected


def test_query_string_auth_sends_credentials_as_parameters_for_hosts_that_strip_authorization() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    _mock_client(handler, query_string_auth=True).get("products", {"sku": "MUG-CER-01"})

    assert "authorization" not in seen[0].headers
    assert seen[0].url.params["consumer_key"] == "ck_live_1"
    assert seen[0].url.params["consumer_secret"] == "cs_live_1"
    assert seen[0].url.params["sku"] == "MUG-CER-01"


@pytest.mark.parametrize(("domain", "api_url", "base"), [
    ("shop.example.com", None, "https://shop.example.com/wp-json/wc/v3/"),
    ("https://example.com/shop/", None, "https://example.com/shop/wp-json/wc/v3/"),
    ("shop.example.com", "http://127.0.0.1:8082", "http://127.0.0.1:8082/wp-json/wc/v3/"),
    ("shop.example.com", "http://127.0.0.1:8082/wp-json/wc/v3", "http://127.0.0.1:8082/wp-json/wc/v3/"),
])
def test_api_base_comes_from_api_url_else_the_site_url(domain: str, api_url: str | None, base: str) -> None:
    assert api_base_url(_store(domain=domain, api_url=api_url)) == base


def test_basic_auth_over_plain_http_to_a_remote_site_is_refused() -> None:
    with pytest.raises(ValueError, match="HTTPS"):
        woocommerce_http_client("http://shop.example.com/wp-json/wc/v3/", "ck", "cs")


def test_a_collection_is_walked_page_by_page_until_x_wp_totalpages(sandbox, client) -> None:
    for n in range(250):
        sandbox.add_product(f"SKU-{n:03d}", n)

    pages = list(client.iter_pages("products"))

    assert [len(page) for page in pages] == [100, 100, 50]
    assert [item["sku"] for page in pages for item in page] == [f"SKU-{n:03d}" for n in range(250)]
    assert sandbox.requests == [("GET", "/wp-json/wc/v3/products")] * 3


def test_a_smaller_page_size_is_sent_as_per_page() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = int(request.url.params["page"])
        return httpx.Response(200, json=[{"id": page}], headers={"X-WP-Total": "2", "X-WP-TotalPages": "2"})

    client = _mock_client(handler)
    client.per_page = 1
    assert [item["id"] for item in client.iter_all("orders")] == [1, 2]
    assert [(r.url.params["per_page"], r.url.params["page"]) for r in seen] == [("1", "1"), ("1", "2")]


def test_woocommerce_error_body_becomes_vendor_rejected_carrying_its_code(client) -> None:
    with pytest.raises(VendorRejected) as raised:
        client.get("products/999")

    assert raised.value.status == 404
    assert error_code(raised.value) == "woocommerce_rest_product_invalid_id"
    assert raised.value.body == json.loads((SAMPLES / "error_product_invalid_id.json").read_text())


def test_wrong_consumer_secret_is_rejected_with_the_authentication_error(sandbox) -> None:
    http_client = httpx.Client(transport=httpx.WSGITransport(app=sandbox))
    client = WooCommerceClient.for_store(_store(), {"consumer_key": "ck_live_1", "consumer_secret": "wrong"},
                                         http_client=http_client, policy=RetryPolicy(sleep=Sleeps()))
    with pytest.raises(VendorRejected) as raised:
        client.get("products")
    assert raised.value.status == 401
    assert error_code(raised.value) == "woocommerce_rest_authentication_error"


def test_server_errors_are_retried_and_the_request_then_succeeds(sandbox, client, sleeps) -> None:
    sandbox.add_product("MUG-CER-01", 3)
    sandbox.fail_next(2, status=503)

    products = client.get("products", {"sku": "MUG-CER-01"})

    assert [p["stock_quantity"] for p in products] == [3]
    assert len(sleeps) == 2


def test_an_outlasting_outage_ends_in_a_transient_error(sandbox, client) -> None:
    sandbox.fail_next(10, status=502)
    with pytest.raises(TransientError) as raised:
        client.get("products")
    assert raised.value.reason == "vendor_unavailable"


def test_a_429_waits_for_retry_after(sandbox, client, sleeps) -> None:
    sandbox.fail_next(1, status=429, retry_after=7)
    assert client.get("products") == []
    assert sleeps == [7.0]


def test_a_batch_over_100_items_is_refused_before_it_is_sent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be sent")

    with pytest.raises(ValueError, match="100"):
        _mock_client(handler).batch("products", update=[{"id": n, "stock_quantity": 1} for n in range(101)])


def test_a_success_status_with_an_html_body_is_a_vendor_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>Briefly unavailable for scheduled maintenance.</html>")

    with pytest.raises(VendorError, match="not JSON"):
        _mock_client(handler).get("products")
