"""Pins Odoo's external API shapes the connector relies on: JSON-2 and JSON-RPC requests, Odoo's error bodies
(events/odoo/, published or assembled from Odoo's source, see events/README.md), retries and paging."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from synchub.connectors.http import RetryPolicy
from synchub.connectors.odoo.client import CREDENTIALS, OdooClient
from synchub.connectors.odoo.erp import OdooErp
from synchub.connectors.odoo.settings import OdooSettings
from synchub.errors import PermanentError, TransientError, VendorRejected
from synchub.ports import SalesOrderRef

from infra.local.sandboxes.odoo import create_app
from tests.eventdata import load_json

EVENTS = Path(__file__).resolve().parents[2] / "events" / "odoo"
KEY = "6578616d706c65206a736f6e20617069206b6579"  # the docs' example key


def sample(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


Answer = Callable[[httpx.Request, Any], httpx.Response]


class Recorder:
    """A MockTransport handler: records (request, JSON body) and answers with `answers` in turn (the last repeats)."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[tuple[httpx.Request, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.requests.append((request, body))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(request, body)


def reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Answer:
    return lambda request, sent: httpx.Response(status, json=body, headers=headers)


def rpc_result(result: Any) -> Answer:
    return lambda request, sent: httpx.Response(200, json={"jsonrpc": "2.0", "id": sent["id"], "result": result})


def client(handler: Any, *, api: str = "json2", attempts: int = 3, sleeps: list[float] | None = None) -> OdooClient:
    http = httpx.Client(base_url="https://mycompany.example.com", transport=httpx.MockTransport(handler))
    policy = RetryPolicy(max_attempts=attempts, sleep=(sleeps.append if sleeps is not None else lambda _: None))
    return OdooClient.connect("https://mycompany.example.com", database="mycompany", api_key=KEY, api=api,
                              login="integration@example.com", http_client=http, policy=policy)


# -- JSON-2 ----------------------------------------------------------------------------------------

def test_json2_posts_named_arguments_with_the_bearer_key_and_database_header() -> None:
    fake = Recorder(reply(200, sample("json2_search_read_partner.json")))
    rows = client(fake).call("res.partner", "search_read", domain=[["name", "ilike", "%deco%"]], fields=["name"],
                             context={"lang": "en_US"})
    assert rows == [{"id": 25, "name": "Deco Addict"}]
    [(request, body)] = fake.requests
    assert request.method == "POST" and request.url.path == "/json/2/res.partner/search_read"
    assert request.headers["Authorization"] == f"bearer {KEY}"
    assert request.headers["X-Odoo-Database"] == "mycompany"
    assert request.headers["Content-Type"].startswith("application/json")
    assert body == {"domain": [["name", "ilike", "%deco%"]], "fields": ["name"], "context": {"lang": "en_US"}}


def test_json2_record_methods_carry_ids_and_create_names_its_values() -> None:
    fake = Recorder(reply(200, sample("json2_read_partners.json")), reply(200, [7]))
    odoo = client(fake)
    assert odoo.call("res.partner", "read", ids=[3, 4], fields=["name"])[0]["name"] == "Mitchell Admin"
    assert odoo.call("res.partner", "create", [{"name": "Ada"}]) == [7]
    assert fake.requests[0][1] == {"ids": [3, 4], "fields": ["name"]}
    assert fake.requests[1][1] == {"vals_list": [{"name": "Ada"}]}


def test_json2_refused_key_is_the_permanent_credentials_reason_without_retry_or_key_in_the_message() -> None:
    fake = Recorder(reply(401, sample("json2_error_invalid_apikey.json")))
    with pytest.raises(PermanentError) as raised:
        client(fake).call("res.partner", "search_read", domain=[])
    assert raised.value.reason == CREDENTIALS == "erp_credentials_expired"
    assert "Invalid apikey" in str(raised.value) and KEY not in str(raised.value)
    assert len(fake.requests) == 1


def test_json2_user_error_is_a_rejection_not_a_retry() -> None:
    fake = Recorder(reply(422, sample("json2_error_locked_order.json")))
    with pytest.raises(VendorRejected) as raised:
        client(fake).call("sale.order", "action_cancel", ids=[42])
    assert raised.value.category == "UserError" and "locked order" in str(raised.value)
    assert "debug" not in raised.value.body and len(fake.requests) == 1


def test_json2_throttling_is_retried_after_retry_after_then_answers() -> None:
    sleeps: list[float] = []
    fake = Recorder(reply(429, {"name": "werkzeug.exceptions.TooManyRequests", "message": "slow down"},
                          {"Retry-After": "2"}), reply(200, sample("json2_search_read_partner.json")))
    assert client(fake, sleeps=sleeps).call("res.partner", "search_read", domain=[])[0]["id"] == 25
    assert len(fake.requests) == 2 and sleeps == [2.0]


@pytest.mark.parametrize("status", [429, 502, 503])
def test_json2_throttling_or_outage_that_outlasts_the_retries_is_transient(status: int) -> None:
    fake = Recorder(reply(status, {"name": "werkzeug.exceptions.ServiceUnavailable", "message": "busy"}))
    with pytest.raises(TransientError):
        client(fake, attempts=3).call("res.partner", "search_read", domain=[])
    assert len(fake.requests) == 3


def test_a_connection_error_is_retried_then_transient() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(TransientError) as raised:
        client(refuse, attempts=2).call("res.partner", "search_read", domain=[])
    assert raised.value.reason == "network"


# -- JSON-RPC --------------------------------------------------------------------------------------

def test_jsonrpc_authenticates_once_then_sends_execute_kw_with_the_key_in_the_password_slot() -> None:
    fake = Recorder(reply(200, sample("jsonrpc_authenticate_uid.json")), rpc_result(True), rpc_result([9]))
    odoo = client(fake, api="jsonrpc")
    assert odoo.call("sale.order", "action_confirm", ids=[42]) is True
    assert odoo.call("res.partner", "search", domain=[["ref", "=", "main:1"]], limit=1) == [9]
    login, confirm, search = (body for _, body in fake.requests)
    assert all(request.url.path == "/jsonrpc" for request, _ in fake.requests)
    assert login["params"] == {"service": "common", "method": "authenticate",
                               "args": ["mycompany", "integration@example.com", KEY, {}]}
    assert confirm["method"] == "call" and confirm["jsonrpc"] == "2.0"
    assert confirm["params"]["args"] == ["mycompany", 2, KEY, "sale.order", "action_confirm", [[42]], {}]
    assert search["params"]["args"][3:] == ["res.partner", "search", [], {"domain": [["ref", "=", "main:1"]],
                                                                            "limit": 1}]


def test_jsonrpc_create_passes_its_values_positionally() -> None:
    fake = Recorder(reply(200, sample("jsonrpc_authenticate_uid.json")), rpc_result([12]))
    assert client(fake, api="jsonrpc").call("sale.order", "create", [{"partner_id": 3}]) == [12]
    assert fake.requests[1][1]["params"]["args"][5:] == [[[{"partner_id": 3}]], {}]


@pytest.mark.parametrize("answers", [
    ["jsonrpc_authenticate_refused.json"],  # authenticate says false: wrong or expired key
    ["jsonrpc_authenticate_uid.json", "jsonrpc_error_access_denied.json"],  # the key expired since
], ids=["authenticate-false", "access-denied"])
def test_jsonrpc_refused_key_is_the_permanent_credentials_reason(answers: list[str]) -> None:
    fake = Recorder(*(reply(200, sample(name)) for name in answers))
    with pytest.raises(PermanentError) as raised:
        client(fake, api="jsonrpc").call("res.partner", "search_read", domain=[])
    assert raised.value.reason == "erp_credentials_expired" and KEY not in str(raised.value)
    assert len(fake.requests) == len(answers)


def test_jsonrpc_user_error_arrives_with_http_200_and_is_a_rejection() -> None:
    fake = Recorder(reply(200, sample("jsonrpc_authenticate_uid.json")), reply(200, sample("jsonrpc_error_locked_order.json")))
    with pytest.raises(VendorRejected) as raised:
        client(fake, api="jsonrpc").call("sale.order", "action_cancel", ids=[42])
    assert raised.value.category == "UserError" and raised.value.status == 200


def test_jsonrpc_concurrent_update_is_retried_with_backoff() -> None:
    fake = Recorder(reply(200, sample("jsonrpc_authenticate_uid.json")),
                    reply(200, sample("jsonrpc_error_serialization_failure.json")), rpc_result(True))
    assert client(fake, api="jsonrpc").call("sale.order", "write", ids=[1], vals={"origin": "#1"}) is True
    assert len(fake.requests) == 3


def test_jsonrpc_needs_the_login() -> None:
    with pytest.raises(PermanentError, match="login"):
        OdooClient.connect("https://x.example", database="d", api_key=KEY, api="jsonrpc")


# -- the ERP adapter on these shapes -----------------------------------------------------------------

def erp_on(fake: Recorder, api: str = "json2") -> OdooErp:
    settings = OdooSettings(url="https://mycompany.example.com", database="mycompany", api=api,  # type: ignore[arg-type]
                            login="integration@example.com")
    return OdooErp(client(fake, api=api), settings)


def test_cancelling_a_confirmed_sale_skips_the_wizard_and_a_wizard_answer_is_not_taken_for_a_cancel() -> None:
    row = {"id": 42, "name": "S00042", "state": "sale", "client_order_ref": "main:1", "amount_total": 10.0,
           "locked": False}
    fake = Recorder(reply(200, [row]), reply(200, sample("sale_order_cancel_wizard_action.json")))
    with pytest.raises(PermanentError) as raised:
        erp_on(fake).cancel_sales_order(SalesOrderRef(id="42", state="confirmed", reference="main:1"))
    assert raised.value.reason == "cancel_needs_confirmation"
    cancel = fake.requests[1]
    assert cancel[0].url.path == "/json/2/sale.order/action_cancel"
    assert cancel[1] == {"ids": [42], "context": {"disable_cancel_warning": True}}


def test_a_locked_sale_is_unlocked_before_it_is_cancelled() -> None:
    locked = {"id": 42, "name": "S00042", "state": "sale", "client_order_ref": "main:1", "amount_total": 10.0,
              "locked": True}
    fake = Recorder(reply(200, [locked]), reply(200, True), reply(200, True), reply(200, [{**locked, "state": "cancel"}]))
    sale = erp_on(fake).cancel_sales_order(SalesOrderRef(id="42", state="confirmed", reference="main:1"))
    assert sale.state == "cancelled"
    assert [request.url.path.rsplit("/", 1)[-1] for request, _ in fake.requests] == [
        "search_read", "action_unlock", "action_cancel", "search_read"]


# -- paging and stock against the sandbox --------------------------------------------------------------

class Sandboxed:
    """The sandbox behind a transport that keeps each request's JSON body."""

    def __init__(self, api: str = "json2", **sandbox: Any) -> None:
        self.app = create_app(KEY, database="mycompany", login="integration@example.com",
                              version=19 if api == "json2" else 17, **sandbox)
        self.wsgi = httpx.WSGITransport(app=self.app)
        self.bodies: list[tuple[str, Any]] = []
        http = httpx.Client(base_url="https://mycompany.example.com", transport=httpx.MockTransport(self.forward))
        settings = OdooSettings(url="https://mycompany.example.com", database="mycompany", api=api,  # type: ignore[arg-type]
                                login="integration@example.com")
        self.erp = OdooErp(OdooClient.connect(settings.url, database="mycompany", api_key=KEY, api=api,
                                              login="integration@example.com", http_client=http,
                                              policy=RetryPolicy(sleep=lambda _: None)), settings)

    def forward(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append((request.url.path, json.loads(request.content)))
        response = self.wsgi.handle_request(request)
        response.read()
        return response


@pytest.mark.parametrize("api", ["json2", "jsonrpc"])
def test_full_stock_pages_are_ordered_by_sku_then_id_and_paged_by_offset(api: str) -> None:
    odoo = Sandboxed(api)
    pages = list(odoo.erp.iter_stock(["WH"], page_size=3))
    skus = [level.sku for page in pages for level in page]
    assert [len(page) for page in pages] == [3, 3, 2] and skus == sorted(skus) and len(set(skus)) == 8
    product_pages = [body for path, body in odoo.bodies if "product.product" in json.dumps(body)[:400]
                     or path.endswith("product.product/search_read")]
    kwargs = [body if api == "json2" else body["params"]["args"][6] for body in product_pages]
    assert [(k["offset"], k["limit"], k["order"]) for k in kwargs] == [
        (0, 3, "default_code asc, id asc"), (3, 3, "default_code asc, id asc"), (6, 3, "default_code asc, id asc")]
    mug = next(level for page in pages for level in page if level.sku == "MUG-CER-01")
    assert mug.on_hand == 300  # summed over WH/Stock and its child shelf


@pytest.mark.parametrize("api", ["json2", "jsonrpc"])
def test_stock_changes_report_each_quant_change_once_even_within_one_second(api: str) -> None:
    frozen = dt.datetime(2026, 5, 4, 10, 30, 0)  # every write in one second: write_date alone cannot tell them apart
    odoo = Sandboxed(api, now=lambda: frozen)
    first = odoo.erp.stock_changes(None, ["WH"])
    assert len(first.levels) == 8
    odoo.app.set_stock("CAP-NVY-OS", 61)
    changed = odoo.erp.stock_changes(first.watermark, ["WH"])
    assert [(level.sku, level.on_hand) for level in changed.levels] == [("CAP-NVY-OS", 61)]
    assert odoo.erp.stock_changes(changed.watermark, ["WH"]).levels == ()
    odoo.app.set_stock("CAP-NVY-OS", 60)
    again = odoo.erp.stock_changes(changed.watermark, ["WH"])
    assert [(level.sku, level.on_hand) for level in again.levels] == [("CAP-NVY-OS", 60)]


@pytest.mark.parametrize("api", ["json2", "jsonrpc"])
def test_an_expired_key_in_the_sandbox_is_the_permanent_credentials_reason(api: str) -> None:
    odoo = Sandboxed(api)
    assert odoo.erp.resolve_products(["MUG-CER-01"])
    odoo.app.expire_key(KEY)
    with pytest.raises(PermanentError) as raised:
        odoo.erp.resolve_products(["TEE-BLK-M"])
    assert raised.value.reason == "erp_credentials_expired"


def test_the_sandbox_throttles_with_429_and_the_client_waits_it_out() -> None:
    moment = [0.0]
    app = create_app(KEY, database="mycompany", requests_per_minute=2, clock=lambda: moment[0])
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        moment[0] += 60  # the window passes while the client waits

    http = httpx.Client(base_url="https://mycompany.example.com", transport=httpx.WSGITransport(app=app))
    odoo = OdooClient.connect("https://mycompany.example.com", database="mycompany", api_key=KEY, http_client=http,
                              policy=RetryPolicy(sleep=sleep))
    for _ in range(3):
        odoo.call("res.country", "search_read", domain=[["code", "=", "US"]], fields=["id"])
    assert sleeps == [1.0]  # the third request was refused with Retry-After: 1, then went through


@pytest.mark.parametrize("api", ["json2", "jsonrpc"])
def test_sale_lines_clear_odoo_taxes_so_the_total_is_the_stores(api: str) -> None:
    from synchub.connectors.shopify.mapping import ShopifyPayloads

    odoo = Sandboxed(api)
    order = ShopifyPayloads().order("main", load_json("shopify/orders_create"))
    customer = odoo.erp.upsert_customer(order.customer, reference="main:c1")
    sale = odoo.erp.create_sales_order(order, customer_id=customer, products=odoo.erp.resolve_products(order.skus))
    tax_field = "tax_ids" if api == "json2" else "tax_id"
    lines = odoo.app.sale_lines(int(sale.id))
    assert lines and all(line[tax_field] == [] for line in lines)  # the sandbox's products default to 15 %
    assert sale.state == "confirmed" and sale.total is not None
    assert float(sale.total) == pytest.approx(float(order.total.amount))



@pytest.mark.parametrize("api", ["json2", "jsonrpc"])
def test_tips_and_duties_are_their_own_lines_and_the_total_is_the_stores(api: str) -> None:
    from synchub.connectors.shopify.mapping import ShopifyPayloads

    odoo = Sandboxed(api)
    order = ShopifyPayloads().order("main", load_json("shopify/orders_create_tip_duties"))
    assert order.total_tip and order.total_tip.amount and order.total_duties and order.total_duties.amount
    # The merchant's Odoo sells in the shop's currency through a pricelist in it (see the adapter's docstring).
    currency = odoo.app.orm.insert("res.currency", {"name": order.currency})
    odoo.app.orm.insert("product.pricelist", {"name": order.currency, "currency_id": currency, "sequence": 20})
    customer = odoo.erp.upsert_customer(order.customer or _guest(order), reference="main:tips")
    # The dev shop's SKUs are not in the sandbox catalogue: every line is booked on one of its products.
    [product] = odoo.erp.resolve_products(["MUG-CER-01"]).values()
    sale = odoo.erp.create_sales_order(order, customer_id=customer, products=dict.fromkeys(order.skus, product))
    names = {line["name"]: line for line in odoo.app.sale_lines(int(sale.id))}
    assert "Tip" in names and "Duties" in names
    assert float(names["Tip"]["price_unit"]) == pytest.approx(float(order.total_tip.amount))
    assert float(names["Duties"]["price_unit"]) == pytest.approx(float(order.total_duties.amount))
    assert float(sale.total or 0) == pytest.approx(float(order.total.amount))


def _guest(order):
    from synchub.models import Customer

    return Customer(source_id=f"guest:{order.email}", email=order.email)

def _sandbox_order(odoo: Sandboxed, order_id: int = 1001):
    from synchub.connectors.shopify.mapping import ShopifyPayloads

    payload = load_json("shopify/orders_create")
    payload["id"] = order_id
    order = ShopifyPayloads().order("main", payload)
    customer = odoo.erp.upsert_customer(order.customer, reference=f"main:{order.customer.source_id}")
    return order, customer, odoo.erp.resolve_products(order.skus)


@pytest.mark.parametrize("api", ["json2", "jsonrpc"])
def test_a_sale_left_in_draft_by_a_crash_is_confirmed_not_created_again(api: str) -> None:
    odoo = Sandboxed(api)
    order, customer, products = _sandbox_order(odoo)
    # The earlier attempt created the sale and died before action_confirm.
    odoo.erp.client.call("sale.order", "create", [{"partner_id": int(customer), "client_order_ref": order.store_reference}])

    sale = odoo.erp.create_sales_order(order, customer_id=customer, products=products)

    [row] = odoo.app.records("sale.order")
    assert sale.id == str(row["id"]) and row["state"] == "sale"


def test_create_searches_again_unless_a_search_just_found_nothing() -> None:
    odoo = Sandboxed()
    order, customer, products = _sandbox_order(odoo)

    def searches() -> int:
        return sum(1 for path, body in odoo.bodies
                   if path.endswith("sale.order/search_read") and "client_order_ref" in json.dumps(body["domain"]))

    assert odoo.erp.find_sales_order(order.store_reference) is None
    odoo.erp.create_sales_order(order, customer_id=customer, products=products)
    assert searches() == 1  # the flow's own search stood for the create's
    second, _, _ = _sandbox_order(odoo, 1002)
    odoo.erp.create_sales_order(second, customer_id=customer, products=products)
    assert searches() == 2  # no search just before: create searched itself
    assert len(odoo.app.records("sale.order")) == 2
