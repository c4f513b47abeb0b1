"""The HubSpot sandbox's own contract: auth, rate limit and its headers, batch limits, search, properties,
associations and fault injection, as HubSpot documents them."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from infra.local.sandboxes.hubspot import create_app

TOKEN = "pat-na1-sandbox"
UPSERT = "/crm/v3/objects/contacts/batch/upsert"
SEARCH = "/crm/v3/objects/contacts/search"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(clock: FakeClock):
    return create_app(TOKEN, clock=clock)


def client_for(app, token: str | None = TOKEN) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="https://api.hubapi.test", headers=headers)


@pytest.fixture
def api(app) -> httpx.Client:
    return client_for(app)


def contact_inputs(numbers: range, **properties: Any) -> dict[str, Any]:
    return {"inputs": [{"idProperty": "email", "id": f"c{n}@example.com",
                        "properties": {"firstname": f"C{n}", "zip": str(n), **properties}} for n in numbers]}


@pytest.mark.parametrize("token", [None, "pat-na1-wrong"])
def test_missing_or_wrong_bearer_gets_401_in_hubspot_shape(app, token):
    response = client_for(app, token).post(UPSERT, json=contact_inputs(range(1)))

    assert response.status_code == 401
    body = response.json()
    assert body["status"] == "error" and body["category"] == "INVALID_AUTHENTICATION"
    assert body["message"] and body["correlationId"]
    assert app.objects("contacts") == []


def test_the_rolling_window_answers_429_after_n_requests_with_headers(clock):
    app = create_app(TOKEN, requests_per_10s=3, daily_limit=1000, clock=clock)
    api = client_for(app)

    answers = [api.get("/crm/v4/associations/deals/contacts/labels") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-HubSpot-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0].headers["X-HubSpot-RateLimit-Max"] == "3"
    assert answers[0].headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert answers[2].headers["X-HubSpot-RateLimit-Daily"] == "1000"
    assert answers[2].headers["X-HubSpot-RateLimit-Daily-Remaining"] == "997"
    body = answers[3].json()
    assert body | {"correlationId": "x", "groupName": "g"} == {
        "status": "error", "message": "You have reached your ten_secondly_rolling limit.", "errorType": "RATE_LIMIT",
        "correlationId": "x", "policyName": "TEN_SECONDLY_ROLLING", "groupName": "g"}
    clock.now += 9.9
    assert api.get("/crm/v4/associations/deals/contacts/labels").status_code == 429
    clock.now += 0.1
    assert api.get("/crm/v4/associations/deals/contacts/labels").status_code == 200


def test_the_daily_limit_answers_429_with_the_daily_policy(clock):
    api = client_for(create_app(TOKEN, daily_limit=2, clock=clock))
    statuses = [api.get("/crm/v3/objects/contacts").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert api.get("/crm/v3/objects/contacts").json()["policyName"] == "DAILY"


def test_search_has_its_own_lower_limit_per_second(clock):
    api = client_for(create_app(TOKEN, search_requests_per_second=2, clock=clock))
    statuses = [api.post(SEARCH, json={}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    clock.now += 1
    assert api.post(SEARCH, json={}).status_code == 200


def test_more_than_100_inputs_is_a_400_validation_error(api, app):
    response = api.post(UPSERT, json=contact_inputs(range(101)))

    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["category"]) == ("error", "VALIDATION_ERROR")
    assert "100" in body["message"] and body["correlationId"]
    assert app.objects("contacts") == []


def test_batch_upsert_is_200_with_new_flags_then_207_for_invalid_inputs(api, app):
    first = api.post(UPSERT, json=contact_inputs(range(2)))
    assert first.status_code == 200
    assert [r["new"] for r in first.json()["results"]] == [True, True]

    mixed = api.post(UPSERT, json={"inputs": [
        *contact_inputs(range(1))["inputs"],
        {"idProperty": "email", "id": "not-an-email", "objectWriteTraceId": "t-2", "properties": {}},
        {"idProperty": "email", "id": "c9@example.com", "properties": {"no_such_property": "x"}}]})

    assert mixed.status_code == 207
    body = mixed.json()
    assert [r["new"] for r in body["results"]] == [False]
    assert body["numErrors"] == 2
    [bad_email, unknown] = body["errors"]
    assert bad_email["category"] == "VALIDATION_ERROR" and bad_email["errors"][0]["code"] == "INVALID_EMAIL"
    assert bad_email["context"] == {"ids": ["not-an-email"], "objectWriteTraceId": ["t-2"]}
    assert unknown["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    assert len(app.objects("contacts")) == 2


def test_upsert_needs_a_unique_id_property_and_unique_ids(api):
    by_name = api.post(UPSERT, json={"inputs": [{"idProperty": "firstname", "id": "Ada", "properties": {}}]})
    twice = api.post(UPSERT, json={"inputs": [{"idProperty": "email", "id": "a@example.com", "properties": {}},
                                              {"idProperty": "email", "id": "A@example.com", "properties": {}}]})
    assert (by_name.status_code, twice.status_code) == (400, 400)


def test_a_property_created_with_has_unique_value_becomes_an_upsert_key(api, app):
    definition = {"name": "synchub_order_ref", "label": "Order", "type": "string", "fieldType": "text",
                  "groupName": "dealinformation", "hasUniqueValue": True}
    assert api.get("/crm/v3/properties/deals/synchub_order_ref").status_code == 404
    assert api.post("/crm/v3/properties/deals", json=definition).status_code == 201
    assert api.post("/crm/v3/properties/deals", json=definition).json()["category"] == "OBJECT_ALREADY_EXISTS"
    assert api.get("/crm/v3/properties/deals/synchub_order_ref").json()["hasUniqueValue"] is True
    assert "synchub_order_ref" in {p["name"] for p in api.get("/crm/v3/properties/deals").json()["results"]}

    deal = {"idProperty": "synchub_order_ref", "id": "shop:1", "properties": {"dealname": "Order 1", "amount": "9.90"}}
    answers = [api.post("/crm/v3/objects/deals/batch/upsert", json={"inputs": [deal]}) for _ in range(2)]

    assert [a.json()["results"][0]["new"] for a in answers] == [True, False]
    assert len(app.objects("deals")) == 1
    duplicate = api.post("/crm/v3/objects/deals", json={"properties": {"synchub_order_ref": "shop:1"}})
    assert (duplicate.status_code, duplicate.json()["category"]) == (409, "CONFLICT")


def test_single_object_create_get_and_patch(api):
    created = api.post("/crm/v3/objects/contacts", json={"properties": {"email": "Ann@Example.com",
                                                                       "firstname": "Анна"}})
    assert created.status_code == 201
    contact_id = created.json()["id"]
    assert api.patch(f"/crm/v3/objects/contacts/{contact_id}",
                     json={"properties": {"lastname": "Иванова"}}).status_code == 200
    by_email = api.get("/crm/v3/objects/contacts/ann@example.com", params={"idProperty": "email",
                                                                          "properties": "firstname,lastname"})
    properties = by_email.json()["properties"]
    assert (properties["firstname"], properties["lastname"], properties["hs_object_id"]) == ("Анна", "Иванова",
                                                                                           contact_id)
    assert api.get("/crm/v3/objects/contacts/999999").status_code == 404
    assert api.post("/crm/v3/objects/contacts", json={"properties": {"email": "ann@example.com"}}).status_code == 409


def test_search_filters_sorts_and_pages_with_after(api):
    assert api.post(UPSERT, json=contact_inputs(range(25))).status_code == 200
    between = {"filterGroups": [{"filters": [{"propertyName": "zip", "operator": "GTE", "value": "5"},
                                             {"propertyName": "zip", "operator": "LT", "value": "20"}]}],
               "sorts": [{"propertyName": "zip", "direction": "DESCENDING"}], "properties": ["zip"], "limit": 10}

    first = api.post(SEARCH, json=between).json()
    second = api.post(SEARCH, json={**between, "after": first["paging"]["next"]["after"]}).json()

    assert first["total"] == 15
    assert [r["properties"]["zip"] for r in first["results"] + second["results"]] == [str(n) for n in range(19, 4, -1)]
    assert "paging" not in second
    either = {"filterGroups": [{"filters": [{"propertyName": "zip", "operator": "IN", "values": ["1", "2"]}]},
                               {"filters": [{"propertyName": "email", "operator": "EQ", "value": "C24@EXAMPLE.COM"}]}]}
    assert api.post(SEARCH, json=either).json()["total"] == 3
    assert api.post(SEARCH, json={"filterGroups": [{"filters": [
        {"propertyName": "lastname", "operator": "HAS_PROPERTY"}]}]}).json()["total"] == 0
    assert api.post(SEARCH, json={"filterGroups": [{"filters": [
        {"propertyName": "zip", "operator": "NEQ", "value": "3"}]}]}).json()["total"] == 24


def test_search_refuses_pages_over_200_and_paging_past_10000(api):
    assert api.post(SEARCH, json={"limit": 201}).status_code == 400
    assert api.post(SEARCH, json={"after": "10000"}).status_code == 400
    too_many_groups = {"filterGroups": [{"filters": []}] * 6}
    assert api.post(SEARCH, json=too_many_groups).status_code == 400


def test_default_associations_use_the_labelled_type_ids_and_can_be_read_back(api, app):
    contact = api.post("/crm/v3/objects/contacts", json={"properties": {"email": "a@example.com"}}).json()["id"]
    deal = api.post("/crm/v3/objects/deals", json={"properties": {"dealname": "D"}}).json()["id"]
    item = api.post("/crm/v3/objects/line_items", json={"properties": {"name": "Mug", "quantity": "2"}}).json()["id"]

    labels = {pair: api.get(f"/crm/v4/associations/{pair}/labels").json()["results"][0]["typeId"]
              for pair in ("deals/contacts", "contacts/deals", "deals/line_items")}
    assert labels == {"deals/contacts": 3, "contacts/deals": 4, "deals/line_items": 19}

    for _ in range(2):
        put = api.put(f"/crm/v4/objects/deals/{deal}/associations/default/contacts/{contact}")
        assert put.status_code == 200
    assert {r["associationSpec"]["associationTypeId"] for r in put.json()["results"]} == {3, 4}
    batch = api.post("/crm/v4/associations/deals/line_items/batch/associate/default",
                     json={"inputs": [{"from": {"id": deal}, "to": {"id": item}}]})
    assert batch.status_code == 200

    read = api.get(f"/crm/v4/objects/deals/{deal}/associations/contacts").json()["results"]
    assert read == [{"toObjectId": int(contact), "associationTypes": [
        {"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None}]}]
    assert app.associated_ids("deals", deal, "line_items") == [item]
    missing = api.put(f"/crm/v4/objects/deals/{deal}/associations/default/contacts/424242")
    assert missing.status_code == 404


def test_outage_and_fail_next_inject_faults_until_restored(api, app):
    app.fail_next(2, 502, retry_after=1.5)
    failed = [api.get("/crm/v3/objects/contacts") for _ in range(2)]
    assert [f.status_code for f in failed] == [502, 502] and failed[0].headers["Retry-After"] == "1.5"
    assert api.get("/crm/v3/objects/contacts").status_code == 200

    app.outage()
    assert api.get("/crm/v3/objects/contacts").status_code == 503
    app.restore()
    assert api.get("/crm/v3/objects/contacts").status_code == 200


def test_inspection_route_lists_objects_for_the_token_holder_only(api, app):
    api.post(UPSERT, json=contact_inputs(range(3)))

    listed = api.get("/_sandbox/objects/contacts").json()["results"]

    assert [c["properties"]["email"] for c in listed] == [f"c{n}@example.com" for n in range(3)]
    assert listed == app.objects("contacts")
    assert client_for(app, None).get("/_sandbox/objects/contacts").status_code == 401


def test_concurrent_upserts_of_the_same_contacts_never_duplicate_them(app):
    def upsert(_: int) -> int:
        with client_for(app) as api:
            return api.post(UPSERT, json=contact_inputs(range(20))).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(upsert, range(16)))

    assert statuses == [200] * 16
    assert sorted(c["properties"]["email"] for c in app.objects("contacts")) == sorted(
        f"c{n}@example.com" for n in range(20))
    assert len({c["id"] for c in app.objects("contacts")}) == 20
