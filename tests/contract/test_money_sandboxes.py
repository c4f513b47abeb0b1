"""The sandboxes keep the vendors' documented money contracts: WooCommerce's order refunds (REST v3
order-refunds: negative line items, `refunds` summary, restock, errors) and Shopify's order transactions
(GraphQL `order(id:) { transactions }`: kinds, statuses, shop and presentment money, parent transaction)."""
from __future__ import annotations

import httpx
import pytest

from infra.local.sandboxes.shopify import create_app as shopify_app
from infra.local.sandboxes.woocommerce import create_app as woocommerce_app
from tests.eventdata import load_json

AUTH = ("ck_money", "cs_money")
TRANSACTIONS = """query T($id: ID!) { order(id: $id) { id transactions { id kind status gateway test
  amountSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
  processedAt parentTransaction { id } } } }"""


@pytest.fixture
def woo():
    app = woocommerce_app(*AUTH)
    return app, httpx.Client(transport=httpx.WSGITransport(app=app), auth=AUTH,
                             base_url="http://127.0.0.1/wp-json/wc/v3/")


def _paid_order(http: httpx.Client) -> dict:
    [mug] = http.get("products", params={"sku": "MUG-CER-01"}).json()
    return http.post("orders", json={"line_items": [{"product_id": mug["id"], "quantity": 2}],
                                     "set_paid": True}).json()


def test_a_refund_has_the_documented_shape_and_lands_on_the_order(woo) -> None:
    app, http = woo
    order = _paid_order(http)
    stock = app.stock("MUG-CER-01")
    line = order["line_items"][0]

    created = http.post(f"orders/{order['id']}/refunds", json={
        "amount": "14.50", "line_items": [{"id": line["id"], "quantity": 1, "refund_total": "14.50"}]})

    assert created.status_code == 201
    refund = created.json()
    documented = load_json("woocommerce/rest/order_refunds_list_723")[1]
    assert set(documented) - {"_links"} <= set(refund)
    [item] = refund["line_items"]
    assert set(documented["line_items"][0]) <= set(item)
    assert (item["quantity"], item["total"]) == (-1, "-14.50")
    assert item["meta_data"][0] == {**item["meta_data"][0], "key": "_refunded_item_id", "value": str(line["id"])}
    assert "api_restock" not in refund  # write-only, as documented
    assert http.get(f"orders/{order['id']}/refunds/{refund['id']}").json() == refund
    summary = http.get(f"orders/{order['id']}").json()["refunds"]
    assert summary == [{"id": refund["id"], "reason": "", "total": "-14.50"}]
    assert app.stock("MUG-CER-01") == stock + 1  # api_restock defaults to true


def test_refunding_the_rest_marks_the_order_refunded_and_too_much_is_refused(woo) -> None:
    _, http = woo
    order = _paid_order(http)
    too_much = http.post(f"orders/{order['id']}/refunds", json={"amount": "100.00"})
    assert too_much.status_code == 400 and too_much.json()["code"] == "woocommerce_rest_cannot_create_order_refund"

    http.post(f"orders/{order['id']}/refunds", json={"amount": order["total"], "api_restock": False})
    assert http.get(f"orders/{order['id']}").json()["status"] == "refunded"


def test_unknown_orders_and_refunds_answer_woocommerce_errors(woo) -> None:
    _, http = woo
    order = _paid_order(http)
    missing = http.get(f"orders/{order['id']}/refunds/999999")
    assert missing.status_code == 404 and missing.json()["code"] == "woocommerce_rest_invalid_id"
    assert http.get("orders/999999/refunds").json()["code"] == "woocommerce_rest_shop_order_invalid_id"
    assert http.get(f"orders/{order['id']}/refunds", auth=None).status_code == 401


def test_shopify_order_transactions_answer_the_documented_shape() -> None:
    app = shopify_app("shpat_money", "money.myshopify.com")
    auth = app.add_transaction(77, kind="AUTHORIZATION", amount="11.5", currency="USD", gateway="bogus")
    parent = int(auth["id"].rsplit("/", 1)[-1])
    app.add_transaction(77, kind="CAPTURE", amount="11.5", currency="USD", gateway="bogus", parent_id=parent)
    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://shop")

    answer = http.post("/admin/api/2026-01/graphql.json", headers={"X-Shopify-Access-Token": "shpat_money"},
                       json={"query": TRANSACTIONS, "variables": {"id": "gid://shopify/Order/77"}}).json()

    documented = load_json("shopify/admin_graphql/order_transactions")["data"]["order"]["transactions"][3]
    capture = answer["data"]["order"]["transactions"][1]
    assert set(capture) <= set(documented)
    assert capture["kind"] == "CAPTURE" and capture["status"] == "SUCCESS"
    assert capture["amountSet"] == {"shopMoney": {"amount": "11.50", "currencyCode": "USD"},
                                    "presentmentMoney": {"amount": "11.50", "currencyCode": "USD"}}
    assert capture["parentTransaction"] == {"id": auth["id"]}
    assert "cost" in answer["extensions"]
    unknown = http.post("/admin/api/2026-01/graphql.json", headers={"X-Shopify-Access-Token": "shpat_money"},
                        json={"query": TRANSACTIONS, "variables": {"id": "gid://shopify/Order/78"}}).json()
    assert unknown["data"] == {"order": None}
    refused = http.post("/admin/api/2026-01/graphql.json", headers={"X-Shopify-Access-Token": "wrong"},
                        json={"query": TRANSACTIONS, "variables": {"id": "gid://shopify/Order/77"}})
    assert refused.status_code == 401
