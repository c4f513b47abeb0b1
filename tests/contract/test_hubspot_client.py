"""HubSpot CRM client and HubSpotCrm against the sandbox (WSGI) and mock transports.

Pins the URL, bearer header and bodies HubSpot documents, 100-input batches, 207 partial results,
429 and pacing on the rate-limit headers, idempotent deals with their contact association, and
names in any script arriving intact.
"""
from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from synchub.connectors.http import RetryPolicy
from synchub.connectors.hubspot.client import HubSpotApiError, rate_limit_pause
from synchub.connectors.hubspot.crm import HubSpotCrm, hubspot_crm_from_config
from synchub.connectors.hubspot.settings import HubSpotSettings
from synchub.errors import PermanentError, TransientError
from synchub.models import Address, Customer, Deal, Money

from infra.local.sandboxes.hubspot import create_app

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
API_URL = "https://api.hubapi.test"
EVENTS = Path(__file__).resolve().parents[2] / "events" / "hubspot"
UPSERT = "/crm/v3/objects/contacts/batch/upsert"


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


class FakeClock:
    """Monotonic time that moves only when the client sleeps: pacing is observable and instant."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """What the client sent, what came back and every wait it asked for."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock
        self.requests: list[httpx.Request] = []
        self.statuses: list[int] = []
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.clock is not None:
            self.clock.now += seconds

    def bodies(self, path: str) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if r.url.path == path]


def make_crm(transport: httpx.BaseTransport, recorder: Recorder, *, token: str = TOKEN, **config: Any) -> HubSpotCrm:
    client = httpx.Client(transport=transport, event_hooks={
        "request": [recorder.requests.append],
        "response": [lambda response: recorder.statuses.append(response.status_code)]})
    policy = RetryPolicy(sleep=recorder.sleep, rng=random.Random(7))
    return hubspot_crm_from_config(HubSpotSettings(api_url=API_URL, **config),
                                   {"access_token": token}, client, policy=policy)


def customer(n: int, **fields: Any) -> Customer:
    values: dict[str, Any] = {"source_id": str(7000 + n), "email": f"buyer{n}@example.com",
                              "first_name": f"Buyer{n}", "last_name": "Example"}
    return Customer(**{**values, **fields})


def deal(reference: str = "shop-eu:5550001", **fields: Any) -> Deal:
    values: dict[str, Any] = {"reference": reference, "name": "Order #1001", "pipeline": "default",
                              "amount": Money(amount=Decimal("1234.50"), currency="EUR"),
                              "stage": "contractsent"}
    return Deal(**{**values, **fields})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder(clock: FakeClock) -> Recorder:
    return Recorder(clock)


@pytest.fixture
def sandbox(clock: FakeClock):
    return create_app(TOKEN, clock=clock)


@pytest.fixture
def crm(sandbox, recorder: Recorder) -> HubSpotCrm:
    return make_crm(httpx.WSGITransport(app=sandbox), recorder)


# ----- contacts ---------------------------------------------------------------------------------
def test_contacts_are_upserted_by_email_with_bearer_token_and_documented_body(crm, sandbox, recorder):
    shopper = customer(1, email="  Ada.Lovelace@Example.COM ", phone="+44 20 7946 0018", default_address=Address(
        line1="12 Analytical Row", line2="Flat 3", city="London", postal_code="N1 9GU", province_code="LND",
        country_code="gb"))

    [outcome] = crm.upsert_contacts([shopper])

    [request] = recorder.requests
    assert (request.method, str(request.url)) == ("POST", f"{API_URL}{UPSERT}")
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert json.loads(request.content) == {"inputs": [{
        "idProperty": "email", "id": "ada.lovelace@example.com", "objectWriteTraceId": "0",
        "properties": {"email": "ada.lovelace@example.com", "firstname": "Buyer1", "lastname": "Example",
                       "phone": "+442079460018", "address": "12 Analytical Row, Flat 3", "city": "London",
                       "zip": "N1 9GU", "state": "LND", "country": "GB"}}]}
    [stored] = sandbox.objects("contacts")
    assert outcome.model_dump() == {"key": "ada.lovelace@example.com", "id": stored["id"], "created": True,
                                    "error": None, "transient": False}


def test_upserting_the_same_customers_again_updates_instead_of_creating(crm, sandbox):
    first = crm.upsert_contacts([customer(1), customer(2)])
    again = crm.upsert_contacts([customer(1, last_name="Renamed"), customer(2)])

    assert [o.id for o in again] == [o.id for o in first]
    assert [o.created for o in first] == [True, True] and [o.created for o in again] == [False, False]
    assert len(sandbox.objects("contacts")) == 2
    assert {c["properties"]["lastname"] for c in sandbox.objects("contacts")} == {"Renamed", "Example"}


def test_250_customers_take_three_calls_of_at_most_100(crm, sandbox, recorder):
    outcomes = crm.upsert_contacts([customer(n) for n in range(250)])

    assert [len(body["inputs"]) for body in recorder.bodies(UPSERT)] == [100, 100, 50]
    assert len(sandbox.objects("contacts")) == 250
    assert [o.key for o in outcomes] == [f"buyer{n}@example.com" for n in range(250)]
    assert all(o.id and o.created and not o.error for o in outcomes)


def test_configured_batch_size_is_honoured(sandbox, recorder):
    crm = make_crm(httpx.WSGITransport(app=sandbox), recorder, batch_size=40)
    crm.upsert_contacts([customer(n) for n in range(90)])
    assert [len(body["inputs"]) for body in recorder.bodies(UPSERT)] == [40, 40, 10]


def test_207_keeps_the_good_contacts_and_reports_the_bad_one_with_its_reason(crm, sandbox, recorder):
    outcomes = crm.upsert_contacts([customer(1), customer(2, email="not-an-email"), customer(3)])

    assert [o.error for o in outcomes] == [None, "validation_error:invalid_email", None]
    assert outcomes[1].id is None and outcomes[1].transient is False
    assert {c["properties"]["email"] for c in sandbox.objects("contacts")} == {"buyer1@example.com",
                                                                               "buyer3@example.com"}
    assert recorder.statuses == [207]  # a permanent rejection is not retried


def test_customers_without_email_are_reported_and_never_sent(crm, recorder):
    outcomes = crm.upsert_contacts([customer(1, email=None), customer(2)])

    assert outcomes[0] == outcomes[0].model_copy(update={"key": "7001", "error": "missing_email", "id": None})
    assert outcomes[1].id is not None
    assert [i["id"] for i in recorder.bodies(UPSERT)[0]["inputs"]] == ["buyer2@example.com"]


def test_two_customers_sharing_an_email_are_one_input_and_one_contact(crm, sandbox, recorder):
    outcomes = crm.upsert_contacts([customer(1), customer(9, email="BUYER1@example.com", first_name="Later")])

    assert len(recorder.bodies(UPSERT)[0]["inputs"]) == 1  # HubSpot refuses duplicate ids in one batch
    assert outcomes[0].id == outcomes[1].id
    [stored] = sandbox.objects("contacts")
    assert stored["properties"]["firstname"] == "Later"


def test_unicode_names_are_preserved(crm, sandbox, recorder):
    people = [customer(1, first_name="مریم", last_name="رضایی", default_address=Address(city="تهران")),
              customer(2, first_name="小明", last_name="王", default_address=Address(city="北京")),
              customer(3, first_name="Анна", last_name="Иванова", default_address=Address(city="Москва"))]

    crm.upsert_contacts(people)

    stored = {c["properties"]["email"]: c["properties"] for c in sandbox.objects("contacts")}
    for person in people:
        assert stored[person.email]["firstname"] == person.first_name
        assert stored[person.email]["lastname"] == person.last_name
        assert stored[person.email]["city"] == person.default_address.city
    sent = recorder.bodies(UPSERT)[0]["inputs"][0]["properties"]
    assert (sent["firstname"], sent["lastname"]) == ("مریم", "رضایی")


def test_transient_input_errors_in_a_207_are_retried_once_in_a_smaller_batch(recorder):
    answers = [httpx.Response(207, json=sample("contacts_batch_upsert_207_transient.json")),
               httpx.Response(200, json={"status": "COMPLETE", "results": [
                   {"id": "53", "objectWriteTraceId": "0", "new": True, "properties": {"email": "alan@example.com"}}]})]
    crm = make_crm(httpx.MockTransport(lambda request: answers.pop(0)), recorder)

    outcomes = crm.upsert_contacts([customer(1, email="ada@example.com"), customer(2, email="grace@example.com"),
                                    customer(3, email="alan@example.com")])

    assert [(o.id, o.created, o.error) for o in outcomes] == [("51", True, None), ("52", False, None),
                                                              ("53", True, None)]
    retried = recorder.bodies(UPSERT)[1]["inputs"]
    assert [i["id"] for i in retried] == ["alan@example.com"]


def test_an_input_failing_transiently_twice_is_reported_transient(recorder):
    def answer(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        return httpx.Response(207, json={"status": "COMPLETE", "results": [], "numErrors": len(inputs), "errors": [
            {"status": "error", "category": "INTERNAL_ERROR", "message": "try again",
             "context": {"objectWriteTraceId": [i["objectWriteTraceId"]]}} for i in inputs]})
    crm = make_crm(httpx.MockTransport(answer), recorder)

    [outcome] = crm.upsert_contacts([customer(1)])

    assert (outcome.error, outcome.transient, outcome.id) == ("internal_error", True, None)
    assert len(recorder.requests) == 2


def test_a_whole_batch_refused_for_one_input_is_halved_until_the_culprit_is_isolated(recorder):
    refusal = sample("contacts_batch_upsert_400_validation.json")

    def answer(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        if any(i["id"] == "broken@@example.com" for i in inputs):
            return httpx.Response(400, json=refusal)
        return httpx.Response(200, json={"status": "COMPLETE", "results": [
            {"id": str(100 + int(i["id"][5])), "objectWriteTraceId": i["objectWriteTraceId"], "new": True,
             "properties": {"email": i["id"]}} for i in inputs]})
    crm = make_crm(httpx.MockTransport(answer), recorder)

    outcomes = crm.upsert_contacts([customer(1), customer(2), customer(3, email="broken@@example.com"), customer(4)])

    assert [o.error for o in outcomes] == [None, None, "validation_error:invalid_email", None]
    assert [o.id for o in outcomes] == ["101", "102", None, "104"]
    assert [len(b["inputs"]) for b in recorder.bodies(UPSERT)] == [4, 2, 2, 1, 1]
    assert all("broken" not in str(o.error) for o in outcomes)  # reasons are codes, never HubSpot's prose


def test_an_outage_makes_every_outcome_transient_and_stops_calling(sandbox, recorder):
    crm = make_crm(httpx.WSGITransport(app=sandbox), recorder)
    sandbox.outage(503)

    outcomes = crm.upsert_contacts([customer(n) for n in range(250)])

    assert all(o.transient and o.error == "vendor_unavailable" for o in outcomes)
    assert len(recorder.requests) == 5  # one chunk through the retry policy, then no more calls
    sandbox.restore()
    assert all(o.id for o in crm.upsert_contacts([customer(1)]))


# ----- throttling -------------------------------------------------------------------------------
def test_429_with_retry_after_is_honoured_then_succeeds(crm, sandbox, recorder):
    sandbox.fail_next(2, 429, retry_after=3)

    [outcome] = crm.upsert_contacts([customer(1)])

    assert outcome.id is not None
    assert recorder.statuses == [429, 429, 200]
    assert recorder.sleeps == [3.0, 3.0]


def test_ten_secondly_429_without_retry_after_waits_one_interval(crm, sandbox, recorder):
    sandbox.fail_next(1, 429)

    crm.upsert_contacts([customer(1)])

    assert recorder.statuses == [429, 200]
    assert recorder.sleeps == [10.0]


def test_pacing_slows_down_before_the_window_runs_out(clock, recorder):
    sandbox = create_app(TOKEN, requests_per_10s=10, clock=clock)
    crm = make_crm(httpx.WSGITransport(app=sandbox), recorder)

    for n in range(25):
        crm.upsert_contacts([customer(n)])

    assert 429 not in recorder.statuses
    # Remaining 1 of 10 is inside the reserve: one request's share (1 s); at 0, one whole interval.
    assert recorder.sleeps == [1.0, 10.0, 1.0, 10.0]
    assert len(sandbox.objects("contacts")) == 25


def test_pace_is_silent_while_plenty_of_the_window_remains():
    def answer(remaining: int) -> httpx.Response:
        return httpx.Response(200, headers={"X-HubSpot-RateLimit-Max": "190",
                                            "X-HubSpot-RateLimit-Remaining": str(remaining),
                                            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"})

    assert rate_limit_pause(answer(20)) is None  # the reserve is 10% of Max: 19
    assert rate_limit_pause(answer(5)) == pytest.approx(10 / 190 * 15)
    assert rate_limit_pause(httpx.Response(200)) is None  # no headers, no guessing


def test_daily_limit_ends_the_retries_at_once(recorder):
    crm = make_crm(httpx.MockTransport(lambda request: httpx.Response(429, json=sample("rate_limit_429_daily.json"))),
                   recorder)

    with pytest.raises(TransientError) as raised:
        crm.upsert_deal(deal(), contact_id=None)

    assert raised.value.reason == "daily_limit"
    assert len(recorder.requests) == 1 and recorder.sleeps == []


# ----- deals ------------------------------------------------------------------------------------
def test_upsert_deal_three_times_makes_one_deal_associated_to_its_contact(crm, sandbox, recorder):
    [contact] = crm.upsert_contacts([customer(1)])

    ids = {crm.upsert_deal(deal(close_date="2025-05-02"), contact_id=contact.id) for _ in range(3)}

    [stored] = sandbox.objects("deals")
    assert ids == {stored["id"]}
    assert stored["properties"].items() >= {"dealname": "Order #1001", "amount": "1234.50", "deal_currency_code": "EUR",
                                         "pipeline": "default", "dealstage": "contractsent",
                                         "closedate": "2025-05-02T00:00:00Z", "synchub_order_ref": "shop-eu:5550001"}.items()
    assert sandbox.associated_ids("deals", stored["id"], "contacts") == [contact.id]
    assert sandbox.associated_ids("contacts", contact.id, "deals") == [stored["id"]]
    assert sandbox.property_definitions("deals")["synchub_order_ref"]["hasUniqueValue"] is True
    paths = [f"{r.method} {r.url.path}" for r in recorder.requests]
    assert paths.count("GET /crm/v3/properties/deals/synchub_order_ref") == 1  # once per client lifetime
    assert paths.count("POST /crm/v3/properties/deals") == 1
    associate = "/crm/v4/associations/deals/contacts/batch/associate/default"
    assert paths.count(f"POST {associate}") == 3  # the default association, in the v4 batch form
    assert recorder.bodies(associate)[0] == {"inputs": [{"from": {"id": stored["id"]}, "to": {"id": contact.id}}]}
    [first_upsert] = recorder.bodies("/crm/v3/objects/deals/batch/upsert")[:1]
    assert first_upsert["inputs"][0].items() >= {"idProperty": "synchub_order_ref", "id": "shop-eu:5550001"}.items()


def test_upsert_deal_finds_the_contact_by_email_when_no_id_is_given(crm, sandbox):
    [contact] = crm.upsert_contacts([customer(1)])

    deal_id = crm.upsert_deal(deal(contact_email="Buyer1@Example.com"), contact_id=None)

    assert sandbox.associated_ids("deals", deal_id, "contacts") == [contact.id]
    assert crm.find_contact_by_email("nobody@example.com") is None


def test_an_existing_order_ref_property_is_reused_and_a_creation_race_is_fine(recorder):
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/crm/v3/properties/"):
            status = 404 if request.method == "GET" else 409
            return httpx.Response(status, json={"status": "error", "message": "exists", "category":
                                                "OBJECT_ALREADY_EXISTS", "correlationId": "c-1"})
        return httpx.Response(200, json={"status": "COMPLETE", "results": [
            {"id": "9001", "objectWriteTraceId": "0", "new": True, "properties": {"synchub_order_ref": "r-1"}}]})
    crm = make_crm(httpx.MockTransport(answer), recorder)

    assert crm.upsert_deal(deal("r-1"), contact_id=None) == "9001"
    assert [r.method for r in recorder.requests] == ["GET", "POST", "POST"]


def test_an_order_ref_property_without_unique_values_is_a_permanent_misconfiguration(crm, sandbox):
    client = httpx.Client(transport=httpx.WSGITransport(app=sandbox), headers={"Authorization": f"Bearer {TOKEN}"})
    client.post("http://hs/crm/v3/properties/deals", json={"name": "synchub_order_ref", "label": "ref", "type":
                                                           "string", "fieldType": "text", "groupName": "dealinformation"})

    with pytest.raises(PermanentError):
        crm.upsert_deal(deal(), contact_id=None)
    assert sandbox.objects("deals") == []


# ----- errors and search ------------------------------------------------------------------------
def test_rejections_are_typed_and_keep_personal_data_out_of_the_message(crm):
    with pytest.raises(HubSpotApiError) as raised:
        crm.client.request("POST", "/crm/v3/objects/contacts", json={"properties": {"email": "jane.doe@@example"}})

    error = raised.value
    assert isinstance(error, PermanentError)
    assert (error.status, error.category, error.codes) == (400, "VALIDATION_ERROR", ("INVALID_EMAIL",))
    assert error.correlation_id and error.correlation_id in str(error)
    assert "jane" not in str(error) and error.__cause__ is None and error.__suppress_context__


def test_a_wrong_token_fails_the_whole_call_as_a_typed_error(sandbox, recorder):
    crm = make_crm(httpx.WSGITransport(app=sandbox), recorder, token="pat-na1-revoked")

    with pytest.raises(HubSpotApiError) as raised:
        crm.upsert_contacts([customer(1)])

    assert (raised.value.status, raised.value.category) == (401, "INVALID_AUTHENTICATION")
    assert len(recorder.requests) == 1


def test_search_pages_through_results_with_after(crm, recorder):
    crm.upsert_contacts([customer(n, last_name="Zed" if n % 2 else "Example") for n in range(7)])
    groups = [{"filters": [{"propertyName": "lastname", "operator": "EQ", "value": "example"}]}]

    first = crm.search("contacts", groups, ["email"], limit=3)
    second = crm.search("contacts", groups, ["email"], limit=3, after=first.after)

    assert first.total == 4 and first.after is not None and second.after is None
    emails = [r["properties"]["email"] for r in first.results + second.results]
    assert emails == [f"buyer{n}@example.com" for n in (0, 2, 4, 6)]
    assert recorder.bodies("/crm/v3/objects/contacts/search")[1] == {
        "filterGroups": groups, "limit": 3, "properties": ["email"], "after": first.after}
