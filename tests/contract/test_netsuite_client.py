"""Pins NetSuite's REST contract the connector relies on: TBA signatures and M2M assertions, SuiteQL requests and
paging, record writes, and NetSuite's error bodies (events/netsuite/: published by Oracle or assembled from its
documented shape, see events/README.md) mapped to permanent and transient failures."""
from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature, utils
from synchub.connectors.http import RetryPolicy
from synchub.connectors.netsuite.client import NetSuiteClient
from synchub.connectors.netsuite.erp import NetSuiteErp
from synchub.connectors.netsuite.settings import NetSuiteSettings
from synchub.connectors.shopify.mapping import ShopifyPayloads
from synchub.errors import PermanentError, TransientError, VendorRejected

from infra.local.sandboxes.netsuite import create_app
from tests.eventdata import load_json
from tests.netsuite_keys import TBA, m2m, m2m_secret

EVENTS = Path(__file__).resolve().parents[2] / "events" / "netsuite"
BASE = "https://123456-sb1.suitetalk.api.netsuite.com/services/rest"
Answer = Callable[[httpx.Request], httpx.Response]


def sample(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
    return lambda request: httpx.Response(status, json=body, headers=headers) if body is not None else \
        httpx.Response(status, headers=headers)


class Recorder:
    """A MockTransport handler: keeps each request and answers with `answers` in turn (the last repeats)."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(request)

    def api(self) -> list[httpx.Request]:
        return [r for r in self.requests if not r.url.path.endswith("/token")]


def settings(auth: str = "tba", **extra: Any) -> NetSuiteSettings:
    extra.setdefault("read_governance", False)  # its own tests below; the others pin one request at a time
    return NetSuiteSettings(account_id="123456_SB1", auth=auth, jwt_algorithm="ES256", **extra)  # type: ignore[arg-type]


def client(handler: Any, auth: str = "tba", *, attempts: int = 3, sleeps: list[float] | None = None,
           **extra: Any) -> NetSuiteClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    policy = RetryPolicy(max_attempts=attempts, sleep=(sleeps.append if sleeps is not None else lambda _: None))
    secret = TBA if auth == "tba" else m2m_secret()
    return NetSuiteClient.connect(settings(auth, **extra), secret, http_client=http, policy=policy)


def token_answer(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/auth/oauth2/v1/token"):
        return httpx.Response(200, json=sample("m2m_token_response.json"))
    return httpx.Response(200, json=sample("suiteql_item_last_page.json"))


# -- authentication ---------------------------------------------------------------------------------

def test_tba_signs_method_and_full_url_with_hmac_sha256_and_the_account_realm() -> None:
    fake = Recorder(reply(200, sample("suiteql_item_last_page.json")))
    client(fake).suiteql("SELECT id, itemid FROM item ORDER BY id", limit=2, offset=2)
    [request] = fake.requests
    header = request.headers["Authorization"]
    params = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}
    assert header.startswith("OAuth ") and params["realm"] == "123456_SB1"
    assert params["oauth_signature_method"] == "HMAC-SHA256" and params["oauth_token"] == TBA["token_id"]
    # An independent check with oauthlib's verifier: the signature covers the query (limit, offset) too.
    oauth = OAuthRequest(str(request.url), http_method="POST", headers={"Authorization": header})
    oauth.params = signature.collect_parameters(uri_query=request.url.query.decode(),
                                                headers={"Authorization": header}, exclude_oauth_signature=True)
    oauth.signature = params["oauth_signature"]
    assert signature.verify_hmac_sha256(oauth, TBA["consumer_secret"], TBA["token_secret"])
    assert TBA["consumer_secret"] not in header and TBA["token_secret"] not in header


def test_tba_signs_each_retry_afresh_so_no_nonce_is_reused() -> None:
    fake = Recorder(reply(503, sample("error_invalid_login.json")), reply(200, sample("suiteql_item_last_page.json")))
    client(fake).suiteql("SELECT id FROM item ORDER BY id")
    nonces = [dict(utils.parse_authorization_header(r.headers["Authorization"]))["oauth_nonce"] for r in fake.requests]
    assert len(nonces) == 2 and nonces[0] != nonces[1]


def test_m2m_asks_for_a_token_with_a_signed_assertion_and_reuses_it() -> None:
    fake = Recorder(token_answer)
    ns = client(fake, "m2m")
    ns.suiteql("SELECT id FROM item ORDER BY id")
    ns.suiteql("SELECT id FROM item ORDER BY id")
    token_calls = [r for r in fake.requests if r.url.path.endswith("/token")]
    assert len(token_calls) == 1 and len(fake.api()) == 2
    [token] = token_calls
    assert str(token.url) == f"{BASE}/auth/oauth2/v1/token"
    form = {k: v[0] for k, v in parse_qs(token.content.decode()).items()}
    assert form["grant_type"] == "client_credentials"
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    header = jwt.get_unverified_header(form["client_assertion"])
    assert header == {"alg": "ES256", "kid": m2m()["certificate_id"], "typ": "JWT"}
    claims = jwt.decode(form["client_assertion"], m2m()["public_key"], algorithms=["ES256"],
                        audience=f"{BASE}/auth/oauth2/v1/token")
    assert claims["iss"] == m2m()["client_id"] and claims["scope"] == "rest_webservices"
    assert claims["exp"] - claims["iat"] <= 3600
    assert all(r.headers["Authorization"] == f"Bearer {sample('m2m_token_response.json')['access_token']}"
               for r in fake.api())


def test_m2m_renews_a_refused_token_once_then_reports_the_credentials() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json=sample("m2m_token_response.json"))
        return httpx.Response(401, json=sample("error_invalid_login.json"))

    fake = Recorder(answer)
    with pytest.raises(PermanentError) as raised:
        client(fake, "m2m").suiteql("SELECT id FROM item ORDER BY id")
    assert raised.value.reason == "erp_credentials_invalid"
    assert [r.url.path.rsplit("/", 1)[-1] for r in fake.requests] == ["token", "suiteql", "token", "suiteql"]
    assert m2m_secret()["private_key"] not in str(raised.value)


def test_a_refused_assertion_at_the_token_endpoint_is_the_credentials_reason() -> None:
    fake = Recorder(reply(400, {"error": "invalid_grant"}))
    with pytest.raises(PermanentError) as raised:
        client(fake, "m2m").suiteql("SELECT id FROM item ORDER BY id")
    assert raised.value.reason == "erp_credentials_invalid" and "invalid_grant" in str(raised.value)


# -- errors ----------------------------------------------------------------------------------------

def test_the_published_invalid_login_is_permanent_and_not_retried() -> None:
    fake = Recorder(reply(401, sample("error_invalid_login.json")))
    with pytest.raises(PermanentError) as raised:
        client(fake).get("record/v1/salesOrder/eid:main_3A1")
    assert raised.value.reason == "erp_credentials_invalid" and "INVALID_LOGIN" in str(raised.value)
    assert len(fake.requests) == 1 and TBA["token_secret"] not in str(raised.value)


def test_the_published_invalid_content_is_a_rejection_naming_the_field() -> None:
    fake = Recorder(reply(400, sample("error_invalid_content_sales_order.json")))
    with pytest.raises(VendorRejected) as raised:
        client(fake).write("POST", "record/v1/salesOrder", sample("sales_order_invalid_item_request.json"))
    assert raised.value.category == "INVALID_CONTENT" and "item.items[0].item" in str(raised.value)
    assert "Invalid Field Value 9999" in str(raised.value) and len(fake.requests) == 1


def test_a_permission_refusal_is_its_own_permanent_reason() -> None:
    body = {"type": "x", "title": "Forbidden", "status": 403,
            "o:errorDetails": [{"detail": "Permission Violation", "o:errorCode": "INSUFFICIENT_PERMISSION"}]}
    with pytest.raises(PermanentError) as raised:
        client(Recorder(reply(403, body))).suiteql("SELECT id FROM item ORDER BY id")
    assert raised.value.reason == "erp_permission_denied"


def test_concurrency_refusals_are_retried_honouring_retry_after_then_answer() -> None:
    sleeps: list[float] = []
    fake = Recorder(reply(429, sample("error_concurrency_limit.json"), {"Retry-After": "3"}),
                    reply(400, sample("error_sss_request_limit.json")),
                    reply(200, sample("suiteql_item_last_page.json")))
    page = client(fake, sleeps=sleeps, attempts=4).suiteql("SELECT id FROM item ORDER BY id")
    assert page["items"][0]["itemid"] == "TEE-BLK-M" and len(fake.requests) == 3
    assert sleeps[0] == 3.0 and len(sleeps) == 2


def test_a_concurrency_refusal_that_outlasts_the_retries_is_transient() -> None:
    fake = Recorder(reply(400, sample("error_sss_request_limit.json")))
    with pytest.raises(TransientError) as raised:
        client(fake, attempts=3).suiteql("SELECT id FROM item ORDER BY id")
    assert raised.value.reason == "throttled" and len(fake.requests) == 3


# -- SuiteQL and records ---------------------------------------------------------------------------

def test_suiteql_posts_the_query_transient_and_pages_by_offset_until_has_more_is_false() -> None:
    fake = Recorder(reply(200, sample("suiteql_item_page.json")), reply(200, sample("suiteql_item_last_page.json")))
    rows = list(client(fake).suiteql_rows("SELECT id, itemid FROM item ORDER BY id", page_size=2))
    assert rows == [{"id": "103", "itemid": "HOOD-GRY-M"}, {"id": "104", "itemid": "MUG-CER-01"},
                    {"id": "101", "itemid": "TEE-BLK-M"}]
    first, second = fake.requests
    assert first.method == "POST" and first.url.path == "/services/rest/query/v1/suiteql"
    assert first.headers["Prefer"] == "transient" and json.loads(first.content) == {
        "q": "SELECT id, itemid FROM item ORDER BY id"}
    assert (dict(first.url.params), dict(second.url.params)) == ({"limit": "2", "offset": "0"},
                                                                 {"limit": "2", "offset": "2"})


def test_a_page_is_never_asked_for_more_than_a_thousand_rows() -> None:
    fake = Recorder(reply(200, sample("suiteql_item_last_page.json")))
    client(fake).suiteql("SELECT id FROM item ORDER BY id", limit=5000)
    assert fake.requests[0].url.params["limit"] == "1000"


def test_the_customer_is_upserted_by_external_id_and_its_id_read_from_location() -> None:
    fake = Recorder(reply(204, headers={"Location": f"{BASE}/record/v1/customer/647"}))
    erp = NetSuiteErp(client(fake), settings(subsidiary="1"))
    order = ShopifyPayloads().order("main", load_json("shopify/orders_create"))
    assert erp.upsert_customer(order.customer, reference="main:115310627314723974") == "647"
    [request] = fake.requests
    assert request.method == "PUT" and request.url.path == \
        "/services/rest/record/v1/customer/eid:main_3A115310627314723974"
    assert request.url.params["replace"] == "addressBook"
    body = json.loads(request.content)
    assert body["isPerson"] is True and body["subsidiary"] == {"id": "1"} and "externalId" not in body
    assert body["addressBook"]["items"][0]["addressBookAddress"]["country"]


def test_a_sales_order_is_posted_approved_with_our_reference_and_lines_that_sum_to_the_store_total() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/suiteql"):
            q = json.loads(request.content)["q"]
            if "FROM location" in q:
                return httpx.Response(200, json={"items": [{"links": [], "id": "1", "name": "WH"}], "hasMore": False})
            if "FROM currency" in q:
                return httpx.Response(200, json={"items": [{"links": [], "id": "2", "symbol": "USD"}],
                                                 "hasMore": False})
            codes = [c.strip(" '") for c in q.split("IN (")[1].split(")")[0].split(",")]
            return httpx.Response(200, json={"items": [{"links": [], "id": str(100 + i), "itemid": c}
                                                       for i, c in enumerate(codes)], "hasMore": False})
        if request.method == "GET":
            return httpx.Response(404, json={"type": "x", "title": "Not Found", "status": 404, "o:errorDetails": [
                {"detail": "The record instance does not exist.", "o:errorCode": "NONEXISTENT_ID"}]})
        return httpx.Response(204, headers={"Location": f"{BASE}/record/v1/salesOrder/9001"})

    fake = Recorder(answer)
    erp = NetSuiteErp(client(fake), settings())
    order = ShopifyPayloads().order("main", load_json("shopify/orders_create"))
    assert erp.find_sales_order(order.store_reference) is None
    sale = erp.create_sales_order(order, customer_id="647", products=erp.resolve_products(order.skus))
    assert sale.id == "9001" and sale.state == "confirmed" and sale.reference == order.store_reference
    post = next(r for r in fake.requests if r.method == "POST" and r.url.path.endswith("/salesOrder"))
    body = json.loads(post.content)
    assert body["externalId"] == "main_3A820982911946154521" and body["orderStatus"] == {"id": "B"}
    assert body["entity"] == {"id": "647"} and body["location"] == {"id": "1"} and body["currency"] == {"id": "2"}
    lines = body["item"]["items"]
    assert all(line["taxCode"] == {"id": "-7"} for line in lines)
    assert round(sum(line["quantity"] * line["rate"] for line in lines), 2) == float(order.total.amount)
    # The flow's own lookup just before stood for create's: one GET by external id in all.
    assert sum(1 for r in fake.requests if r.method == "GET") == 1


# -- governance limits ------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "allowed"), [("governance_limits_integration_specific.json", 2),
                                               ("governance_limits_account_limit.json", 3)])
def test_the_published_governance_limits_shrink_a_larger_configured_share(body: str, allowed: int) -> None:
    from synchub.connectors.netsuite import client as module

    fake = Recorder(reply(200, sample(body)), reply(200, sample("suiteql_item_last_page.json")))
    account = f"gov-{allowed}"
    ns = client(fake, read_governance=True, concurrency=10)
    ns.account, ns._signed.share = account, module.concurrency_share(account, 10)
    ns.suiteql("SELECT id FROM item ORDER BY id")
    ns.suiteql("SELECT id FROM item ORDER BY id")
    paths = [r.url.path for r in fake.requests]
    assert paths == ["/services/rest/system/v1/governanceLimits"] + ["/services/rest/query/v1/suiteql"] * 2
    assert module._SIZES[account] == allowed and ns._signed.share is module._SHARES[account]


def test_a_role_that_may_not_read_the_governance_limits_keeps_the_configured_share() -> None:
    from synchub.connectors.netsuite import client as module

    denied = {"type": "x", "title": "Forbidden", "status": 403,
              "o:errorDetails": [{"detail": "Permission Violation", "o:errorCode": "INSUFFICIENT_PERMISSION"}]}
    fake = Recorder(reply(403, denied), reply(200, sample("suiteql_item_last_page.json")))
    ns = client(fake, read_governance=True, concurrency=4)
    ns.account, ns._signed.share = "gov-denied", module.concurrency_share("gov-denied", 4)
    assert ns.suiteql("SELECT id FROM item ORDER BY id")["count"] == 1
    assert module._SIZES["gov-denied"] == 4 and len(fake.requests) == 2


# -- SyncHub's concurrency share against the sandbox ------------------------------------------------

def _parallel(share: int, limit: int, workers: int = 6) -> tuple[Any, list[Any]]:
    app = create_app("123456_SB1", tba=TBA, account_limit=limit, latency=0.02)
    transport = httpx.WSGITransport(app=app)
    account = f"123456_SB1-share-{share}-{limit}"
    config = NetSuiteSettings(account_id="123456_SB1", auth="tba", concurrency=share, api_url=BASE,
                              read_governance=False)
    results: list[Any] = []

    def work() -> None:
        ns = NetSuiteClient.connect(config, TBA, http_client=httpx.Client(transport=transport),
                                    policy=RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.05))
        from synchub.connectors.netsuite import client as module

        ns._signed.share = module.concurrency_share(account, share)
        try:
            results.append(ns.suiteql("SELECT id, itemid FROM item ORDER BY id", limit=3)["count"])
        except Exception as exc:  # noqa: BLE001 - the test reports whatever happened
            results.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return app, results


def test_synchub_keeps_within_its_share_so_the_account_limit_is_never_hit() -> None:
    app, results = _parallel(share=2, limit=3)
    assert results == [3] * 6
    assert app.peak_in_flight <= 2
    assert ("POST", "/services/rest/query/v1/suiteql") in app.requests and len(app.requests) == 6  # no 429 retried


def test_over_the_account_limit_netsuite_refuses_and_the_client_retries_until_it_gets_through() -> None:
    app, results = _parallel(share=6, limit=2)
    assert len(app.requests) > 6  # some were refused with 429 CONCURRENCY_LIMIT_EXCEEDED and sent again
    assert 3 in results  # and went through
    # what the retries could not get through is transient (back to the queue), never parked
    assert all(r == 3 or (isinstance(r, TransientError) and r.reason == "throttled") for r in results)


# -- against the sandbox: stock, approval, cancellation ------------------------------------------------

class Sandboxed:
    """The sandbox behind a transport that keeps every SuiteQL query sent."""

    def __init__(self, **options: Any) -> None:
        import datetime as dt

        self.moment = dt.datetime(2026, 5, 4, 10, 30, 0)
        self.app = create_app("123456_SB1", tba=TBA, now=lambda: self.moment)
        self.wsgi = httpx.WSGITransport(app=self.app)
        self.queries: list[str] = []
        http = httpx.Client(transport=httpx.MockTransport(self.forward))
        config = settings(api_url=BASE, **options)
        self.erp = NetSuiteErp(NetSuiteClient.connect(config, TBA, http_client=http,
                                                      policy=RetryPolicy(sleep=lambda _: None)), config)

    def forward(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/suiteql"):
            self.queries.append(json.loads(request.content)["q"])
        response = self.wsgi.handle_request(request)
        response.read()
        return response

    def order(self, order_id: int = 1001) -> tuple[Any, str, dict[str, str]]:
        payload = load_json("shopify/orders_create")
        payload["id"] = order_id
        order = ShopifyPayloads().order("main", payload)
        customer = self.erp.upsert_customer(order.customer, reference=f"main:{order.customer.source_id}")
        return order, customer, self.erp.resolve_products(order.skus)


def test_full_stock_pages_are_ordered_by_sku_and_every_query_by_a_unique_key() -> None:
    ns = Sandboxed()
    pages = list(ns.erp.iter_stock(["WH"], page_size=3))
    skus = [level.sku for page in pages for level in page]
    assert [len(page) for page in pages] == [3, 3, 2] and skus == sorted(skus) and len(set(skus)) == 8
    mug = next(level for page in pages for level in page if level.sku == "MUG-CER-01")
    assert (mug.on_hand, mug.reserved) == (300, 0)
    assert all(" ORDER BY " in query for query in ns.queries)
    item_pages = [q for q in ns.queries if q.startswith("SELECT id, itemid FROM item WHERE itemtype")]
    assert item_pages and all(q.endswith("ORDER BY itemid, id") for q in item_pages)


def test_stock_changes_report_each_movement_once_even_within_one_second() -> None:
    ns = Sandboxed()  # the sandbox's clock stands still: every transaction has the same lastmodifieddate
    first = ns.erp.stock_changes(None, ["WH"])
    assert len(first.levels) == 8
    ns.app.set_stock("CAP-NVY-OS", 61)
    changed = ns.erp.stock_changes(first.watermark, ["WH"])
    assert [(level.sku, level.on_hand) for level in changed.levels] == [("CAP-NVY-OS", 61)]
    assert ns.erp.stock_changes(changed.watermark, ["WH"]).levels == ()
    ns.app.set_stock("CAP-NVY-OS", 60)
    again = ns.erp.stock_changes(changed.watermark, ["WH"])
    assert [(level.sku, level.on_hand) for level in again.levels] == [("CAP-NVY-OS", 60)]


def test_an_approved_order_commits_stock_that_the_next_poll_reports() -> None:
    ns = Sandboxed()
    first = ns.erp.stock_changes(None, ["WH"])
    order, customer, products = ns.order()
    ns.erp.create_sales_order(order, customer_id=customer, products=products)
    changed = {level.sku: level for level in ns.erp.stock_changes(first.watermark, ["WH"]).levels}
    assert changed["HOOD-GRY-M"].reserved == 1 and set(changed) == set(order.skus)


def test_an_order_left_pending_approval_by_a_crash_is_approved_not_created_again() -> None:
    ns = Sandboxed()
    order, customer, products = ns.order()
    ns.erp.config = settings(api_url=BASE, approve_on_create=False)
    ns.erp.create_sales_order(order, customer_id=customer, products=products)  # the attempt that died here
    ns.erp.config = settings(api_url=BASE)

    sale = ns.erp.create_sales_order(order, customer_id=customer, products=products)

    [record] = ns.app.sales_orders()
    assert sale.id == record["id"] and record["orderStatus"]["id"] == "B" and sale.state == "confirmed"
    assert ns.app.committed("HOOD-GRY-M") == 1


def test_an_order_pending_approval_is_cancelled_and_an_approved_one_closed() -> None:
    ns = Sandboxed(approve_on_create=False)
    order, customer, products = ns.order(1001)
    pending = ns.erp.create_sales_order(order, customer_id=customer, products=products)
    assert pending.state == "draft" and ns.app.committed("HOOD-GRY-M") == 0
    assert ns.erp.cancel_sales_order(pending).state == "cancelled"
    ns.erp.config = settings(api_url=BASE)
    second, _, _ = ns.order(1002)
    approved = ns.erp.create_sales_order(second, customer_id=customer, products=products)
    assert ns.app.committed("HOOD-GRY-M") == 1
    assert ns.erp.cancel_sales_order(approved).state == "cancelled"
    assert ns.erp.cancel_sales_order(approved).state == "cancelled"  # repeating it changes nothing
    statuses = sorted(record["orderStatus"]["id"] for record in ns.app.sales_orders())
    assert statuses == ["C", "H"] and ns.app.committed("HOOD-GRY-M") == 0


def test_an_order_in_a_currency_the_account_lacks_parks_as_unknown_currency() -> None:
    ns = Sandboxed()
    order, customer, products = ns.order()
    with pytest.raises(PermanentError) as raised:
        ns.erp.create_sales_order(order.model_copy(update={"currency": "JPY"}), customer_id=customer,
                                  products=products)
    assert raised.value.reason == "unknown_currency" and ns.app.sales_orders() == []


def test_a_fulfilled_order_is_not_rewritten_by_a_later_store_edit() -> None:
    ns = Sandboxed()
    order, customer, products = ns.order()
    sale = ns.erp.create_sales_order(order, customer_id=customer, products=products)
    [record] = [row for row in ns.app.tables["transaction"].values() if row["recordtype"] == "salesorder"]
    record["lines"][0]["quantityfulfilled"] = 1  # a warehouse shipped part of it
    first = order.lines[0]
    more = first.unit_price.amount * (5 - first.quantity)  # the edit's total stays consistent with its lines
    bigger = order.model_copy(update={"lines": (first.model_copy(update={"quantity": 5}), *order.lines[1:]),
                                      "total": order.total.model_copy(update={"amount": order.total.amount + more})})
    with pytest.raises(PermanentError) as raised:
        ns.erp.update_sales_order(sale, bigger, products=products)
    assert raised.value.reason == "order_edited_after_confirmation"
