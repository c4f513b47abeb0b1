"""WooCommerce REST API v3 sandbox: a werkzeug WSGI app following WooCommerce's documented contract.

Products (with `sku`/`include`/`type`/`search` filters and `_fields`), variations, batch endpoints
with the 100-item limit (413 beyond), orders (stock reduced on processing/completed/on-hold and
restored on cancel, as WooCommerce does) and customers; Basic or query-string auth; WordPress
pagination headers; the `{"code","message","data":{"status"}}` error body; no rate limit, as WooCommerce
has none of its own. Built on the sandbox kit; the catalogue lives in `woocommerce_catalog`, WordPress'
REST conventions in `woocommerce_rest`. Thread-safe.
"""
from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from infra.local.sandboxes.kit import Fault, Sandbox, json_object
from infra.local.sandboxes.woocommerce_catalog import Catalogue
from infra.local.sandboxes.woocommerce_rest import ApiError, invalid_param, listing, money, site_now

__all__ = ["ApiError", "WooCommerceSandbox", "create_app"]

DEMO_CATALOG = Path(__file__).resolve().parent.parent / "demo_catalog.json"
API = "/wp-json/wc/v3"
BATCH_LIMIT = 100  # WooCommerce's default `woocommerce_rest_batch_items_limit`
EDIT = ["PUT", "PATCH", "POST"]  # WordPress' EDITABLE methods
STOCK_REDUCING = {"processing", "completed", "on-hold"}


class WooCommerceSandbox(Catalogue, Sandbox):
    """The app object; call it as WSGI. Inspection: stock(), set_stock(), state(), requests, fail_next()."""

    ROUTES: ClassVar[list[Rule]] = [
        Rule(f"{API}/products", endpoint="products", methods=["GET", "POST"]),
        Rule(f"{API}/products/batch", endpoint="products_batch", methods=EDIT),
        Rule(f"{API}/products/<int:pid>", endpoint="product", methods=["GET", "DELETE", *EDIT]),
        Rule(f"{API}/products/<int:pid>/variations", endpoint="variations", methods=["GET", "POST"]),
        Rule(f"{API}/products/<int:pid>/variations/batch", endpoint="variations_batch", methods=EDIT),
        Rule(f"{API}/products/<int:pid>/variations/<int:vid>", endpoint="variation", methods=["GET", *EDIT]),
        Rule(f"{API}/orders", endpoint="orders", methods=["GET", "POST"]),
        Rule(f"{API}/orders/<int:oid>", endpoint="order", methods=["GET", *EDIT]),
        Rule(f"{API}/orders/<int:oid>/notes", endpoint="order_notes", methods=["GET", "POST"]),
        Rule(f"{API}/customers", endpoint="customers", methods=["GET", "POST"]),
        Rule(f"{API}/customers/<int:cid>", endpoint="customer", methods=["GET", *EDIT]),
    ]

    def __init__(self, consumer_key: str, consumer_secret: str, catalog: Path | None = None, *,
                 seed: bool = True, batch_limit: int = BATCH_LIMIT) -> None:
        Sandbox.__init__(self)
        Catalogue.__init__(self)
        self._key, self._secret = consumer_key, consumer_secret
        self.batch_limit = batch_limit
        self._orders: dict[int, dict[str, Any]] = {}
        self._customers: dict[int, dict[str, Any]] = {}
        self._stock_reduced: set[int] = set()  # orders whose stock was taken (_order_stock_reduced)
        self._notes: dict[int, list[dict[str, Any]]] = {}  # order id -> its notes, newest first
        self.customer_emails: list[dict[str, Any]] = []  # notes and status e-mails WooCommerce sends shoppers
        self._next_meta, self._next_note = 5000, 900
        self._next_order, self._next_customer = 1000, 1
        self.currency = "USD"
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

    def state(self) -> dict[str, Any]:
        with self._lock:
            keys = ("id", "sku", "type", "parent_id", "manage_stock", "stock_quantity", "status")
            return {"products": [{key: p.get(key) for key in keys} for p in self._products.values()],
                    "orders": [{"id": o["id"], "status": o["status"]} for o in self._orders.values()],
                    "customers": len(self._customers), **super().state()}

    # -- the kit's hooks: WordPress' wire conventions ---------------------------------------------

    def no_route(self, exc: HTTPException) -> Response:
        no_route = ApiError(404, "rest_no_route", "No route was found matching the URL and request method.")
        return self.json(no_route.body(), 404)

    def gate(self, request: Request, endpoint: str) -> Response | None:
        self._authenticate(request)
        return self.fault_answer()

    def fault_response(self, fault: Fault) -> Response:
        code = "too_many_requests" if fault.status == 429 else "internal_server_error"
        told = ApiError(fault.status, code, "The sandbox was told to fail this request.")
        return self.json(told.body(), fault.status, fault.headers())

    def serve(self, request: Request, endpoint: str, args: dict[str, Any]) -> Response:
        body = json_object(request) if request.method != "GET" else None
        if request.method != "GET" and request.get_data() and body is None:
            raise ApiError(400, "rest_invalid_json", "Invalid JSON body passed.")
        return getattr(self, f"_on_{endpoint}")(request, body or {}, **args)

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


    # -- orders and customers -------------------------------------------------------------------

    def _on_orders(self, request: Request, body: dict[str, Any]) -> Response:
        if request.method == "POST":
            self._next_order += 1
            created, created_gmt = site_now()
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
            return self.json(self._write_order(order, body), 201)
        args = request.args
        statuses = set(args.get("status", "any").split(","))
        records = [o for o in self._orders.values()
                   if ("any" in statuses or o["status"] in statuses)
                   and (not args.get("customer") or str(o["customer_id"]) == args["customer"])
                   and (not args.get("after") or o["date_created_gmt"] > args["after"][:19])
                   and (not args.get("modified_after")
                        or o["date_modified_gmt"] > args["modified_after"][:19])]
        return self.json(*listing(request, records, default_orderby="date", default_order="desc"))

    def _on_order(self, request: Request, body: dict[str, Any], oid: int) -> Response:
        order = self._orders.get(oid)
        if order is None:
            raise ApiError(404 if request.method == "GET" else 400, "woocommerce_rest_shop_order_invalid_id",
                           "Invalid ID.")
        return self.json(order if request.method == "GET" else self._write_order(order, body))

    def _write_order(self, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        before = order["status"]
        for field in ("status", "currency", "customer_id", "billing", "shipping", "payment_method",
                      "payment_method_title", "transaction_id", "customer_note", "shipping_lines"):
            if field in body:
                order[field] = body[field]
        for meta in body.get("meta_data") or []:
            self._set_meta(order, meta)
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
            price = money(existing.get("price"), "price")
            existing["subtotal"] = existing.get("subtotal") or f"{price * int(existing['quantity']):.2f}"
            existing["total"] = existing.get("total") or existing["subtotal"]
        for line in order["shipping_lines"]:
            line.setdefault("id", self._next_order * 100 + 50 + order["shipping_lines"].index(line))
        if body.get("set_paid") and order["status"] == "pending":
            order["status"] = "processing"
        if order["status"] in ("processing", "completed") and not order["date_paid"]:
            order["date_paid"], order["date_paid_gmt"] = site_now()
        shipping = sum((money(s.get("total"), "total") for s in order["shipping_lines"]), Decimal(0))
        items = sum((money(li["total"], "total") for li in order["line_items"]), Decimal(0))
        order["shipping_total"], order["total"] = f"{shipping:.2f}", f"{items + shipping:.2f}"
        order["date_modified"], order["date_modified_gmt"] = site_now()
        if order["status"] == "completed" and before != "completed":
            order["date_completed"], order["date_completed_gmt"] = site_now()
            self.customer_emails.append({"order_id": order["id"], "email": "customer_completed_order"})
        if order["status"] != before and before is not None:
            self._add_note(order["id"], f"Order status changed from {before} to {order['status']}.", False)
        self._follow_stock(order)
        return order

    def _set_meta(self, order: dict[str, Any], meta: dict[str, Any]) -> None:
        """WC_Data::update_meta_data: by id when given, else the first entry with the key, else a new one."""
        if not isinstance(meta, dict) or (not meta.get("key") and not meta.get("id")):
            raise invalid_param("meta_data", "each item needs a key")
        entries = order.setdefault("meta_data", [])
        found = next((m for m in entries if (meta.get("id") and m["id"] == meta["id"])
                      or (not meta.get("id") and m["key"] == meta.get("key"))), None)
        if found is None:
            self._next_meta += 1
            entries.append({"id": self._next_meta, "key": meta["key"], "value": meta.get("value")})
        else:
            found["value"] = meta.get("value")

    def _add_note(self, oid: int, note: str, customer: bool) -> dict[str, Any]:
        self._next_note += 1
        created, created_gmt = site_now()
        record = {"id": self._next_note, "author": "WooCommerce" if not customer else "system",
                  "date_created": created, "date_created_gmt": created_gmt, "note": note,
                  "customer_note": customer, "added_by_user": False}
        self._notes.setdefault(oid, []).insert(0, record)
        if customer:  # WC_Email_Customer_Note
            self.customer_emails.append({"order_id": oid, "email": "customer_note", "note": note})
        return record

    def _on_order_notes(self, request: Request, body: dict[str, Any], oid: int) -> Response:
        if oid not in self._orders:
            raise ApiError(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
        if request.method == "POST":
            note = body.get("note")
            if not isinstance(note, str) or not note.strip():
                raise ApiError(400, "rest_missing_callback_param", "Missing parameter(s): note", params=["note"])
            return self.json(self._add_note(oid, note, bool(body.get("customer_note"))), 201)
        kind = request.args.get("type", "any")
        notes = [n for n in self._notes.get(oid, []) if kind == "any" or (kind == "customer") == n["customer_note"]]
        return self.json(notes)

    def order_notes(self, oid: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._notes.get(oid, []))

    def order(self, oid: int) -> dict[str, Any]:
        with self._lock:
            return json.loads(json.dumps(self._orders[oid]))

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
            created, created_gmt = site_now()
            customer: dict[str, Any] = {"id": self._next_customer, "date_created": created, "date_created_gmt": created_gmt,
                        "email": "", "first_name": "", "last_name": "", "role": "customer",
                        "username": str(body["email"]).split("@")[0], "billing": {}, "shipping": {},
                        "is_paying_customer": False, "meta_data": []}
            self._write_customer(customer, body)
            self._customers[customer["id"]] = customer
            return self.json(customer, 201)
        email = request.args.get("email", "").lower()
        records = [c for c in self._customers.values() if not email or c["email"].lower() == email]
        return self.json(*listing(request, records, default_orderby="name", default_order="asc"))

    def _on_customer(self, request: Request, body: dict[str, Any], cid: int) -> Response:
        customer = self._customers.get(cid)
        if customer is None:
            raise ApiError(404 if request.method == "GET" else 400, "woocommerce_rest_invalid_id",
                           "Invalid resource ID.")
        return self.json(customer if request.method == "GET" else self._write_customer(customer, body))

    def _write_customer(self, customer: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        email = str(body.get("email", customer["email"])).strip()
        if "@" not in email:
            raise invalid_param("email", "Invalid email address.")
        if any(c["email"].lower() == email.lower() and c["id"] != customer["id"]
               for c in self._customers.values()):
            raise ApiError(400, "registration-error-email-exists",
                           "An account is already registered with your email address. Please log in.")
        customer["email"] = email
        for field in ("first_name", "last_name", "billing", "shipping", "meta_data"):
            if field in body:
                customer[field] = body[field]
        customer["date_modified"], customer["date_modified_gmt"] = site_now()
        return customer

    def _seed(self, catalog: dict[str, Any]) -> None:
        self.currency = catalog.get("currency", self.currency)
        for product in catalog.get("products", []):
            self._create_product({"name": product["title"], "sku": product["sku"],
                                  "regular_price": product["price"], "manage_stock": True,
                                  "stock_quantity": int(product["stock"])})


def create_app(consumer_key: str = "ck_sandbox", consumer_secret: str = "cs_sandbox",
               catalog: Path | None = None, **options: Any) -> WooCommerceSandbox:
    """The sandbox, seeded from `catalog` (the demo catalogue by default; `seed=False` for an empty store).

    Options: `seed` (bool), `batch_limit` (items per batch call, 100 as in WooCommerce).
    """
    return WooCommerceSandbox(consumer_key, consumer_secret, catalog, **options)
