"""Odoo external API sandbox on the sandbox kit: JSON-2 (Odoo 19+) and JSON-RPC `execute_kw` (17/18, and 19's
deprecated copy), following Odoo's documented contract (odoo/documentation external_api.rst, odoo/http.py).

- JSON-2: `POST /json/2/<model>/<method>`, `Authorization: bearer <key>`, optional `X-Odoo-Database`; the
  body names every argument (`ids`, `context`, the method's parameters); the answer is the bare result,
  errors are 4xx/5xx with `{"name", "message", "arguments", "context", "debug"}`: a missing, wrong,
  expired or revoked key is 401 `werkzeug.exceptions.Unauthorized` "Invalid apikey"; UserError 422,
  AccessError 403, MissingError 404, an unexpected parameter 422, anything else 500. Served from 19 only.
- JSON-RPC: `POST /jsonrpc` `{"jsonrpc": "2.0", "method": "call", "params": {"service", "method", "args"}}`;
  `common.authenticate(db, login, key, {})` answers the uid or `false`; `object.execute_kw(db, uid, key, model,
  method, args, kwargs)` re-checks the key on every call (AccessDenied); errors come with HTTP 200 as
  `{"error": {"code": 200, "message": "Odoo Server Error", "data": {name, message, arguments, context, debug}}}`.
- API keys expire (`expire_key`) or are revoked (`revoke_key`); Odoo cannot tell those from a wrong key.
- Throttling: Odoo publishes no API rate limit of its own; hosted Odoo and the reverse proxies in front of
  it answer 429 with Retry-After. `requests_per_minute` turns that on (off by default).

Models: res.partner, product.product (seeded from the demo catalogue, goods taxed 15% by default as a fresh
Odoo with a tax would), stock.warehouse/location/quant, sale.order/sale.order.line, pricelists, countries.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from infra.local.sandboxes.kit import Fault, RateLimiter, RollingWindow, Sandbox, json_object
from infra.local.sandboxes.odoo_orm import OdooException, Orm, user_error

DEMO_CATALOG = Path(__file__).resolve().parent.parent / "demo_catalog.json"
UID = 2  # the API user, as in a fresh database (1 is OdooBot)
COUNTRIES = {"US": "United States", "CA": "Canada", "GB": "United Kingdom", "DE": "Germany", "FR": "France",
             "NL": "Netherlands", "BE": "Belgium", "ES": "Spain", "IT": "Italy", "IE": "Ireland", "AU": "Australia",
             "NZ": "New Zealand", "JP": "Japan", "SE": "Sweden", "CH": "Switzerland", "AT": "Austria"}
# Parameter names of the methods served, in their Python order (JSON-RPC passes them positionally too).
METHODS: dict[str, tuple[str, ...]] = {
    "search_read": ("domain", "fields", "offset", "limit", "order"), "search": ("domain", "offset", "limit", "order"),
    "search_count": ("domain", "limit"), "read": ("fields", "load"), "create": ("vals_list",), "write": ("vals",),
    "action_confirm": (), "action_cancel": (), "action_unlock": (), "context_get": ()}
RECORD_METHODS = {"read", "write", "action_confirm", "action_cancel", "action_unlock"}
SALE_METHODS = {"action_confirm", "action_cancel", "action_unlock"}


class OdooSandbox(Sandbox):
    ROUTES: ClassVar[list[Rule]] = [
        Rule("/json/2/<model>/<method>", endpoint="json2", methods=["POST"]),
        Rule("/jsonrpc", endpoint="jsonrpc", methods=["POST"]),
        Rule("/web/version", endpoint="version", methods=["GET"]),
    ]

    def __init__(self, api_key: str, *, database: str = "synchub", login: str = "admin", version: int = 19,
                 catalog: Path | None = None, requests_per_minute: int | None = None,
                 now: Callable[[], dt.datetime] | None = None, **kit: Any) -> None:
        super().__init__(**kit)
        self.database, self.login, self.version = database, login, version
        self.keys: dict[str, dt.date | None] = {api_key: None}  # key -> expiration date (None: none)
        self.now: Callable[[], dt.datetime] = now or (lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None))
        self.orm = Orm(tax_field="tax_ids" if version >= 19 else "tax_id", now=self.now)
        if requests_per_minute:
            self.limiter = RateLimiter(self.clock, [RollingWindow("requests", requests_per_minute, 60.0)])
        self._seed(json.loads((catalog or DEMO_CATALOG).read_text(encoding="utf-8")))

    # -- inspection and control (Python side) ----------------------------------------------------
    def expire_key(self, key: str) -> None:
        with self._lock:
            self.keys[key] = self.today() - dt.timedelta(days=1)

    def revoke_key(self, key: str) -> None:
        with self._lock:
            self.keys.pop(key, None)

    def records(self, model: str, domain: list[Any] | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(row) for row in self.orm.search(model, domain or [])]

    def sale_lines(self, order_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(row) for row in self.orm.lines(order_id)]

    def set_stock(self, sku: str, quantity: float, location: int | None = None) -> None:
        """A stock change made in Odoo (an inventory adjustment) behind SyncHub's back."""
        with self._lock:
            product, = self.orm.search("product.product", [["default_code", "=", sku]])
            location = location or self.stock_location
            quants = self.orm.search("stock.quant", [["product_id", "=", product["id"]], ["location_id", "=", location]])
            if quants:
                self.orm.write("stock.quant", [quants[0]["id"]], {"quantity": quantity})
            else:
                self.orm.insert("stock.quant", {"product_id": product["id"], "location_id": location,
                                                "quantity": quantity})

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {**super().state(), "sale_orders": len(self.orm.tables["sale.order"]),
                    "partners": len(self.orm.tables["res.partner"])}

    # -- seeding ---------------------------------------------------------------------------------
    def _seed(self, catalog: dict[str, Any]) -> None:
        orm = self.orm
        usd = orm.insert("res.currency", {"name": catalog.get("currency", "USD")})
        orm.insert("res.currency", {"name": "EUR"})
        orm.insert("res.company", {"name": "SyncHub Demo", "currency_id": usd, "sequence": 10})
        orm.insert("product.pricelist", {"name": "Default", "currency_id": usd, "sequence": 10})
        orm.insert("res.users", {"name": "OdooBot", "login": "__system__"})
        orm.insert("res.users", {"name": "Integration", "login": self.login})
        for code, name in COUNTRIES.items():
            orm.insert("res.country", {"code": code, "name": name})
        tax = orm.insert("account.tax", {"name": "15%", "amount": 15.0})
        view = orm.insert("stock.location", {"name": "WH", "complete_name": "WH", "usage": "view"})
        self.stock_location = orm.insert("stock.location", {"name": "Stock", "complete_name": "WH/Stock",
                                                            "usage": "internal", "location_id": view})
        self.shelf_location = orm.insert("stock.location", {"name": "Shelf 1", "complete_name": "WH/Stock/Shelf 1",
                                                            "usage": "internal", "location_id": self.stock_location})
        orm.insert("stock.warehouse", {"name": "Main warehouse", "code": catalog.get("warehouse", "WH"),
                                       "lot_stock_id": self.stock_location})
        for index, item in enumerate(catalog["products"]):
            product = orm.insert("product.product", {"name": item["title"], "default_code": item["sku"],
                                                     "type": "consu", "is_storable": True,
                                                     "list_price": float(item["price"]), "taxes_id": [[6, 0, [tax]]]})
            stock = float(item.get("stock", 0))
            if index == 0 and stock > 1:  # one product kept on two shelves: stock sums over child locations
                orm.insert("stock.quant", {"product_id": product, "location_id": self.shelf_location, "quantity": 1.0})
                stock -= 1
            orm.insert("stock.quant", {"product_id": product, "location_id": self.stock_location, "quantity": stock})
        for item in catalog.get("services", []):
            orm.insert("product.product", {"name": item["title"], "default_code": item["code"], "type": "service"})

    # -- gate: faults, throttling, then the flavour's own auth in its handler ----------------------
    def gate(self, request: Request, endpoint: str) -> Response | None:
        refusal = self.fault_answer()
        if refusal is not None:
            return refusal
        if self.limiter is not None and self.limiter.admit(endpoint) is not None:
            return self.json(_error_body("werkzeug.exceptions.TooManyRequests",
                                         "429 Too Many Requests: too many requests, try again later", 429),
                             429, {"Retry-After": "1"})
        return None

    def no_route(self, exc: HTTPException) -> Response:
        return self.json(_error_body(f"werkzeug.exceptions.{type(exc).__name__}", exc.description or "", exc.code),
                         exc.code or 404)

    def fault_response(self, fault: Fault) -> Response:
        return self.json(_error_body("werkzeug.exceptions.ServiceUnavailable",
                                     "The server is temporarily unable to service your request", fault.status),
                         fault.status, fault.headers())

    # -- JSON-2 ----------------------------------------------------------------------------------
    def _on_version(self, request: Request) -> Response:
        return self.json({"version_info": [self.version, 0, 0, "final", 0, ""], "version": f"{self.version}.0"})

    def _on_json2(self, request: Request, model: str, method: str) -> Response:
        if self.version < 19:
            return self.no_route(_not_found())
        scheme, _, key = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not self._key_valid(key):
            return self.json(_error_body("werkzeug.exceptions.Unauthorized", "Invalid apikey", 401,
                                         arguments=["Invalid apikey", 401]), 401)
        database = request.headers.get("X-Odoo-Database")
        if database is not None and database != self.database:
            return self.json(_error_body("werkzeug.exceptions.NotFound", "database not found", 404), 404)
        body = json_object(request)
        if body is None and request.get_data():
            return self.json(_error_body("werkzeug.exceptions.BadRequest", "could not parse the body as json", 400),
                             400)
        params = dict(body or {})
        ids = params.pop("ids", None)
        context = params.pop("context", None) or {}
        try:
            return self.json(self._run(model, method, ids, params, context))
        except OdooException as exc:
            return self.json(_error_body(exc.name, exc.message, exc.status), exc.status)

    # -- JSON-RPC --------------------------------------------------------------------------------
    def _on_jsonrpc(self, request: Request) -> Response:
        body = json_object(request) or {}
        request_id = body.get("id")
        params = body.get("params") or {}
        try:
            result = self._rpc(str(params.get("service")), str(params.get("method")), list(params.get("args") or []))
        except OdooException as exc:
            return self.json({"jsonrpc": "2.0", "id": request_id, "error": {
                "code": 200, "message": "Odoo Server Error", "data": _error_body(exc.name, exc.message, None)}})
        return self.json({"jsonrpc": "2.0", "id": request_id, "result": result})

    def _rpc(self, service: str, method: str, args: list[Any]) -> Any:
        if service == "common" and method == "authenticate":
            db, login, key = (args + [None] * 3)[:3]
            return UID if db == self.database and login == self.login and self._key_valid(str(key)) else False
        if service == "common" and method == "version":
            return {"server_version": f"{self.version}.0", "protocol_version": 1}
        if service != "object" or method != "execute_kw" or len(args) < 6:
            raise OdooException("builtins.NameError", f"service {service!r} has no method {method!r}", 500)
        db, uid, key, model, name, positional = args[:6]
        kwargs = dict(args[6]) if len(args) > 6 and args[6] else {}
        if db != self.database or uid != UID or not self._key_valid(str(key)):
            raise OdooException("odoo.exceptions.AccessDenied", "Access Denied", 403)
        positional = list(positional)
        ids = positional.pop(0) if name in RECORD_METHODS and positional else None
        names = METHODS.get(name, ())
        if len(positional) > len(names):
            raise OdooException("builtins.TypeError", f"{name}() takes {len(names)} positional arguments", 500)
        context = kwargs.pop("context", None) or {}
        return self._run(model, name, ids, {**dict(zip(names, positional, strict=False)), **kwargs}, context)

    # -- the methods -----------------------------------------------------------------------------
    def today(self) -> dt.date:
        return self.now().date()

    def _key_valid(self, key: str) -> bool:
        if key not in self.keys:
            return False
        expires = self.keys[key]
        return expires is None or expires >= self.today()

    def _run(self, model: str, method: str, ids: list[int] | None, params: dict[str, Any],
             context: dict[str, Any]) -> Any:
        if method.startswith("_") or method not in METHODS:
            raise OdooException("builtins.AttributeError",
                                f"The method '{model}.{method}' does not exist or is private", 422 if method.startswith("_") else 404)
        unexpected = set(params) - set(METHODS[method])
        if unexpected:
            raise OdooException("werkzeug.exceptions.UnprocessableEntity",
                                f"{method}() got an unexpected keyword argument '{sorted(unexpected)[0]}'", 422)
        orm = self.orm
        if method in ("search_read", "search", "search_count"):
            rows = orm.search(model, params.get("domain"), params.get("offset") or 0, params.get("limit"),
                              params.get("order"))
            if method == "search_count":
                return len(rows)
            if method == "search":
                return [row["id"] for row in rows]
            return [self._read(model, row, params.get("fields")) for row in rows]
        if method == "read":
            return [self._read(model, row, params.get("fields")) for row in orm.browse(model, list(ids or []))]
        if method == "create":
            vals = params.get("vals_list")
            many = isinstance(vals, list)
            batch: list[Any] = vals if isinstance(vals, list) else [vals]
            if not all(isinstance(values, dict) for values in batch):
                raise OdooException("builtins.TypeError", "create() needs a dict or a list of dicts", 500)
            created = [orm.insert(model, dict(values)) for values in batch]
            for record_id in created:
                if model == "sale.order":
                    self._name_sale(record_id)
            return created if many else created[0]
        if method == "write":
            return orm.write(model, list(ids or []), dict(params.get("vals") or {}))
        if method == "context_get":
            return {"lang": "en_US", "tz": "UTC", "uid": UID}
        if model != "sale.order" or method not in SALE_METHODS:
            raise OdooException("builtins.AttributeError", f"The method '{model}.{method}' does not exist", 404)
        return getattr(self, f"_sale_{method}")(orm.browse(model, list(ids or [])), context)

    def _read(self, model: str, row: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
        names = fields or [f for f, kind in self.orm.fields[model].items() if not kind.startswith("o2m")]
        out: dict[str, Any] = {"id": row["id"]}
        for field in names:
            if field == "id":
                continue
            if field == "display_name":
                out[field] = row.get("complete_name") or row.get("name") or f"{model},{row['id']}"
                continue
            kind = self.orm.fields[model].get(field, "char" if field in ("write_date", "create_date") else None)
            if kind is None:
                raise OdooException("builtins.ValueError", f"Invalid field {field!r} on model {model!r}", 500)
            value = row.get(field, False)
            if kind.startswith("m2o") and value:
                related = self.orm.table(kind.split(":")[1])[value]
                value = [value, related.get("complete_name") or related.get("name") or f"{kind[4:]},{value}"]
            elif kind.startswith("o2m"):
                _, comodel, inverse = kind.split(":")
                value = [r["id"] for r in self.orm.table(comodel).values() if r[inverse] == row["id"]]
            out[field] = value
        return out

    def _name_sale(self, sale_id: int) -> None:
        sale = self.orm.table("sale.order")[sale_id]
        sale.update(name=f"S{sale_id:05d}", state=sale["state"] or "draft")
        if not sale["partner_id"]:
            raise OdooException("odoo.exceptions.ValidationError", "The field 'Customer' is required", 422)
        if not sale["currency_id"]:
            pricelist = self.orm.table("product.pricelist").get(sale["pricelist_id"] or 0)
            company = next(iter(self.orm.table("res.company").values()))
            sale["currency_id"] = pricelist["currency_id"] if pricelist else company["currency_id"]

    # sale.order business methods, as sale/sale_stock behave from 17 on
    def _sale_action_confirm(self, sales: list[dict[str, Any]], context: dict[str, Any]) -> bool:
        for sale in sales:
            if sale["state"] not in ("draft", "sent"):
                raise user_error("Some orders are not in a state requiring confirmation.")
        for sale in sales:
            self._reserve(sale, 1)
            self.orm.write("sale.order", [sale["id"]], {})
            sale["state"] = "sale"
        return True

    def _sale_action_unlock(self, sales: list[dict[str, Any]], context: dict[str, Any]) -> bool:
        for sale in sales:
            sale["locked"] = False
        return True

    def _sale_action_cancel(self, sales: list[dict[str, Any]], context: dict[str, Any]) -> Any:
        if any(sale["locked"] for sale in sales):
            raise user_error("You cannot cancel a locked order. Please unlock it first.")
        if not context.get("disable_cancel_warning") and any(sale["state"] != "draft" for sale in sales):
            return {"name": "Cancel Sales Order", "view_mode": "form", "res_model": "sale.order.cancel",
                    "type": "ir.actions.act_window", "target": "new",
                    "context": {"default_order_id": sales[0]["id"], "mark_so_as_canceled": True}}
        for sale in sales:
            if sale["state"] == "sale":
                self._reserve(sale, -1)
            sale["state"] = "cancel"
            self.orm.write("sale.order", [sale["id"]], {})
        return True

    def _reserve(self, sale: dict[str, Any], sign: int) -> None:
        """Confirming reserves each storable line's quantity in the warehouse's stock; cancelling releases it."""
        warehouse = self.orm.table("stock.warehouse").get(sale["warehouse_id"] or 0) or \
            next(iter(self.orm.table("stock.warehouse").values()))
        for line in self.orm.lines(sale["id"]):
            product = self.orm.table("product.product")[line["product_id"]] if line["product_id"] else None
            if not product or not product["is_storable"]:
                continue
            quants = self.orm.search("stock.quant", [["product_id", "=", product["id"]],
                                                     ["location_id", "child_of", warehouse["lot_stock_id"]]])
            if not quants:
                continue
            quant = quants[-1]
            reserved = max(0.0, quant["reserved_quantity"] + sign * line["product_uom_qty"])
            self.orm.write("stock.quant", [quant["id"]], {"reserved_quantity": reserved})


def _error_body(name: str, message: str, status: int | None, *, arguments: list[Any] | None = None) -> dict[str, Any]:
    """odoo.http.serialize_exception: the body of every error, JSON-2's and JSON-RPC's `data` alike."""
    return {"name": name, "message": message, "arguments": arguments or [message], "context": {}, "debug": ""}


def _not_found() -> HTTPException:
    from werkzeug.exceptions import NotFound

    return NotFound()


def create_app(api_key: str, *, database: str = "synchub", login: str = "admin", version: int = 19,
               catalog: Path | None = None, requests_per_minute: int | None = None, **kit: Any) -> OdooSandbox:
    """An Odoo database seeded from the demo catalogue, answering to `api_key` (which never expires)."""
    return OdooSandbox(api_key, database=database, login=login, version=version, catalog=catalog,
                       requests_per_minute=requests_per_minute, **kit)
