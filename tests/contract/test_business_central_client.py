"""Pins Business Central API v2.0 shapes the connector relies on, on bodies Microsoft published (events/
business_central/, sources in events/README.md): Entra client-credentials tokens through msal, OData filters with
escaping, deep insert, ETags and 412, `$batch`, paging, 429 and BC's error codes."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from synchub.connectors.business_central.client import CREDENTIALS, BusinessCentralClient, EntityChanged
from synchub.connectors.business_central.erp import BusinessCentralErp
from synchub.connectors.business_central.settings import BusinessCentralSettings
from synchub.connectors.http import RetryPolicy
from synchub.connectors.shopify.mapping import ShopifyPayloads
from synchub.errors import PermanentError, TransientError, VendorRejected

from tests.eventdata import load_json

EVENTS = Path(__file__).resolve().parents[2] / "events" / "business_central"
TENANT = "contoso.onmicrosoft.com"
COMPANY = "a0a0a0a0-bbbb-cccc-dddd-e1e1e1e1e1e1"  # the company id of Microsoft's "Tips for working with the APIs"
SECRET = "client-secret-value-never-logged"
LOGIN = "https://login.microsoftonline.com"
API = f"https://api.businesscentral.dynamics.com/v2.0/{TENANT}/production/api/v2.0/companies({COMPANY})"


def sample(name: str) -> Any:
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


Answer = Callable[[httpx.Request], httpx.Response]


class FakeMicrosoft:
    """Entra (instance discovery, OpenID configuration, token) and BC answers from a list, recording requests."""

    def __init__(self, *answers: Answer, token: httpx.Response | None = None) -> None:
        self.answers = list(answers)
        self.token_answer = token or httpx.Response(200, json=sample("entra_token_200"))
        self.api: list[httpx.Request] = []
        self.tokens: list[dict[str, list[str]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url.startswith(f"{LOGIN}/common/discovery/instance"):
            return httpx.Response(200, json={"tenant_discovery_endpoint":
                                             f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration",
                                             "api-version": "1.1", "metadata": []})
        if url.startswith(f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration"):
            return httpx.Response(200, json={"token_endpoint": f"{LOGIN}/{TENANT}/oauth2/v2.0/token",
                                             "authorization_endpoint": f"{LOGIN}/{TENANT}/oauth2/v2.0/authorize",
                                             "issuer": f"{LOGIN}/{TENANT}/v2.0"})
        if url == f"{LOGIN}/{TENANT}/oauth2/v2.0/token":
            self.tokens.append(parse_qs(request.content.decode()))
            return self.token_answer
        self.api.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(request)


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
    return lambda request: httpx.Response(status, json=body, headers=headers) if body is not None else \
        httpx.Response(status, headers=headers)


def erp(fake: FakeMicrosoft, sleeps: list[float] | None = None, **settings: Any) -> BusinessCentralErp:
    http = httpx.Client(transport=httpx.MockTransport(fake))
    policy = RetryPolicy(max_attempts=3, sleep=(sleeps.append if sleeps is not None else lambda _: None))
    client = BusinessCentralClient.connect(api_url="https://api.businesscentral.dynamics.com", authority_url=LOGIN,
                                           tenant=TENANT, environment="production", company_id=COMPANY,
                                           client_id="3c1a9f5e-0b7d-4e52-9a61-5d2f8c4b7e10", client_secret=SECRET,
                                           http_client=http, policy=policy)
    config = BusinessCentralSettings(tenant=TENANT, company_id=COMPANY, **settings)
    return BusinessCentralErp(client, config)


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def test_a_client_credentials_token_is_fetched_once_and_sent_as_bearer_on_the_filtered_search() -> None:
    fake = FakeMicrosoft(reply(200, {"value": []}))
    connector = erp(fake)

    assert connector.find_sales_order("main:1") is None
    assert connector.find_sales_order("main:2") is None

    [token] = fake.tokens  # msal's cache served the second call
    assert token["grant_type"] == ["client_credentials"] and token["client_secret"] == [SECRET]
    assert token["scope"][0].split() == ["https://api.businesscentral.dynamics.com/.default"]
    first = fake.api[0]
    assert str(first.url).startswith(f"{API}/salesOrders?")
    assert first.url.params["$filter"] == "externalDocumentNumber eq 'main:1'"
    assert first.headers["Authorization"] == f"Bearer {sample('entra_token_200')['access_token']}"


def test_a_sku_with_a_quote_is_escaped_in_the_odata_filter() -> None:
    item = sample("item_get_200")
    fake = FakeMicrosoft(reply(200, {"value": [{**item, "number": "O'NEIL-01"}]}))

    found = erp(fake).resolve_products(["O'NEIL-01"])

    assert found == {"O'NEIL-01": item["id"]}
    assert fake.api[0].url.params["$filter"] == "number eq 'O''NEIL-01'"


def test_an_order_is_one_deep_insert_with_its_lines_and_the_documented_answer_is_its_reference() -> None:
    created = sample("sales_order_create_201")
    services = [{"id": f"svc-{code}", "number": code, "type": "Service"} for code in ("SHIPPING", "DISCOUNT", "TAX",
                                                                                        "ADJUSTMENT")]
    fake = FakeMicrosoft(reply(200, {"value": services}), reply(201, created))
    order = ShopifyPayloads().order("main", load_json("shopify/orders_create"))
    products = {sku: f"item-{sku}" for sku in order.skus}
    connector = erp(fake, tax_code="NONTAXABLE")
    connector._just_absent = (order.store_reference, __import__("time").monotonic())  # the flow searched just now

    ref = connector.create_sales_order(order, customer_id=created["customerId"], products=products)

    post = fake.api[-1]
    assert post.method == "POST" and str(post.url) == f"{API}/salesOrders"
    sent = body(post)
    assert sent["externalDocumentNumber"] == order.store_reference and sent["customerId"] == created["customerId"]
    lines = sent["salesOrderLines"]
    assert {line["taxCode"] for line in lines} == {"NONTAXABLE"}
    assert sum(round(line["quantity"] * line["unitPrice"], 2) for line in lines) == pytest.approx(float(order.total.amount))
    assert {"svc-SHIPPING", "svc-TAX", "svc-DISCOUNT"} <= {line["itemId"] for line in lines}
    assert ref.id == created["id"] and ref.number == "101005" and ref.state == "open"  # "Draft" is BC's Open
    assert len(fake.api) == 2  # services resolved in one call, the order in one


def test_a_stale_etag_is_re_read_and_the_patch_retried_with_the_fresh_one() -> None:
    customer = {**sample("customer_create_201"), "id": "c04c550b-593f-ee11-be74-6045bdc8c285"}
    old = {**customer, "@odata.etag": 'W/"old"', "displayName": "Old name"}
    new = {**customer, "@odata.etag": 'W/"new"', "displayName": "Older name"}
    fake = FakeMicrosoft(reply(200, {"value": [old]}), reply(412, sample("error_412_entity_changed")),
                         reply(200, {"value": [new]}), reply(200, new))
    from synchub.models import Customer

    person = Customer(source_id="1", email=customer["email"], first_name="Adatum", last_name="Corporation")
    assert erp(fake).upsert_customer(person, reference="main:1") == customer["id"]

    patches = [request for request in fake.api if request.method == "PATCH"]
    assert [request.headers["If-Match"] for request in patches] == ['W/"old"', 'W/"new"']
    assert body(patches[-1])["displayName"] == "Adatum Corporation"


def test_refused_bc_credentials_are_permanent_without_retry_and_without_the_secret() -> None:
    fake = FakeMicrosoft(reply(401, sample("error_401_invalid_credentials")))

    with pytest.raises(PermanentError) as raised:
        erp(fake).find_sales_order("main:1")

    assert raised.value.reason == CREDENTIALS and SECRET not in str(raised.value)
    assert len(fake.api) == 1


def test_a_refused_client_secret_at_entra_is_the_same_permanent_reason() -> None:
    fake = FakeMicrosoft(reply(200, {"value": []}),
                         token=httpx.Response(401, json=sample("entra_token_401_invalid_client")))

    with pytest.raises(PermanentError) as raised:
        erp(fake).find_sales_order("main:1")

    assert raised.value.reason == CREDENTIALS and "7000215" in str(raised.value) and SECRET not in str(raised.value)
    assert fake.api == []


def test_throttling_is_retried_after_retry_after_and_an_outage_that_outlasts_the_retries_is_transient() -> None:
    sleeps: list[float] = []
    fake = FakeMicrosoft(reply(429, {"error": {"code": "Application_TooManyRequests", "message": "Too many"}},
                               {"Retry-After": "7"}), reply(200, {"value": []}))
    assert erp(fake, sleeps).find_sales_order("main:1") is None
    assert sleeps == [7.0]

    down = FakeMicrosoft(reply(503, sample("error_500_tenant_unavailable")))
    with pytest.raises(TransientError):
        erp(down).find_sales_order("main:1")
    assert len(down.api) == 3


def test_a_failed_inner_request_of_a_snapshot_batch_raises_its_error() -> None:
    order = {**sample("sales_order_get_200"), "status": "Draft", "@odata.etag": 'W/"o"', "salesOrderLines": [
        {**sample("sales_order_line_get_200"), "@odata.etag": 'W/"l"'}]}
    fake = FakeMicrosoft(reply(200, order), reply(200, sample("batch_snapshot_failed_200")))
    connector = erp(fake, accounts={code: "40100" for code in ("SHIPPING", "TAX", "DISCOUNT", "ADJUSTMENT")})
    shop = ShopifyPayloads().order("main", load_json("shopify/orders_create"))
    ref = connector.find_sales_order  # noqa: F841 - the update reads the order itself
    from synchub.ports import SalesOrderRef

    with pytest.raises(VendorRejected) as raised:
        connector.update_sales_order(SalesOrderRef(id=order["id"], state="open", reference=shop.store_reference), shop,
                                     products={sku: f"item-{sku}" for sku in shop.skus})

    assert raised.value.category == "Unknown" and "Invalid Type" in str(raised.value)
    batch = fake.api[-1]
    assert str(batch.url).endswith("/api/v2.0/$batch") and batch.headers["Isolation"] == "snapshot"
    requests = body(batch)["requests"]
    assert requests[0]["method"] == "DELETE" and requests[0]["headers"]["If-Match"] == 'W/"l"'
    assert all(r["url"].startswith(f"companies({COMPANY})/") for r in requests)
    assert {r["body"]["lineType"] for r in requests[1:]} == {"Item", "Account"}


def test_item_ledger_entries_drive_stock_changes_and_the_watermark_is_the_last_entry_number() -> None:
    entry = sample("item_ledger_entry_get_200")
    item = {**sample("item_get_200"), "number": entry["itemNumber"], "type": "Inventory"}
    fake = FakeMicrosoft(reply(200, {"value": [entry]}), reply(200, {"value": [item]}))

    changes = erp(fake).stock_changes(f"ile:{entry['entryNumber'] - 1}", ["WH"])

    assert fake.api[0].url.params["$filter"] == f"entryNumber gt {entry['entryNumber'] - 1}"
    assert changes.watermark == f"ile:{entry['entryNumber']}"
    [level] = changes.levels
    assert level.sku == item["number"] and level.on_hand == round(item["inventory"]) and level.reserved == 0


def test_full_stock_follows_next_links_with_the_page_size_preference() -> None:
    item = {**sample("item_get_200"), "type": "Inventory"}
    link = f"{API}/items?$skiptoken=2"
    fake = FakeMicrosoft(reply(200, {"value": [{**item, "number": "A"}, {**item, "number": "B"}],
                                     "@odata.nextLink": link}), reply(200, {"value": [{**item, "number": "C"}]}))

    pages = [[level.sku for level in page] for page in erp(fake).iter_stock(["WH"], page_size=2)]

    assert pages == [["A", "B"], ["C"]]
    assert str(fake.api[1].url) == link and fake.api[0].headers["Prefer"] == "odata.maxpagesize=2"


def test_more_than_one_warehouse_without_a_location_stock_api_is_refused_clearly() -> None:
    with pytest.raises(PermanentError) as raised:
        erp(FakeMicrosoft(reply(200, {"value": []}))).stock_changes(None, ["WH", "EU"])
    assert raised.value.reason == "stock_per_location_unsupported"


def test_entity_changed_is_transient() -> None:
    assert issubclass(EntityChanged, TransientError)


def _sandboxed_order(currency: str = "USD"):
    from tests.conformance.providers import business_central

    payload = load_json("shopify/orders_create")
    payload["currency"] = currency
    return business_central("sales_orders"), ShopifyPayloads().order("main", payload)


def test_an_unknown_currency_and_edits_to_a_released_order_park_with_their_reasons() -> None:
    harness, order = _sandboxed_order("CHF")
    with harness as provider:
        connector, app = provider.adapter, provider.extra["sandbox"]
        products = connector.resolve_products(order.skus)
        customer = connector.upsert_customer(order.customer, reference="main:c1")
        with pytest.raises(PermanentError) as raised:
            connector.create_sales_order(order, customer_id=customer, products=products)
        assert raised.value.reason == "unknown_currency" and app.records("salesOrders") == []

        usd = order.model_copy(update={"currency": "USD"})
        sale = connector.create_sales_order(usd, customer_id=customer, products=products)
        app.release(sale.id)
        from tests.conformance.test_erp_capabilities import _order

        doubled = _order(str(order.source_id), quantity=2).model_copy(update={"store": "main"})  # balanced, bigger
        with pytest.raises(PermanentError) as raised:
            connector.update_sales_order(sale, doubled, products=products)
        assert raised.value.reason == "order_edited_after_confirmation"
        assert connector.update_sales_order(sale, usd, products=products).state == "released"  # unchanged: fine
        with pytest.raises(PermanentError) as raised:
            connector.cancel_sales_order(sale)
        assert raised.value.reason == "cannot_cancel_released" and len(app.records("salesOrders")) == 1
