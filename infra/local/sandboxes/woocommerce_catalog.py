"""The WooCommerce sandbox's catalogue: products and variations (one table, as WordPress posts), their
single and batch endpoints (the batch item limit answered with 413), and stock changes."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from infra.local.sandboxes.woocommerce_rest import ApiError, invalid_param, listing, money, public, site_now


class Catalogue:
    """Products and variations: a mixin of the WooCommerce sandbox, which provides `json` and the lock."""

    batch_limit: int
    json: Callable[..., Response]

    def __init__(self) -> None:
        self._products: dict[int, dict[str, Any]] = {}  # products and variations share WordPress' post ids
        self._next_post = 10

    def _on_products(self, request: Request, body: dict[str, Any]) -> Response:
        if request.method == "POST":
            return self.json(public(self._create_product(body)), 201)
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
        return self.json(*listing(request, records, default_orderby="date", default_order="desc"))

    def _on_product(self, request: Request, body: dict[str, Any], pid: int) -> Response:
        record = self._product(pid, status=404 if request.method in ("GET", "DELETE") else 400)
        if request.method == "GET":
            return self.json(public(record))
        if request.method == "DELETE":
            if request.args.get("force") in ("true", "1"):
                self._delete(record)
            else:
                self._write_product(record, {"status": "trash"})
            return self.json(public(record))
        return self.json(public(self._write_product(record, body)))

    def _on_products_batch(self, request: Request, body: dict[str, Any]) -> Response:
        return self.json(self._batch(body, create=self._create_product,
                                 find=lambda i: self._product(i, status=400), write=self._write_product))

    def _on_variations(self, request: Request, body: dict[str, Any], pid: int) -> Response:
        parent = self._product(pid, status=404)
        if request.method == "POST":
            return self.json(public(self._create_variation(parent, body)), 201)
        records = [self._products[v] for v in parent["variations"]]
        return self.json(*listing(request, records, default_orderby="date", default_order="desc"))

    def _on_variation(self, request: Request, body: dict[str, Any], pid: int, vid: int) -> Response:
        parent = self._product(pid, status=404)
        record = self._variation(parent, vid, status=404 if request.method == "GET" else 400)
        if request.method == "GET":
            return self.json(public(record))
        return self.json(public(self._write_product(record, body)))

    def _on_variations_batch(self, request: Request, body: dict[str, Any], pid: int) -> Response:
        parent = self._product(pid, status=404)
        return self.json(self._batch(body, create=lambda item: self._create_variation(parent, item),
                                 find=lambda i: self._variation(parent, i, status=400),
                                 write=self._write_product))

    def _batch(self, body: dict[str, Any], *, create: Callable[[dict], dict], find: Callable[[int], dict],
               write: Callable[[dict, dict], dict]) -> dict[str, list[dict[str, Any]]]:
        groups = {key: body.get(key) or [] for key in ("create", "update", "delete")}
        for key, items in groups.items():
            if not isinstance(items, list):
                raise invalid_param(key, f"{key} is not of type array.")
        if sum(len(items) for items in groups.values()) > self.batch_limit:
            raise ApiError(413, "woocommerce_rest_request_entity_too_large",
                           f"Unable to accept more than {self.batch_limit} items for this request.")
        answer: dict[str, list[dict[str, Any]]] = {}

        def each(key: str, item_id: Any, action: Callable[..., dict[str, Any]], *args: Any) -> None:
            try:  # one item's WP_Error is reported in its place; the others still apply
                answer.setdefault(key, []).append(public(action(*args)))
            except ApiError as error:
                data = {"status": error.status, **error.data}
                answer.setdefault(key, []).append(
                    {"id": item_id, "error": {"code": error.code, "message": error.message, "data": data}})

        for item in groups["create"]:
            each("create", 0, create, item)
        for item in groups["update"]:
            item_id = item.get("id") if isinstance(item, dict) else None
            each("update", item_id or 0, lambda item, item_id: write(find(int(item_id or 0)), item), item, item_id)
        for item_id in groups["delete"]:
            each("delete", item_id, lambda item_id: self._delete(find(int(item_id))), item_id)
        return answer

    def _create_product(self, body: dict[str, Any]) -> dict[str, Any]:
        kind = body.get("type", "simple")
        if kind not in ("simple", "variable", "grouped", "external"):
            raise invalid_param("type", "type is not one of simple, grouped, external, and variable.")
        record = self._blank(kind, parent_id=0, name=str(body.get("name") or "Product"))
        return self._write_product(record, body, new=True)

    def _create_variation(self, parent: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        record = self._blank("variation", parent_id=parent["id"], name=parent["name"])
        record["attributes"] = list(body.get("attributes") or [])
        self._write_product(record, body, new=True)
        parent["variations"].append(record["id"])
        return record

    def _blank(self, kind: str, *, parent_id: int, name: str) -> dict[str, Any]:
        created, created_gmt = site_now()
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
                raise invalid_param("stock_quantity", "stock_quantity is not of type integer.")
            changes["stock_quantity"] = quantity
        if "manage_stock" in body:
            if not isinstance(body["manage_stock"], bool):
                raise invalid_param("manage_stock", "manage_stock is not of type boolean.")
            changes["manage_stock"] = body["manage_stock"]
        for field in ("name", "status", "regular_price", "sale_price", "stock_status"):
            if field in body:
                changes[field] = str(body[field])
        for field in ("regular_price", "sale_price"):
            if changes.get(field):
                money(changes[field], field)
        record.update(changes)
        record["price"] = record["sale_price"] or record["regular_price"]
        if record["manage_stock"]:
            record["stock_status"] = "instock" if (record["stock_quantity"] or 0) > 0 else "outofstock"
        if new:
            self._products[record["id"]] = record
        else:
            record["date_modified"], record["date_modified_gmt"] = site_now()
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

