"""Published payment and refund bodies map to the canonical Payment and Refund: Shopify's REST refunds
(shopify-app-js fixtures), its GraphQL order transactions (shopify.dev), WooCommerce's REST refunds (its docs)."""
from __future__ import annotations

import json
from decimal import Decimal

import httpx
from synchub.connectors.shopify.admin import ShopifyAdmin
from synchub.connectors.shopify.payments import ShopifyOrderTransactions, payments_from_transactions
from synchub.connectors.shopify.refunds import shopify_refund
from synchub.connectors.woocommerce.client import WooCommerceClient
from synchub.connectors.woocommerce.payments import WooCommercePayments, woocommerce_payments, woocommerce_refund
from synchub.connectors.woocommerce.settings import WooCommerceSettings

from tests.eventdata import load_json


def test_shopify_legacy_restock_refund_keeps_lines_locations_and_the_money_returned() -> None:
    refund = shopify_refund("main", load_json("shopify/refunds_create_legacy_restock"))
    assert refund.reference == "main:refund:509562969" and refund.order_reference == "main:450789469"
    assert [(line.sku, line.quantity, line.amount.amount, line.restock, line.location) for line in refund.lines] == [
        ("IPOD2008BLACK", 1, Decimal("195.66"), True, "487838322"),
        ("IPOD2008GREEN", 1, Decimal("195.67"), True, "487838322")]
    assert refund.tax.amount == Decimal("7.96")
    assert refund.total.amount == Decimal("209.00")  # the refund transaction: the ERP balances the rest
    assert refund.gateway == "bogus"


def test_shopify_no_restock_refund_credits_money_only() -> None:
    refund = shopify_refund("main", load_json("shopify/refunds_create_no_restock"))
    assert [line.restock for line in refund.lines] == [False]
    assert refund.total.amount == Decimal("41.94")


def test_shopify_shipping_refund_counts_shipping_once() -> None:
    refund = shopify_refund("main", load_json("shopify/refunds_create_shipping"))
    assert refund.lines == () and refund.shipping.amount == Decimal("5.00")  # not again from order_adjustments
    assert refund.total.amount == Decimal("5.00")


def test_shopify_order_adjustment_shipping_refund_without_refund_shipping_lines() -> None:
    body = load_json("shopify/refunds_create_shipping")
    body["refund_shipping_lines"] = []
    assert shopify_refund("main", body).shipping.amount == Decimal("5.00")


def test_shopify_graphql_transactions_count_only_successful_sales_and_captures() -> None:
    data = load_json("shopify/admin_graphql/order_transactions")["data"]
    payments = payments_from_transactions("main", "148977776", data["order"]["transactions"])
    assert [(p.transaction_id, p.amount.amount, p.gateway) for p in payments] == [
        ("999225631", Decimal("11.5"), "bogus")]


def test_shopify_order_transactions_query_is_the_documented_request() -> None:
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=load_json("shopify/admin_graphql/order_transactions"))

    client = httpx.Client(transport=httpx.MockTransport(answer))
    admin = ShopifyAdmin(client, shop_url="https://demo.myshopify.com", api_version="2026-01", access_token="shpat_x")
    payments = ShopifyOrderTransactions(admin).order_payments("main", {"id": 148977776})

    [request] = seen
    assert request.url == "https://demo.myshopify.com/admin/api/2026-01/graphql.json"
    assert request.headers["X-Shopify-Access-Token"] == "shpat_x"
    body = json.loads(request.content)
    assert body["variables"] == {"id": "gid://shopify/Order/148977776"}
    assert "transactions" in body["query"] and "amountSet" in body["query"]
    assert [p.reference for p in payments] == ["main:payment:999225631"]


def test_woocommerce_refund_from_the_rest_docs_maps_its_negative_line() -> None:
    order = {"id": 723, "currency": "USD", "payment_method": "bacs"}
    with_line, amount_only = load_json("woocommerce/rest/order_refunds_list_723")[::-1]
    refund = woocommerce_refund("eu", order, with_line, location="default")
    [line] = refund.lines
    assert (line.source_line_id, line.sku, line.product_ref, line.quantity, line.amount.amount) == (
        "311", None, "87", 1, Decimal("9.00"))
    assert line.restock and line.location == "default"  # api_restock is write-only; WooCommerce's default is true
    assert refund.total.amount == Decimal("9.00") and refund.reference == "eu:refund:724"
    bare = woocommerce_refund("eu", order, amount_only, location=None)
    assert bare.lines == () and bare.total.amount == Decimal("10.00")


def test_woocommerce_refund_is_read_from_its_documented_path() -> None:
    seen = []
    refunds = load_json("woocommerce/rest/order_refunds_list_723")

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=refunds[1])

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = WooCommerceClient.for_store(WooCommerceSettings(domain="https://example.com"),
                                         {"consumer_key": "ck", "consumer_secret": "cs"}, http_client=http)
    reader = WooCommercePayments(client)
    order = {"id": 723, "currency": "USD", "refunds": [{"id": 724, "reason": "", "total": "-9.00"}]}
    assert reader.refund_ids("order.updated", order) == ["724"]
    refund = reader.read_refund("eu", "order.updated", order, "724")

    [request] = seen
    assert request.method == "GET" and request.url.path == "/wp-json/wc/v3/orders/723/refunds/724"
    assert refund.total.amount == Decimal("9.00")


def test_woocommerce_paid_order_is_one_payment_keyed_by_its_transaction() -> None:
    order = load_json("woocommerce/order_updated")
    [payment] = woocommerce_payments("eu", order)
    assert payment.gateway == "bacs" and payment.amount.amount == Decimal("76.77")
    assert payment.transaction_id.startswith("order-1187-paid-")  # bacs gives no transaction id
    assert woocommerce_payments("eu", load_json("woocommerce/order_created")) == []  # on-hold: not paid
