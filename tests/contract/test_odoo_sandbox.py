"""The Odoo sandbox answers in Odoo's published shapes (events/odoo/), so the client tested on it is tested on
Odoo's contract: JSON-2 bodies and status codes, the JSON-RPC envelope, auth, throttling and the 17/19 split."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.local.sandboxes.odoo import create_app

EVENTS = Path(__file__).resolve().parents[2] / "events" / "odoo"
KEY = "6578616d706c65206a736f6e20617069206b6579"


def sample(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def http(app: Any) -> httpx.Client:
    return httpx.Client(base_url="https://mycompany.example.com", transport=httpx.WSGITransport(app=app))


def json2(client: httpx.Client, path: str, body: dict[str, Any], key: str = KEY) -> httpx.Response:
    return client.post(f"/json/2/{path}", json=body, headers={"Authorization": f"bearer {key}",
                                                               "X-Odoo-Database": "synchub"})


def rpc(client: httpx.Client, service: str, method: str, args: list[Any]) -> dict[str, Any]:
    answer = client.post("/jsonrpc", json={"jsonrpc": "2.0", "method": "call", "id": 7,
                                           "params": {"service": service, "method": method, "args": args}})
    assert answer.status_code == 200  # JSON-RPC errors come with HTTP 200
    return answer.json()


def test_a_wrong_key_gets_the_documented_401_body() -> None:
    answer = json2(http(create_app(KEY)), "res.partner/search_read", {"domain": []}, key="not-the-key")
    published = sample("json2_error_invalid_apikey.json")
    assert answer.status_code == 401
    assert {k: v for k, v in answer.json().items() if k != "debug"} == {
        k: v for k, v in published.items() if k != "debug"}


def test_an_expired_key_is_refused_like_a_wrong_one_in_both_flavours() -> None:
    app = create_app(KEY)
    client = http(app)
    assert json2(client, "res.country/search_read", {"domain": [["code", "=", "FR"]], "fields": ["name"]}).json() == [
        {"id": 5, "name": "France"}]
    app.expire_key(KEY)
    assert json2(client, "res.country/search_read", {"domain": []}).status_code == 401
    assert rpc(client, "common", "authenticate", ["synchub", "admin", KEY, {}]) == {
        **sample("jsonrpc_authenticate_refused.json"), "id": 7}
    denied = rpc(client, "object", "execute_kw", ["synchub", 2, KEY, "res.country", "search", [[]], {}])
    assert denied["error"] == sample("jsonrpc_error_access_denied.json")["error"]


def test_json_rpc_authenticates_and_runs_execute_kw_positionally_and_by_name() -> None:
    client = http(create_app(KEY, version=17))
    assert rpc(client, "common", "authenticate", ["synchub", "admin", KEY, {}])["result"] == 2
    by_position = rpc(client, "object", "execute_kw",
                      ["synchub", 2, KEY, "product.product", "search_read", [[["default_code", "=", "MUG-CER-01"]],
                                                                              ["default_code"]], {}])
    by_name = rpc(client, "object", "execute_kw",
                  ["synchub", 2, KEY, "product.product", "search_read", [],
                   {"domain": [["default_code", "=", "MUG-CER-01"]], "fields": ["default_code"]}])
    assert by_position["result"] == by_name["result"] and by_name["result"][0]["default_code"] == "MUG-CER-01"


def test_a_user_error_has_odoo_s_status_and_envelope_in_each_flavour() -> None:
    app = create_app(KEY)
    client = http(app)
    partner, = json2(client, "res.partner/create", {"vals_list": [{"name": "Ada"}]}).json()
    sale, = json2(client, "sale.order/create", {"vals_list": [{"partner_id": partner}]}).json()
    assert json2(client, "sale.order/action_confirm", {"ids": [sale]}).json() is True
    again = json2(client, "sale.order/action_confirm", {"ids": [sale]})
    assert again.status_code == 422 and again.json()["name"] == "odoo.exceptions.UserError"
    wizard = json2(client, "sale.order/action_cancel", {"ids": [sale]})
    assert wizard.json()["res_model"] == sample("sale_order_cancel_wizard_action.json")["res_model"]
    readonly = rpc(client, "object", "execute_kw", ["synchub", 2, KEY, "sale.order", "write", [[sale], {"state": "x"}], {}])
    assert readonly["error"]["code"] == 200 and readonly["error"]["message"] == "Odoo Server Error"
    assert readonly["error"]["data"]["name"] == "odoo.exceptions.UserError"


def test_json2_refuses_an_unexpected_parameter_and_odoo_17_has_no_json2() -> None:
    answer = json2(http(create_app(KEY)), "res.partner/search_read", {"domain": [], "badparameter": 1})
    assert answer.status_code == 422 and "badparameter" in answer.json()["message"]
    assert json2(http(create_app(KEY, version=17)), "res.partner/search_read", {"domain": []}).status_code == 404
    assert http(create_app(KEY)).get("/web/version").json() == sample("web_version.json")


def test_throttling_answers_429_with_retry_after_until_the_window_passes() -> None:
    moment = [0.0]
    client = http(create_app(KEY, requests_per_minute=1, clock=lambda: moment[0]))
    assert json2(client, "res.country/search_count", {"domain": []}).status_code == 200
    throttled = json2(client, "res.country/search_count", {"domain": []})
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
    assert throttled.json()["name"] == "werkzeug.exceptions.TooManyRequests"
    moment[0] += 61
    assert json2(client, "res.country/search_count", {"domain": []}).json() == 16


@pytest.mark.parametrize("status", [502, 503])
def test_injected_outages_answer_in_odoo_s_error_shape(status: int) -> None:
    app = create_app(KEY)
    app.fail_next(1, status)
    answer = json2(http(app), "res.country/search_count", {"domain": []})
    assert answer.status_code == status and set(answer.json()) == {"name", "message", "arguments", "context", "debug"}
