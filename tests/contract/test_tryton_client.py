"""Pins the Tryton JSON-RPC shapes the connector relies on, against a MockTransport (no sockets)."""
from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from synchub.connectors.http import RetryPolicy
from synchub.connectors.tryton.client import TrytonClient
from synchub.connectors.tryton.erp import TrytonErp
from synchub.connectors.tryton.settings import TrytonSettings
from synchub.errors import PermanentError, TransientError, VendorError, VendorRejected

EVENTS = Path(__file__).resolve().parents[2] / "events" / "tryton" / "rpc"
SESSION = "5bc1011f1c06fdc6a6b9377cf73dc2a895a480a3421d043f4a7f12d23097fcbf"


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


class FakeTryton:
    """Records every request; answers login and preferences from samples, the rest through `answer`."""

    def __init__(self, answer: Callable[[dict[str, Any], httpx.Request], httpx.Response]) -> None:
        self.answer = answer
        self.requests: list[tuple[httpx.Request, dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append((request, body))
        if body["method"] == "common.db.login":
            return httpx.Response(200, json=sample("login_result.json"))
        if body["method"] == "model.res.user.get_preferences":
            return httpx.Response(200, json=sample("preferences_result.json"))
        return self.answer(body, request)

    def calls(self, method: str) -> list[tuple[httpx.Request, dict[str, Any]]]:
        return [(request, body) for request, body in self.requests if body["method"] == method]


def client_for(fake: FakeTryton, *, attempts: int = 3) -> TrytonClient:
    http = httpx.Client(base_url="http://tryton.test", transport=httpx.MockTransport(fake))
    return TrytonClient.connect("http://tryton.test", "synchub", "admin", "s3cret", http_client=http,
                                policy=RetryPolicy(max_attempts=attempts, sleep=lambda _: None))


def ok(result: Any) -> Callable[[dict[str, Any], httpx.Request], httpx.Response]:
    return lambda body, request: httpx.Response(200, json={"id": body["id"], "result": result})


def test_login_then_session_header_on_every_call_to_the_database_path() -> None:
    fake = FakeTryton(ok([3]))
    client = client_for(fake)

    assert client.model("sale.sale", "search", [("reference", "=", "shop-main:1")], 0, 1, None) == [3]

    (login_request, login), = fake.calls("common.db.login")
    assert login_request.method == "POST" and login_request.url.path == "/synchub/"
    assert set(login) == {"id", "method", "params"}
    assert login["params"] == ["admin", {"password": "s3cret"}, "en"]
    assert "authorization" not in login_request.headers
    (request, call), = fake.calls("model.sale.sale.search")
    assert request.url.path == "/synchub/"
    expected = base64.b64encode(f"admin:1:{SESSION}".encode()).decode()
    assert request.headers["authorization"] == f"Session {expected}"
    assert call["id"] != login["id"]


def test_context_goes_last_and_carries_the_users_company() -> None:
    fake = FakeTryton(ok([{"id": 1, "quantity": 7.0}]))
    client = client_for(fake)

    client.model("product.product", "read", [1], ["quantity"], context={"locations": [5]})

    (_, call), = fake.calls("model.product.product.read")
    *args, context = call["params"]
    assert args == [[1], ["quantity"]]
    assert context["company"] == 1 and context["locations"] == [5]


def test_decimals_and_dates_travel_as_tryton_classes_both_ways() -> None:
    fake = FakeTryton(lambda body, request: httpx.Response(200, json=sample("sale_search_read_processing.json")))
    client = client_for(fake)

    rows = client.model("sale.sale", "create", [{"sale_date": dt.date(2025, 3, 9),
                                                 "lines": [["create", [{"unit_price": Decimal("19.90")}]]]}])

    (_, call), = fake.calls("model.sale.sale.create")
    values = call["params"][0][0]
    assert values["sale_date"] == {"__class__": "date", "year": 2025, "month": 3, "day": 9}
    assert values["lines"][0][1][0]["unit_price"] == {"__class__": "Decimal", "decimal": "19.90"}
    assert rows[0]["total_amount"] == Decimal("52.52")


def test_user_error_body_is_a_permanent_rejection_with_the_message() -> None:
    fake = FakeTryton(lambda body, request: httpx.Response(200, json=sample("user_error_invalid_phone.json")))
    client = client_for(fake)

    with pytest.raises(VendorRejected) as caught:
        client.model("party.contact_mechanism", "create", [{"type": "phone", "value": "not a phone"}])

    assert isinstance(caught.value, PermanentError)
    assert caught.value.category == "UserError"
    assert "is not valid" in str(caught.value)
    assert len(fake.calls("model.party.contact_mechanism.create")) == 1  # not retried


def test_a_uniqueness_conflict_between_concurrent_creates_is_transient_not_parked() -> None:
    # Seen on a fresh SQLite database: two parties created at once drew the same sequence code.
    fake = FakeTryton(lambda body, request: httpx.Response(200, json=sample("user_error_party_code_unique.json")))
    client = client_for(fake)

    with pytest.raises(TransientError) as caught:
        client.model("party.party", "create", [{"name": "Negar"}])

    assert not isinstance(caught.value, PermanentError)
    assert caught.value.reason == "write_conflict"


def test_server_errors_and_timeouts_are_transient_after_retries() -> None:
    fake = FakeTryton(lambda body, request: httpx.Response(503, text="Service Unavailable"))
    client = client_for(fake, attempts=3)
    with pytest.raises(TransientError):
        client.model("sale.sale", "search", [], 0, None, None)
    assert len(fake.calls("model.sale.sale.search")) == 3

    def timeout(body: dict[str, Any], request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(TransientError):
        client_for(FakeTryton(timeout)).model("sale.sale", "search", [], 0, None, None)


def test_concurrency_exception_is_transient_and_a_crash_is_a_vendor_error() -> None:
    busy = FakeTryton(lambda body, request: httpx.Response(200, json=sample("concurrency_error.json")))
    with pytest.raises(TransientError):
        client_for(busy).model("sale.sale", "write", [1], {"description": "x"})

    crash = FakeTryton(lambda body, request: httpx.Response(200, json=sample("server_error.json")))
    with pytest.raises(VendorError) as caught:
        client_for(crash).model("sale.sale", "write", [1], {"description": "x"})
    assert not isinstance(caught.value, (TransientError, PermanentError))
    assert "Traceback" not in str(caught.value)


def test_expired_session_logs_in_once_more_and_replays_the_call() -> None:
    answers = iter([httpx.Response(401), httpx.Response(200, json={"id": 9, "result": [4]})])
    fake = FakeTryton(lambda body, request: next(answers))
    client = client_for(fake)

    assert client.model("sale.sale", "search", [], 0, None, None) == [4]
    assert len(fake.calls("common.db.login")) == 2
    assert len(fake.calls("model.sale.sale.search")) == 2


def test_a_login_whose_preferences_failed_logs_in_again_and_never_calls_without_the_company() -> None:
    # Found by the chaos replay: the ERP went away between login and get_preferences, the session was kept
    # with an empty context, and every sale create after was refused ("User in companies") and parked.
    down = {"preferences": True}

    class FlakyPreferences(FakeTryton):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            if body["method"] == "model.res.user.get_preferences" and down.pop("preferences", False):
                self.requests.append((request, body))
                raise httpx.ConnectError("connection refused", request=request)
            return super().__call__(request)

    fake = FlakyPreferences(ok([5]))
    client = client_for(fake, attempts=1)
    with pytest.raises(TransientError):
        client.model("sale.sale", "search", [], 0, None, None)
    assert fake.calls("model.sale.sale.search") == []

    assert client.model("sale.sale", "search", [], 0, None, None) == [5]
    assert len(fake.calls("common.db.login")) == 2
    (_, call), = fake.calls("model.sale.sale.search")
    assert call["params"][-1]["company"] == 1


def test_a_session_refused_twice_is_rejected_not_looped() -> None:
    fake = FakeTryton(lambda body, request: httpx.Response(403))
    with pytest.raises(VendorRejected):
        client_for(fake).model("sale.sale", "search", [], 0, None, None)
    assert len(fake.calls("common.db.login")) == 2


def test_wrong_password_is_a_permanent_login_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text="<title>401 Unauthorized</title>")

    http = httpx.Client(base_url="http://tryton.test", transport=httpx.MockTransport(refuse))
    client = TrytonClient.connect("http://tryton.test", "synchub", "admin", "wrong", http_client=http,
                                  policy=RetryPolicy(sleep=lambda _: None))
    with pytest.raises(VendorRejected) as caught:
        client.model("sale.sale", "search", [], 0, None, None)
    assert caught.value.category == "LoginError"
    assert "wrong" not in str(caught.value)


def test_erp_finds_a_sale_by_store_reference_and_reports_its_total() -> None:
    fake = FakeTryton(lambda body, request: httpx.Response(200, json=sample("sale_search_read_processing.json")))
    erp = TrytonErp(client_for(fake), TrytonSettings(url="http://tryton.test", database="synchub"))

    ref = erp.find_sales_order("shop-main:1001")

    assert ref is not None
    assert (ref.id, ref.number, ref.state, ref.total) == ("7", "7", "processing", "52.52")
    (_, call), = fake.calls("model.sale.sale.search_read")
    assert call["params"][0] == [["reference", "=", "shop-main:1001"]]


def test_erp_resolves_only_the_skus_tryton_knows() -> None:
    fake = FakeTryton(lambda body, request: httpx.Response(200, json=sample("product_search_read_by_code.json")))
    erp = TrytonErp(client_for(fake), TrytonSettings(url="http://tryton.test", database="synchub"))

    found = erp.resolve_products(["TEE-BLK-M", "MUG-CER-01", "NO-SUCH-SKU"])

    assert found == {"TEE-BLK-M": "1", "MUG-CER-01": "4"}
    (_, call), = fake.calls("model.product.product.search_read")
    assert call["params"][0] == [["code", "in", ["MUG-CER-01", "NO-SUCH-SKU", "TEE-BLK-M"]]]
    assert call["params"][4] == ["code", "sale_uom"]  # the sale unit comes along: no extra read per order
