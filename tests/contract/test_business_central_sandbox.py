"""The Business Central sandbox answers in the shapes Microsoft published (events/business_central/): entities with
`@odata.etag` and `@odata.context`, BC's error codes, Entra's token errors, ETag checks, 429 and `$batch`."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.local.sandboxes.business_central import create_app

EVENTS = Path(__file__).resolve().parents[2] / "events" / "business_central"
TENANT = "synchub.onmicrosoft.com"


def sample(name: str) -> Any:
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def bc():
    app = create_app("client", "secret", requests_per_window=20, window_seconds=300.0)
    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://bc.test")
    token = http.post(f"/{TENANT}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": "client", "client_secret": "secret",
        "scope": "https://api.businesscentral.dynamics.com/.default"}).json()["access_token"]
    http.headers["Authorization"] = f"Bearer {token}"
    http.base_url = httpx.URL(f"http://bc.test/v2.0/{TENANT}/production/api/v2.0/companies({app.company_id})/")
    return app, http


def test_the_token_answer_and_a_wrong_secret_have_entra_s_shapes() -> None:
    app = create_app("client", "secret")
    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://login.test")
    form = {"grant_type": "client_credentials", "client_id": "client",
            "scope": "https://api.businesscentral.dynamics.com/.default"}
    good = http.post(f"/{TENANT}/oauth2/v2.0/token", data={**form, "client_secret": "secret"})
    bad = http.post(f"/{TENANT}/oauth2/v2.0/token", data={**form, "client_secret": "wrong"})

    assert good.status_code == 200 and good.json().keys() >= sample("entra_token_200").keys()
    assert bad.status_code == 401 and bad.json().keys() == sample("entra_token_401_invalid_client").keys()
    assert bad.json()["error_codes"] == [7000215]


def test_entities_carry_the_documented_properties_an_etag_and_a_context(bc) -> None:
    app, http = bc
    item = http.get("items", params={"$filter": "number eq 'MUG-CER-01'"}).json()
    assert item["@odata.context"].endswith(f"companies({app.company_id})/items")
    [mug] = item["value"]
    documented = {"id", "number", "displayName", "type", "inventory", "unitPrice", "gtin", "lastModifiedDateTime"}
    assert documented <= sample("item_get_200").keys() and documented <= mug.keys()
    assert mug["@odata.etag"].startswith('W/"') and mug["inventory"] == 300

    customer = http.post("customers", json={"displayName": "Adatum Corporation", "email": "robert@contoso.com"}).json()
    order = http.post("salesOrders", json={"customerId": customer["id"], "externalDocumentNumber": "main:1",
                                           "salesOrderLines": [{"lineType": "Item", "lineObjectNumber": "MUG-CER-01",
                                                                "quantity": 2, "unitPrice": 14.5}]})
    assert order.status_code == 201
    shown = order.json()
    assert set(sample("sales_order_create_201")) - {"documentLines"} <= shown.keys()
    assert shown["status"] == "Draft" and shown["totalAmountIncludingTax"] == pytest.approx(31.9)  # 10 % item tax


def test_patch_needs_if_match_and_a_stale_one_is_412_request_entity_changed(bc) -> None:
    _, http = bc
    customer = http.post("customers", json={"displayName": "Adatum"}).json()
    missing = http.patch(f"customers({customer['id']})", json={"city": "Atlanta"})
    fresh = http.patch(f"customers({customer['id']})", json={"city": "Atlanta"},
                       headers={"If-Match": customer["@odata.etag"]})
    stale = http.patch(f"customers({customer['id']})", json={"city": "Boston"},
                       headers={"If-Match": customer["@odata.etag"]})

    assert missing.status_code == 400 and missing.json()["error"]["code"] == "BadRequest_InvalidToken"
    assert fresh.status_code == 200 and fresh.json()["@odata.etag"] != customer["@odata.etag"]
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == sample("error_412_entity_changed")["error"]["code"]


def test_a_duplicate_number_and_manual_numbers_off_are_bc_s_errors(bc) -> None:
    app, http = bc
    assert http.post("customers", json={"number": "SH1", "displayName": "A"}).status_code == 201
    again = http.post("customers", json={"number": "SH1", "displayName": "B"})
    assert again.json()["error"]["code"] == sample("error_400_same_key_exists")["error"]["code"]
    app.manual_customer_numbers = False
    refused = http.post("customers", json={"number": "SH2", "displayName": "C"}).json()["error"]
    assert refused["code"] == sample("error_400_manual_nos")["error"]["code"] and "Manual Nos." in refused["message"]


def test_a_snapshot_batch_with_a_failing_request_keeps_nothing(bc) -> None:
    app, http = bc
    customer = http.post("customers", json={"displayName": "Adatum"}).json()
    base = f"companies({app.company_id})"
    answer = http.post(f"http://bc.test/v2.0/{TENANT}/production/api/v2.0/$batch", headers={"Isolation": "snapshot"},
                       json={"requests": [
                           {"method": "PATCH", "id": "1", "url": f"{base}/customers({customer['id']})",
                            "headers": {"If-Match": "*", "Content-Type": "application/json"}, "body": {"city": "X"}},
                           {"method": "POST", "id": "2", "url": f"{base}/salesOrders", "body": {"currencyCode": "USD"},
                            "headers": {"Content-Type": "application/json"}}]}).json()

    assert [r["status"] for r in answer["responses"]] == [200, 400]
    assert answer["responses"][1]["body"].keys() == sample("batch_snapshot_failed_200")["responses"][2]["body"].keys()
    assert app.records("customers", id=customer["id"])[0]["city"] == ""


def test_the_per_user_window_answers_429_with_retry_after(bc) -> None:
    _, http = bc
    answers = [http.get("items", params={"$top": "1"}) for _ in range(21)]
    assert [a.status_code for a in answers[:20]] == [200] * 20
    assert answers[20].status_code == 429 and answers[20].headers["Retry-After"] == "1"
    assert "error" in answers[20].json()


def test_a_released_order_cannot_change_lines_or_be_deleted(bc) -> None:
    app, http = bc
    customer = http.post("customers", json={"displayName": "Adatum"}).json()
    order = http.post("salesOrders", json={"customerId": customer["id"], "salesOrderLines": [
        {"lineObjectNumber": "MUG-CER-01", "quantity": 1, "unitPrice": 1}]}).json()
    app.release(order["id"])

    refused = http.delete(f"salesOrders({order['id']})", headers={"If-Match": "*"})

    assert refused.status_code == 400 and refused.json()["error"]["code"] == "Application_FieldValidationException"
    assert app.records("salesOrders", id=order["id"])
