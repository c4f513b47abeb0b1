"""WooCommerce REST API v3 sandbox: a werkzeug WSGI app following WooCommerce's documented contract.

Products (with `sku`/`include`/`type`/`search` filters and `_fields`), variations, batch endpoints
with the 100-item limit (413 beyond), orders (stock reduced on processing/completed/on-hold and
restored on cancel, as WooCommerce does) and customers; Basic or query-string auth; WordPress
pagination headers; the `{"code","message","data":{"status"}}` error body. Thread-safe.
"""
from __future__ import annotations

import base64
import hmac
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

DEMO_CATALOG = Path(__file__).resolve().parent.parent / "demo_catalog.json"
API = "/wp-json/wc/v3"
BATCH_LIMIT = 100  # WooCommerce's default `woocommerce_rest_batch_items_limit`
MAX_PER_PAGE = 100
EDIT = ["PUT", "PATCH", "POST"]  # WordPress' EDITABLE methods
STOCK_REDUCING = {"processing", "completed", "on-hold"}


class ApiError(Exception):
    """A WP_Error as the REST server renders it."""

    def __init__(self, status: int, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}


def _invalid_param(name: str, why: str) -> ApiError:
    return ApiError(400, "rest_invalid_param", f"Invalid parameter(s): {name}", params={name: why})


def _now() -> tuple[str, str]:
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()
    return now, now  # the site runs on UTC: local and _gmt dates agree


def _money(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value or "0"))
    except InvalidOperation:
        raise _invalid_param(field, f"{field} is not of type string.") from None


class WooCommerceSandbox:
    """The app object; call it as WSGI. Inspection: stock(), set_stock(), state(), requests, fail_next()."""

    def __init__(self, consumer_key: str, consumer_secret: str, catalog: Path | None = None, *,
                 seed: bool = True, batch_limit: int = BATCH_LIMIT) -> None:
        self._key, self._secret = consumer_key, consumer_secret
        self.batch_limit = batch_limit
        self._lock = threading.RLock()
        self._products: dict[int, dict[str, Any]] = {}  # products and variations share WordPress' post ids
        self._orders: dict[int, dict[str, Any]] = {}
        self._customers: dict[int, dict[str, Any]] = {}
        self._stock_reduced: set[int] = set()  # orders whose stock was taken (_order_stock_reduced)
        self._next_post, self._next_order, self._next_customer = 10, 1000, 1
        self._failures: list[tuple[int, str, float | None]] = []
        self.currency = "USD"
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API request, for tests
        self._url_map = Map([
            Rule(f"{API}/products", endpoint="products", methods=["GET", "POST"]),
            Rule(f"{API}/products/batch", endpoint="products_batch", methods=EDIT),
            Rule(f"{API}/products/<int:pid>", endpoint="product", methods=["GET", "DELETE", *EDIT]),
            Rule(f"{API}/products/<int:pid>/variations", endpoint="variations", methods=["GET", "POST"]),
            Rule(f"{API}/products/<int:pid>/variations/batch", endpoint="variations_batch", methods=EDIT),
            Rule(f"{API}/products/<int:pid>/variations/<int:vid>", endpoint="variation",
                 methods=["GET", *EDIT]),
            Rule(f"{API}/orders", endpoint="orders", methods=["GET", "POST"]),
            Rule(f"{API}/orders/<int:oid>", endpoint="order", methods=["GET", *EDIT]),
            Rule(f"{API}/customers", endpoint="customers", methods=["GET", "POST"]),
            Rule(f"{API}/customers/<int:cid>", endpoint="customer", methods=["GET", *EDIT]),
            Rule("/_sandbox/state", endpoint="sandbox_state", methods=["GET"]),
        ])
        if seed:
            self._seed(json.loads((catalog or DEMO_CATALOG).read_text(encoding="utf-8")))

    # -- inspection and seeding (Python side) ---------------------------------------------------

    def stock(self, sku: str) -> int | None:
        with self._lock:
            return self._by_sku(sku)["stock_quantity"]

    def set_stock(self, sku: str, quantity: int) -> None:
        """A change made in the store's admin (or a sale), behind SyncHub's back."""
        with self._lock:
            record = self._by_sku(sku)
            self._write_product(record, {"manage_stock": True, "stock_quantity": quantity})

    def add_product(self, sku: str, stock: int | None = 0, *, name: str | None = None, price: str = "10.00",
                    manage_stock: bool = True) -> int:
        with self._lock:
            return self._create_product({"name": name or sku, "sku": sku, "regular_price": price,
                                         "manage_stock": manage_stock, "stock_quantity": stock})["id"]

    def add_variable_product(self, name: str, variations: Mapping[str, int], *,
                             sku: str = "") -> tuple[int, dict[str, int]]:
        """A variable product and one stock-managed variation per SKU; returns the ids."""
        with self._lock:
            parent = self._create_product({"name": name, "sku": sku, "type": "variable"})
            ids = {vsku: self._create_variation(parent, {"sku": vsku, "regular_price": "10.00",
                                                         "manage_stock": True, "stock_quantity": qty})["id"]
                   for vsku, qty in variations.items()}
            return parent["id"], ids

    def delete_product(self, sku: str) -> None:
        """Remove a product (and its variations) for good, as `DELETE ...?force=true` does."""
        with self._lock:
            record = self._by_sku(sku)
            self._delete(record)

    def fail_next(self, count: int = 1, status: int = 503, retry_after: float | None = None) -> None:
        """The next `count` API requests fail with `status` (an overloaded host, a WAF's 429)."""
        with self._lock:
            code = "too_many_requests" if status == 429 else "internal_server_error"
            self._failures.extend([(status, code, retry_after)] * count)

    def state(self) -> dict[str, Any]:
        with self._lock:
            keys = ("id", "sku", "type", "parent_id", "manage_stock", "stock_quantity", "status")
            return {"products": [{key: p.get(key) for key in keys} for p in self._products.values()],
                    "orders": [{"id": o["id"], "status": o["status"]} for o in self._orders.values()],
                    "customers": len(self._customers), "requests": len(self.requests)}

    # -- WSGI -----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        with self._lock:
            response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        try:
            endpoint, args = self._url_map.bind_to_environ(request.environ).match()
        except HTTPException:
            no_route = ApiError(404, "rest_no_route",
                                "No route was found matching the URL and request method.")
            return _json(no_route.body(), 404)
        if endpoint == "sandbox_state":
            return _json(self.state())
        self.requests.append((request.method, request.path))
        try:
            self._authenticate(request)
            if self._failures:
                status, code, retry_after = self._failures.pop(0)
                headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
                told = ApiError(status, code, "The sandbox was told to fail this request.")
                return _json(told.body(), status, headers)
            body = request.get_json(silent=True) if request.method != "GET" else None
            if request.method != "GET" and request.get_data() and not isinstance(body, dict):
                raise ApiError(400, "rest_invalid_json", "Invalid JSON body passed.")
            return getattr(self, f"_on_{endpoint}")(request, body or {}, **args)
        except ApiError as error:
            return _json(error.body(), error.status)

    def _authenticate(self, request: Request) -> None:
        key = request.args.get("consumer_key")
        secret = request.args.get("consumer_secret")
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            try:
                key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                key = secret = ""
        if key is None or secret is None:
            if request.method == "GET":
                raise ApiError(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
            raise ApiError(401, "woocommerce_rest_cannot_create",
                           "Sorry, you are not allowed to create resources.")
        if not hmac.compare_digest(key.encode(), self._key.encode()):
            raise ApiError(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if not hmac.compare_digest(secret.encode(), self._secret.encode()):
            raise ApiError(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")

    # -- products and variations ----------------------------------------------------------------

    def _on_products(self, request: Request, body: dict[str, Any]) -> Response:
        if request.method == "POST":
            return _json(self._public(self._create_product(body)), 201)
        args = request.args
        skus = None
        if args.get("sku"):
            skus = set(args["sku"].split(","))
            if len(skus) > 1:
                skus.add(args["sku"])  # WooCommerce also matches the whole string, commas and all
        include = {int(i) for i in args.get("include", "").split(",") if i.strip().isdigit()}
        records = [p for p in self._products.values()
                   if (p["type"] != "variation" or skus is not None)  # a SKU search also finds variations
                   and (skus is None or p["sku"] in skus)
                   and (not include or p["id"] in include)
                   and (not args.get("type") or p["type"] == args["type"])
                   and (not args.get("search") or args["search"].lower() in p["name"].lower())
                   and (p["status"] != "trash" or args.get("status") == "trash")]
        return self._page(request, records, default_orderby="date", default_order="desc")

    def _on_product(self, request: Request, body: dict[str, Any], pid: int) -> Response:
        record = self._product(pid, status=404 if request.method in ("GET", "DELETE") else 400)
        if request.method == "GET":
            return _json(self._public(record))
        if request.method == "DELETE":
            if request.args.get("force") in ("true", "1"):
                self._delete(record)
            else:
                self._write_product(record, {"status": "trash"})
            return _json(self._public(record))
        return _json(self._public(self._write_product(record, body)))

    def _on_products_batch(self, request: Request, body: dict[str, Any]) -> Response:
        return _json(self._batch(body, create=self._create_product,
                                 find=lambda i: self._product(i, status=400), write=self._write_product))

    def _on_variations(self, request: Request, body: dict[str, Any], pid: int) -> Response:
        parent = self._product(pid, status=404)
        if request.method == "POST":
            return _json(self._public(self._create_variation(parent, body)), 201)
        records = [self._products[v] for v in parent["variations"]]
        return self._page(request, records, default_orderby="date", default_order="desc")

    def _on_variation(self, request: Request, body: dict[str, Any], pid: int, vid: int) -> Response:
        parent = self._product(pid, status=404)
        record = self._variation(parent, vid, status=404 if request.method == "GET" else 400)
        if request.method == "GET":
            return _json(self._public(record))
        return _json(self._public(self._write_product(record, body)))

    def _on_variations_batch(self, request: Request, body: dict[str, Any], pid: int) -> Response:
        parent = self._product(pid, status=404)
        return _json(self._batch(body, create=lambda item: self._create_variation(parent, item),
                                 find=lambda i: self._variation(parent, i, status=400),
                                 write=self._write_product))

    def _batch(self, body: dict[str, Any], *, create: Callable[[dict], dict], find: Callable[[int], dict],
               write: Callable[[dict, dict], dict]) -> dict[str, list[dict[str, Any]]]:
        groups = {key: body.get(key) or [] for key in ("create", "update", "delete")}
        for key, items in groups.items():
            if not isinstance(items, list):
                raise _invalid_param(key, f"{key} is not of type array.")
        if sum(len(items) for items in groups.values()) > self.batch_limit:
            raise ApiError(413, "woocommerce_rest_request_entity_too_large",
                           f"Unable to accept more than {self.batch_limit} items for this request.")
        answer: dict[str, list[dict[str, Any]]] = {}

        def each(key: str, item_id: Any, action: Callable[[], dict[str, Any]]) -> None:
            try:  # one item's WP_Error is reported in its place; the others still apply
                answer.setdefault(key, []).append(self._public(action()))
            except ApiError as error:
                data = {"status": error.status, **error.data}
                answer.setdefault(key, []).append(
                    {"id": item_id, "error": {"code": error.code, "message": error.message, "data": data}})

        for item in groups["create"]:
            each("create", 0, lambda item=item: create(item))
        for item in groups["update"]:
            item_id = item.get("id") if isinstance(item, dict) else None
            each("update", item_id or 0,
                 lambda item=item, item_id=item_id: write(find(int(item_id or 0)), item))
        for item_id in groups["delete"]:
            each("delete", item_id, lambda item_id=item_id: self._delete(find(int(item_id))))
        return answer

    def _create_product(self, body: dict[str, Any]) -> dict[str, Any]:
        kind = body.get("type", "simple")
        if kind not in ("simple", "variable", "grouped", "external"):
            raise _invalid_param("type", "type is not one of simple, grouped, external, and variable.")
        record = self._blank(kind, parent_id=0, name=str(body.get("name") or "Product"))
        return self._write_product(record, body, new=True)

    def _create_variation(self, parent: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        record = self._blank("variation", parent_id=parent["id"], name=parent["name"])
        record["attributes"] = list(body.get("attributes") or [])
        self._write_product(record, body, new=True)
        parent["variations"].append(record["id"])
        return record

    def _blank(self, kind: str, *, parent_id: int, name: str) -> dict[str, Any]:
        created, created_gmt = _now()
        self._next_post += 1
        return {"id": self._next_post, "name": name, "slug": name.lower().replace(" ", "-"), "type": kind,
                "status": "publish", "date_created": created, "date_created_gmt": created_gmt,
                "date_modified": created, "date_modified_gmt": created_gmt, "sku": "", "price": "",
                "regular_price": "", "sale_price": "", "manage_stock": False, "stock_quantity": None,
                "stock_status": "instock", "backorders": "no", "parent_id": parent_id, "variations": [],
                "attributes": [], "meta_data": []}

    def _write_product(self, record: dict[str, Any], body: dict[str, Any], *,
                       new: bool = False) -> dict[str, Any]:
        """Validate everything first, then apply, so a rejected item changes nothing."""
        changes: dict[str, Any] = {}
        if "sku" in body:
            sku = str(body["sku"] or "")
            clash = next((p for p in self._products.values()
                          if sku and p["sku"] == sku and p["id"] != record["id"]), None)
            if clash is not None:
                raise ApiError(400, "product_invalid_sku", "Invalid or duplicated SKU.",
                               resource_id=clash["id"])
            changes["sku"] = sku
        if "stock_quantity" in body:
            quantity = body["stock_quantity"]
            if quantity is not None and (isinstance(quantity, bool) or not isinstance(quantity, int)):
                raise _invalid_param("stock_quantity", "stock_quantity is not of type integer.")
            changes["stock_quantity"] = quantity
        if "manage_stock" in body:
            if not isinstance(body["manage_stock"], bool):
                raise _invalid_param("manage_stock", "manage_stock is not of type boolean.")
            changes["manage_stock"] = body["manage_stock"]
        for field in ("name", "status", "regular_price", "sale_price", "stock_status"):
            if field in body:
                changes[field] = str(body[field])
        for field in ("regular_price", "sale_price"):
            if changes.get(field):
                _money(changes[field], field)
        record.update(changes)
        record["price"] = record["sale_price"] or record["regular_price"]
        if record["manage_stock"]:
            record["stock_status"] = "instock" if (record["stock_quantity"] or 0) > 0 else "outofstock"
        if new:
            self._products[record["id"]] = record
        else:
            record["date_modified"], record["date_modified_gmt"] = _now()
        return record

    def _delete(self, record: dict[str, Any]) -> dict[str, Any]:
        for variation_id in record.get("variations", []):
            self._products.pop(variation_id, None)
        if record["parent_id"] and record["parent_id"] in self._products:
            self._products[record["parent_id"]]["variations"].remove(record["id"])
        self._products.pop(record["id"], None)
        return record

    def _product(self, pid: int, *, status: int) -> dict[str, Any]:
        record = self._products.get(pid)
        if record is None or record["type"] == "variation":
            raise ApiError(status, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        return record

    def _variation(self, parent: dict[str, Any], vid: int, *, status: int) -> dict[str, Any]:
        if vid not in parent["variations"]:
            raise ApiError(status, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")
        return self._products[vid]

    def _by_sku(self, sku: str) -> dict[str, Any]:
        record = next((p for p in self._products.values() if p["sku"] == sku), None)
        if record is None:
            raise KeyError(sku)
        return record

    def _adjust_stock(self, product_id: int, delta: int) -> None:
        record = self._products.get(product_id)
        if record is not None and record["manage_stock"]:
            self._write_product(record, {"stock_quantity": (record["stock_quantity"] or 0) + delta})

    # -- orders and customers -------------------------------------------------------------------

    def _on_orders(self, request: Request, body: dict[str, Any]) -> Response:
        if request.method == "POST":
            self._next_order += 1
            created, created_gmt = _now()
            order: dict[str, Any] = {
                "id": self._next_order, "number": str(self._next_order),
                "order_key": f"wc_order_{self._next_order}", "status": "pending", "currency": self.currency,
                "created_via": "rest-api", "customer_id": 0, "date_created": created,
                "date_created_gmt": created_gmt, "date_paid": None, "date_paid_gmt": None,
                "billing": {}, "shipping": {}, "payment_method": "", "payment_method_title": "",
                "transaction_id": "", "customer_note": "", "line_items": [], "shipping_lines": [],
                "fee_lines": [], "coupon_lines": [], "refunds": [], "meta_data": [],
                "prices_include_tax": False}
            self._orders[order["id"]] = order
            return _json(self._write_order(order, body), 201)
        args = request.args
        statuses = set(args.get("status", "any").split(","))
        records = [o for o in self._orders.values()
                   if ("any" in statuses or o["status"] in statuses)
                   and (not args.get("customer") or str(o["customer_id"]) == args["customer"])
                   and (not args.get("after") or o["date_created_gmt"] > args["after"][:19])
                   and (not args.get("modified_after")
                        or o["date_modified_gmt"] > args["modified_after"][:19])]
        return self._page(request, records, default_orderby="date", default_order="desc")

    def _on_order(self, request: Request, body: dict[str, Any], oid: int) -> Response:
        order = self._orders.get(oid)
        if order is None:
            raise ApiError(404 if request.method == "GET" else 400, "woocommerce_rest_shop_order_invalid_id",
                           "Invalid ID.")
        return _json(order if request.method == "GET" else self._write_order(order, body))

    def _write_order(self, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        for field in ("status", "currency", "customer_id", "billing", "shipping", "payment_method",
                      "payment_method_title", "transaction_id", "customer_note", "meta_data",
                      "shipping_lines"):
            if field in body:
                order[field] = body[field]
        for line in body.get("line_items") or []:
            existing = next((li for li in order["line_items"] if line.get("id") and li["id"] == line["id"]),
                            None)
            if existing is None:
                existing = {"id": order["id"] * 100 + len(order["line_items"]) + 1, "quantity": 1,
                            "product_id": 0, "variation_id": 0, "meta_data": [], "taxes": [],
                            "total_tax": "0.00"}
                order["line_items"].append(existing)
            existing.update({k: v for k, v in line.items() if k != "id"})
            product = self._products.get(existing["variation_id"] or existing["product_id"])
            if product is not None:
                existing.setdefault("sku", product["sku"])
                existing.setdefault("name", product["name"])
                existing.setdefault("price", product["price"])
            price = _money(existing.get("price"), "price")
            existing["subtotal"] = existing.get("subtotal") or f"{price * int(existing['quantity']):.2f}"
            existing["total"] = existing.get("total") or existing["subtotal"]
        for line in order["shipping_lines"]:
            line.setdefault("id", self._next_order * 100 + 50 + order["shipping_lines"].index(line))
        if body.get("set_paid") and order["status"] == "pending":
            order["status"] = "processing"
        if order["status"] in ("processing", "completed") and not order["date_paid"]:
            order["date_paid"], order["date_paid_gmt"] = _now()
        shipping = sum((_money(s.get("total"), "total") for s in order["shipping_lines"]), Decimal(0))
        items = sum((_money(li["total"], "total") for li in order["line_items"]), Decimal(0))
        order["shipping_total"], order["total"] = f"{shipping:.2f}", f"{items + shipping:.2f}"
        order["date_modified"], order["date_modified_gmt"] = _now()
        self._follow_stock(order)
        return order

    def _follow_stock(self, order: dict[str, Any]) -> None:
        """wc_maybe_reduce_stock_levels / wc_maybe_increase_stock_levels."""
        reduced = order["id"] in self._stock_reduced
        if order["status"] in STOCK_REDUCING and not reduced:
            sign = -1
            self._stock_reduced.add(order["id"])
        elif order["status"] == "cancelled" and reduced:
            sign = 1
            self._stock_reduced.discard(order["id"])
        else:
            return
        for line in order["line_items"]:
            self._adjust_stock(line["variation_id"] or line["product_id"], sign * int(line["quantity"]))

    def _on_customers(self, request: Request, body: dict[str, Any]) -> Response:
        if request.method == "POST":
            if not body.get("email"):
                raise ApiError(400, "rest_missing_callback_param", "Missing parameter(s): email",
                               params=["email"])
            self._next_customer += 1
            created, created_gmt = _now()
            customer = {"id": self._next_customer, "date_created": created, "date_created_gmt": created_gmt,
                        "email": "", "first_name": "", "last_name": "", "role": "customer",
                        "username": str(body["email"]).split("@")[0], "billing": {}, "shipping": {},
                        "is_paying_customer": False, "meta_data": []}
            self._write_customer(customer, body)
            self._customers[customer["id"]] = customer
            return _json(customer, 201)
        email = request.args.get("email", "").lower()
        records = [c for c in self._customers.values() if not email or c["email"].lower() == email]
        return self._page(request, records, default_orderby="name", default_order="asc")

    def _on_customer(self, request: Request, body: dict[str, Any], cid: int) -> Response:
        customer = self._customers.get(cid)
        if customer is None:
            raise ApiError(404 if request.method == "GET" else 400, "woocommerce_rest_invalid_id",
                           "Invalid resource ID.")
        return _json(customer if request.method == "GET" else self._write_customer(customer, body))

    def _write_customer(self, customer: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        email = str(body.get("email", customer["email"])).strip()
        if "@" not in email:
            raise _invalid_param("email", "Invalid email address.")
        if any(c["email"].lower() == email.lower() and c["id"] != customer["id"]
               for c in self._customers.values()):
            raise ApiError(400, "registration-error-email-exists",
                           "An account is already registered with your email address. Please log in.")
        customer["email"] = email
        for field in ("first_name", "last_name", "billing", "shipping", "meta_data"):
            if field in body:
                customer[field] = body[field]
        customer["date_modified"], customer["date_modified_gmt"] = _now()
        return customer

    # -- listing --------------------------------------------------------------------------------

    def _page(self, request: Request, records: list[dict[str, Any]], *, default_orderby: str,
              default_order: str) -> Response:
        args = request.args
        per_page, page = _int_arg(args, "per_page", 10), _int_arg(args, "page", 1)
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise _invalid_param("per_page",
                                 f"per_page must be between 1 (inclusive) and {MAX_PER_PAGE} (inclusive)")
        if page < 1:
            raise _invalid_param("page", "page must be greater than or equal to 1")
        orderby, order = args.get("orderby", default_orderby), args.get("order", default_order)
        if order not in ("asc", "desc"):
            raise _invalid_param("order", "order is not one of asc and desc.")
        # Ids grow with creation time, so they break ties between records created in the same second.
        keys = {"id": lambda r: r["id"], "date": lambda r: (r.get("date_created_gmt", ""), r["id"]),
                "modified": lambda r: (r.get("date_modified_gmt", ""), r["id"]),
                "title": lambda r: (r.get("name", ""), r["id"]),
                "name": lambda r: (r.get("last_name", ""), r.get("first_name", ""), r["id"])}
        if orderby not in keys:
            raise _invalid_param("orderby", f"orderby is not one of {', '.join(keys)}.")
        ordered = sorted(records, key=keys[orderby], reverse=order == "desc")
        total, pages = len(ordered), -(-len(ordered) // per_page)
        fields = [f for f in args.get("_fields", "").split(",") if f]
        items = [self._public(r, fields) for r in ordered[(page - 1) * per_page: page * per_page]]
        links = []
        query = {k: v for k, v in args.items(multi=True) if k not in ("consumer_key", "consumer_secret")}
        for rel, target in (("prev", page - 1), ("next", page + 1)):
            if 1 <= target <= pages:
                links.append(f'<{request.base_url}?{urlencode({**query, "page": target})}>; rel="{rel}"')
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        if links:
            headers["Link"] = ", ".join(links)
        return _json(items, 200, headers)

    @staticmethod
    def _public(record: dict[str, Any], fields: list[str] | None = None) -> dict[str, Any]:
        if not fields:
            return dict(record)
        return {k: v for k, v in record.items() if k in fields or k == "id"}  # WordPress always keeps id

    def _seed(self, catalog: dict[str, Any]) -> None:
        self.currency = catalog.get("currency", self.currency)
        for product in catalog.get("products", []):
            self._create_product({"name": product["title"], "sku": product["sku"],
                                  "regular_price": product["price"], "manage_stock": True,
                                  "stock_quantity": int(product["stock"])})


def _int_arg(args: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(args.get(name, default))
    except ValueError:
        raise _invalid_param(name, f"{name} is not of type integer.") from None


def _json(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(payload), status=status, headers=dict(headers or {}),
                    mimetype="application/json")


def create_app(consumer_key: str = "ck_sandbox", consumer_secret: str = "cs_sandbox",
               catalog: Path | None = None, **options: Any) -> WooCommerceSandbox:
    """The sandbox, seeded from `catalog` (the demo catalogue by default; `seed=False` for an empty store).

    Options: `seed` (bool), `batch_limit` (items per batch call, 100 as in WooCommerce).
    """
    return WooCommerceSandbox(consumer_key, consumer_secret, catalog, **options)
