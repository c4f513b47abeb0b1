"""The NetSuite sandbox answers in NetSuite's published shapes (events/netsuite/), so the client tested on it is
tested on NetSuite's contract: the 401 and 400 bodies, SuiteQL paging, OAuth checks, throttling over the
account's concurrency limit."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

from infra.local.sandboxes.netsuite import create_app
from tests.netsuite_keys import TBA, m2m, private_key

EVENTS = Path(__file__).resolve().parents[2] / "events" / "netsuite"
BASE = "https://123456-sb1.suitetalk.api.netsuite.com/services/rest"


def sample(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def signed(method: str, url: str, *, nonce: str | None = None, realm: str = "123456_SB1",
           secret: str = TBA["token_secret"]) -> dict[str, str]:
    oauth = Client(TBA["consumer_key"], client_secret=TBA["consumer_secret"], resource_owner_key=TBA["token_id"],
                   resource_owner_secret=secret, signature_method=SIGNATURE_HMAC_SHA256, realm=realm, nonce=nonce)
    _, headers, _ = oauth.sign(url, http_method=method)
    return {"Authorization": headers["Authorization"]}


def http(app: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app))


def suiteql(client: httpx.Client, q: str, limit: int = 1000, offset: int = 0) -> httpx.Response:
    url = f"{BASE}/query/v1/suiteql?limit={limit}&offset={offset}"
    return client.post(url, json={"q": q}, headers={"Prefer": "transient", **signed("POST", url)})


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer not-a-token"},
    "wrong-secret", "wrong-realm",
], ids=["none", "unknown-bearer", "bad-signature", "bad-realm"])
def test_a_refused_login_gets_the_published_invalid_login_body(headers: Any) -> None:
    url = f"{BASE}/record/v1/salesOrder/eid:x"
    if headers == "wrong-secret":
        headers = signed("GET", url, secret="not-the-secret")
    elif headers == "wrong-realm":
        headers = signed("GET", url, realm="654321")
    answer = http(create_app(tba=TBA, m2m=m2m())).get(url, headers=headers)
    assert answer.status_code == 401 and answer.json() == sample("error_invalid_login.json")


def test_a_replayed_nonce_is_refused() -> None:
    client = http(create_app(tba=TBA))
    url = f"{BASE}/record/v1/salesOrder/eid:x"
    headers = signed("GET", url, nonce="nonce-0123456789")
    assert client.get(url, headers=headers).status_code == 404  # authenticated: no such order
    assert client.get(url, headers=headers).status_code == 401


def test_the_published_invalid_item_request_gets_the_published_invalid_content_body() -> None:
    client = http(create_app(tba=TBA))
    customer_url = f"{BASE}/record/v1/customer/eid:doc-107"
    created = client.put(customer_url, json={"isPerson": True, "lastName": "Doe"}, headers=signed("PUT", customer_url))
    assert created.status_code == 204
    customer = created.headers["Location"].rsplit("/", 1)[-1]
    body = sample("sales_order_invalid_item_request.json")
    body["entity"]["id"] = int(customer)  # the doc's customer 107 is the account's; ours has its own id
    url = f"{BASE}/record/v1/salesOrder"
    answer = client.post(url, json=body, headers=signed("POST", url))
    assert answer.status_code == 400 and answer.json() == sample("error_invalid_content_sales_order.json")


def test_suiteql_pages_carry_links_has_more_and_total_results_as_documented() -> None:
    client = http(create_app(tba=TBA))
    first = suiteql(client, "SELECT id, itemid FROM item WHERE itemtype = 'InvtPart' ORDER BY itemid, id", limit=3)
    page = first.json()
    shape = sample("suiteql_item_page.json")
    assert first.status_code == 200 and set(page) == set(shape)
    assert page["count"] == 3 and page["hasMore"] is True and page["totalResults"] == 8 and page["offset"] == 0
    assert [link["rel"] for link in page["links"]] == [link["rel"] for link in shape["links"]]
    assert page["items"][0] == {"links": [], "id": page["items"][0]["id"], "itemid": "BOTTLE-750"}
    last = suiteql(client, "SELECT id, itemid FROM item WHERE itemtype = 'InvtPart' ORDER BY itemid, id", limit=3,
                   offset=6).json()
    assert last["hasMore"] is False and last["count"] == 2 and [link["rel"] for link in last["links"]] == ["self"]


@pytest.mark.parametrize(("query", "limit"), [
    ("SELECT id FROM item ORDER BY id", 1001),
    ("SELECT id FROM item i JOIN location l ON i.id = l.id ORDER BY id", 10),
    ("DELETE FROM item", 10),
])
def test_what_the_sandbox_cannot_run_is_refused_in_netsuite_s_error_shape(query: str, limit: int) -> None:
    answer = suiteql(http(create_app(tba=TBA)), query, limit=limit)
    assert answer.status_code == 400
    assert set(answer.json()) == set(sample("error_invalid_login.json"))
    assert answer.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_PARAMETER"


def test_the_token_endpoint_checks_the_assertion_against_the_certificate() -> None:
    client = http(create_app(m2m=m2m()))
    token_url = f"{BASE}/auth/oauth2/v1/token"

    def ask(kid: str = m2m()["certificate_id"], aud: str = token_url, scope: str = "rest_webservices",
            life: int = 3000) -> httpx.Response:
        now = int(time.time())
        assertion = jwt.encode({"iss": m2m()["client_id"], "scope": scope, "aud": aud, "iat": now, "exp": now + life},
                               private_key(), algorithm="ES256", headers={"kid": kid})
        return client.post(token_url, data={"grant_type": "client_credentials", "client_assertion": assertion,
                                            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})

    good = ask()
    assert good.status_code == 200 and set(good.json()) == set(sample("m2m_token_response.json"))
    assert ask(kid="another-certificate").status_code == 401
    assert ask(aud="https://elsewhere.example/token").json() == {"error": "invalid_grant"}
    assert ask(scope="restlets").json() == {"error": "invalid_scope"}
    assert ask(life=7200).status_code == 400
    api = client.get(f"{BASE}/record/v1/salesOrder/eid:x",
                     headers={"Authorization": f"Bearer {good.json()['access_token']}"})
    assert api.status_code == 404  # the token opens the API


def test_over_the_account_concurrency_limit_the_answer_is_429_in_netsuite_s_shape() -> None:
    app = create_app(tba=TBA, account_limit=15)
    app.other_integrations = 15  # every slot taken by the merchant's other integrations
    answer = suiteql(http(app), "SELECT id FROM item ORDER BY id")
    assert answer.status_code == 429 and answer.json() == sample("error_concurrency_limit.json")
    app.other_integrations = 14
    assert suiteql(http(app), "SELECT id FROM item ORDER BY id").status_code == 200


def test_closing_an_approved_order_s_lines_releases_its_commitment_and_closes_it() -> None:
    app = create_app(tba=TBA)
    client = http(app)
    url = f"{BASE}/record/v1/customer/eid:c1"
    customer = client.put(url, json={"isPerson": True, "lastName": "Doe"}, headers=signed("PUT", url)).headers[
        "Location"].rsplit("/", 1)[-1]
    mug = suiteql(client, "SELECT id FROM item WHERE itemid = 'MUG-CER-01' ORDER BY id").json()["items"][0]["id"]
    url = f"{BASE}/record/v1/salesOrder"
    created = client.post(url, json={"externalId": "main_3A1", "entity": {"id": customer}, "orderStatus": {"id": "B"},
                                     "item": {"items": [{"item": {"id": mug}, "quantity": 2, "rate": 14.5}]}},
                          headers=signed("POST", url))
    assert created.status_code == 204 and app.committed("MUG-CER-01") == 2
    order = created.headers["Location"].rsplit("/", 1)[-1]
    again = client.post(url, json={"externalId": "main_3A1", "entity": {"id": customer}, "item": {"items": []}},
                        headers=signed("POST", url))
    assert again.status_code == 400 and again.json()["o:errorDetails"][0]["o:errorCode"] == "DUP_RCRD"
    url = f"{BASE}/record/v1/salesOrder/{order}"
    closed = client.patch(url, json={"item": {"items": [{"line": 1, "isClosed": True}]}}, headers=signed("PATCH", url))
    assert closed.status_code == 204 and app.committed("MUG-CER-01") == 0
    [sale] = app.sales_orders("main_3A1")
    assert sale["orderStatus"] == {"id": "H", "refName": "Closed"}


def test_governance_limits_answer_in_the_published_shapes() -> None:
    app = create_app(tba=TBA, account_limit=5)
    url = f"{BASE}/system/v1/governanceLimits"
    shared = http(app).get(url, headers=signed("GET", url)).json()
    assert set(shared) == set(sample("governance_limits_account_limit.json"))
    assert shared["integrationLimitType"] == "accountLimit"
    app.allocated = 2
    own = http(app).get(url, headers=signed("GET", url)).json()
    assert own == sample("governance_limits_integration_specific.json")
