"""Shopify Admin GraphQL sandbox: the inventory subset of the API over werkzeug, with Shopify's auth error,
calculated query cost, leaky-bucket throttling (HTTP 200 + THROTTLED), idempotency keys and bulk exports.

Built on the sandbox kit (dispatch, request log, fault injection, `/_sandbox/` inspection). Drive it
in-process with `httpx.Client(transport=httpx.WSGITransport(app=create_app(...)))`, or serve it with
`werkzeug.serving.make_server`. Python-level inspection: `available`, `set_available`, `locations`, `state()`,
counters `calls`, `cost_spent`, `throttled`, `field_calls`. HTTP inspection under `/_sandbox/`.
"""
from __future__ import annotations

import hmac
import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, cast

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLFormattedError,
    GraphQLSchema,
    OperationDefinitionNode,
    execute,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from infra.local.sandboxes.kit import Fault, LeakyBucket, Sandbox
from infra.local.sandboxes.shopify_bulk import BulkOperations
from infra.local.sandboxes.shopify_graphql import QueryCost, RequestContext, execute_plain, family, schema_for
from infra.local.sandboxes.shopify_store import Location, Shop, gid, parse_gid
from infra.local.sandboxes.shopify_transactions import financial_status

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
VERSION = re.compile(r"^(\d{4}-\d{2}|unstable)$")


def throttle_status(bucket: LeakyBucket) -> dict[str, float | int]:
    """The bucket as Shopify reports it in `extensions.cost.throttleStatus`."""
    return {"maximumAvailable": float(bucket.maximum), "currentlyAvailable": math.floor(bucket.available),
            "restoreRate": float(bucket.rate)}


class ShopifySandbox(Sandbox):
    """The WSGI app. One shop, one app (one access token)."""

    ROUTES: ClassVar[list[Rule]] = [
        Rule("/admin/api/<version>/graphql.json", endpoint="graphql", methods=["POST"]),
        Rule("/_sandbox/bulk/<int:number>/<token>.jsonl", endpoint="bulk_file", methods=["GET"]),
        Rule("/_sandbox/inventory", endpoint="inventory", methods=["GET", "POST"]),
    ]
    JSON_OPTIONS: ClassVar[Mapping[str, Any]] = {"separators": (",", ":"), "default": str}

    def __init__(self, access_token: str, shop_domain: str, *, restore_rate: float = 100.0,
                 maximum_available: float = 2000.0, max_query_cost: int = 1000,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 latency: float = 0.0, bulk_reads_to_complete: int = 2,
                 bulk_query_concurrency: int | None = None) -> None:
        super().__init__(clock=clock, sleep=sleep, latency=latency)
        self.access_token = access_token
        self.shop_domain = shop_domain
        self.max_query_cost = max_query_cost
        self.bucket = LeakyBucket(maximum_available, restore_rate, clock)
        self.shop = Shop()
        self.bulk = BulkOperations(lambda version: schema_for(family(version)), self._run_bulk,
                                   reads_to_complete=bulk_reads_to_complete, concurrency=bulk_query_concurrency)
        self.calls = 0  # GraphQL requests answered (401 and THROTTLED included)
        self.cost_spent = 0  # points actually taken from the bucket
        self.throttled = 0
        self.field_calls: Counter[str] = Counter()  # root field -> executions (e.g. inventorySetQuantities)

    def no_route(self, exc: HTTPException) -> Response:
        if isinstance(exc, NotFound | MethodNotAllowed):
            return self.json({"errors": "Not Found"}, exc.code or 404)
        return exc.get_response()

    def fault_response(self, fault: Fault) -> Response:
        return self.json({"errors": HTTP_STATUS_CODES.get(fault.status, "Error")}, fault.status, fault.headers())

    def _on_graphql(self, request: Request, version: str) -> Response:
        self.calls += 1
        token = request.headers.get("X-Shopify-Access-Token", "")
        if not hmac.compare_digest(token.encode(), self.access_token.encode()):
            return self.json({"errors": INVALID_TOKEN}, 401)
        if not VERSION.match(version):
            return self.json({"errors": "Not Found"}, 404)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return self.json({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        return self.json(self._answer(body, version, request.host_url.rstrip("/")), 200)

    def _answer(self, body: dict[str, Any], version: str, base_url: str) -> dict[str, Any]:
        schema = schema_for(family(version))
        try:
            document, errors = _checked(family(version), body["query"])
        except GraphQLError as exc:
            return {"errors": [exc.formatted]}
        if errors:
            return {"errors": errors}
        operation = get_operation_ast(document, body.get("operationName"))
        if operation is None:
            return {"errors": [{"message": "An operation name is required"}]}
        variables = get_variable_values(schema, operation.variable_definitions or (), body.get("variables") or {})
        if isinstance(variables, list):
            return {"errors": [error.formatted for error in variables]}
        cost = QueryCost(schema, document, operation, variables)
        requested = cost.requested()
        if requested > self.max_query_cost:
            return {"errors": [{"message": f"Query cost is {requested}, which exceeds the single query max cost "
                                           f"limit ({self.max_query_cost}).",
                                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested,
                                               "maxCost": self.max_query_cost}}]}
        if not self.bucket.take(requested):
            self.throttled += 1
            return {"errors": [{"message": "Throttled", "extensions": {
                        "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                    "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                            "throttleStatus": throttle_status(self.bucket)}}}
        context = RequestContext(self.shop, self.bulk, version, base_url)
        result = execute(schema, document, context_value=context, variable_values=body.get("variables") or {},
                         operation_name=body.get("operationName"))
        assert isinstance(result, ExecutionResult)
        actual = cost.actual(result.data)
        self.bucket.give_back(requested - actual)  # the unused part of the requested cost is refunded
        self.cost_spent += actual
        self._count_fields(operation)
        answer = cast(dict[str, Any], result.formatted)  # a TypedDict; the extensions below are ours
        answer["extensions"] = {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                                         "throttleStatus": throttle_status(self.bucket)}}
        return answer

    def _count_fields(self, operation: OperationDefinitionNode) -> None:
        for selection in operation.selection_set.selections:
            name = getattr(selection, "name", None)
            if name is not None:
                self.field_calls[name.value] += 1

    def _run_bulk(self, schema: GraphQLSchema, document: DocumentNode) -> dict[str, Any]:
        context = RequestContext(self.shop, self.bulk, "unstable", "", bulk_mode=True)
        data = execute_plain(schema, document, context)
        if data is not None:
            return data
        result = execute(schema, document, context_value=context)
        assert isinstance(result, ExecutionResult)
        if result.errors:
            raise RuntimeError(f"bulk query failed: {result.errors[0].message}")
        return result.data or {}

    def _on_bulk_file(self, request: Request, number: int, token: str) -> Response:
        content = self.bulk.file(number, token)
        if content is None:
            return self.json({"errors": "Not Found"}, 404)
        return Response(content, 200, content_type="application/jsonl")

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"shop": self.shop_domain, "calls": self.calls, "cost_spent": self.cost_spent,
                    "throttled": self.throttled, "field_calls": dict(self.field_calls),
                    "skus": len(self.shop.variants), "locations": self.locations(),
                    "throttle_status": throttle_status(self.bucket)}

    def _on_inventory(self, request: Request) -> Response:
        if request.method == "POST":
            body = request.get_json(silent=True) or {}
            self.set_available(str(body.get("sku")), str(body.get("location_id")), int(body.get("available", 0)))
        sku = request.args.get("sku") or (request.get_json(silent=True) or {}).get("sku")
        location = request.args.get("location_id") or (request.get_json(silent=True) or {}).get("location_id")
        return self.json({"sku": sku, "location_id": location, "available": self.available(str(sku), str(location))},
                     200)

    # -- seeding and inspection -----------------------------------------------------------------------
    def seed(self, products: Sequence[dict[str, Any]] = (), locations: Sequence[str | dict[str, Any]] | None = None
             ) -> None:
        """Add locations (names, or {"name"}) and products ({"sku","title","price","stock"}). `stock` is a
        number for the first location (others get 0) or {location name or gid: number}."""
        with self._lock:
            for entry in locations or ():
                self.shop.add_location(entry if isinstance(entry, str) else entry["name"])
            if not self.shop.locations:
                self.shop.add_location("Shop location")
            for product in products:
                self.shop.add_product(product.get("sku"), product.get("title") or product.get("sku") or "Product",
                                      str(product.get("price", "0.00")), self._stock(product.get("stock", 0)))

    def _stock(self, stock: int | dict[str, int]) -> dict[int, int]:
        places = list(self.shop.locations.values())
        if isinstance(stock, dict):
            return {self._location(key).id: int(value) for key, value in stock.items()}
        return {place.id: (int(stock) if index == 0 else 0) for index, place in enumerate(places)}

    def add_transaction(self, order_id: int, **transaction: Any) -> dict[str, Any]:
        """Record a transaction on an order, as a checkout, capture or refund would (see shopify_transactions)."""
        with self._lock:
            added = self.shop.transactions.add(order_id, **transaction)
            order = self.shop.orders.order_of(order_id)
            if order is None:  # transactions hang off an order: seed a bare one
                self.shop.orders.add_order({"id": order_id, "name": self.shop.transactions.names[order_id],
                                            "line_items": []}, next(iter(self.shop.locations), None))
            else:  # as in Shopify, the order's financial status follows its money
                order.payload["financial_status"] = financial_status(
                    self.shop.transactions.of(order_id), order.payload.get("total_price"),
                    order.payload.get("financial_status"))
            return {"id": gid("OrderTransaction", added.id), "kind": added.kind, "status": added.status}

    def locations(self) -> list[dict[str, str]]:
        return [{"id": gid("Location", place.id), "name": place.name} for place in self.shop.locations.values()]

    def inventory_item_id(self, sku: str) -> str | None:
        variants = self.shop.variants_for_sku(sku)
        return gid("InventoryItem", variants[0].item_id) if variants else None

    def available(self, sku: str, location_id: str) -> int | None:
        """The available quantity of `sku` at a location (gid, number or name); None when not stocked there."""
        with self._lock:
            level = self._level(sku, location_id)
            return level.available if level is not None else None

    def set_available(self, sku: str, location_id: str, available: int) -> None:
        """Change stock behind the API's back: a sale in the store, or drift."""
        with self._lock:
            level = self._level(sku, location_id)
            if level is None:
                raise KeyError(f"{sku} is not stocked at {location_id}")
            level.available = available

    # -- orders and fulfilments --------------------------------------------------------------------------
    def add_order(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Place an order from its REST/webhook body (one fulfilment order at the first location); returns it as
        stored (`admin_graphql_api_id` is its gid)."""
        with self._lock:
            first = next(iter(self.shop.locations), None)
            book = self.shop.orders
            order = book.add_order(payload, first)
            order.payload.setdefault("admin_graphql_api_id", gid("Order", order.id))
            return book.get(order.id) or {}

    def edit_order(self, order_id: int, *, quantities: dict[int, int] | None = None,
                   add: list[dict[str, Any]] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Commit an order edit as the admin does; returns (the `orders/edited` body, the edited order)."""
        with self._lock:
            return self.shop.orders.edit(int(order_id), quantities=quantities, add=add)

    def order(self, order_id: str | int) -> dict[str, Any] | None:
        """An order's fulfilment state as the admin shows it: REST `fulfillment_status`, the GraphQL display
        status, and its fulfilments in the REST shape with the `notify_customer` flag."""
        with self._lock:
            book = self.shop.orders
            order = book.order_of(parse_gid(str(order_id), "Order") or int(str(order_id).rsplit("/", 1)[-1]))
            if order is None:
                return None
            return {"id": order.id, "fulfillment_status": book.rest_fulfillment_status(order),
                    "display_fulfillment_status": book.display_status(order),
                    "fulfillments": [{**book.rest_fulfillment(book.fulfillments[i]),
                                      "notify_customer": book.fulfillments[i].notify_customer}
                                     for i in order.fulfillment_ids]}

    def outbox(self, topic: str | None = None) -> list[dict[str, Any]]:
        """Webhook bodies Shopify would have sent after the fulfilment writes, oldest first."""
        with self._lock:
            return [body for name, body in self.shop.orders.outbox if topic is None or name == topic]

    @property
    def notifications(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.shop.orders.notifications)

    def fail_next_bulk(self, error_code: str = "INTERNAL_SERVER_ERROR") -> None:
        self.bulk.fail_next(error_code)

    def _level(self, sku: str, location_id: str) -> Any:
        variants = self.shop.variants_for_sku(sku)
        if not variants:
            raise KeyError(f"unknown SKU {sku}")
        return self.shop.items[variants[0].item_id].levels.get(self._location(location_id).id)

    def _location(self, key: str | int) -> Location:
        text = str(key)
        number = parse_gid(text, "Location") or (int(text) if text.isdigit() else None)
        for place in self.shop.locations.values():
            if place.id == number or place.name == text:
                return place
        raise KeyError(f"unknown location {key}")


def create_app(access_token: str, shop_domain: str, restore_rate: float = 100.0, maximum_available: float = 2000.0,
               clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep, *,
               catalog: Path | str | None = None, **options: Any) -> ShopifySandbox:
    """The sandbox app; `catalog` seeds it from infra/local/demo_catalog.json (one location, "Shop location")."""
    app = ShopifySandbox(access_token, shop_domain, restore_rate=restore_rate, maximum_available=maximum_available,
                         clock=clock, sleep=sleep, **options)
    if catalog is not None:
        data = json.loads(Path(catalog).read_text(encoding="utf-8"))
        app.seed(products=data.get("products", []))
    return app


def seed_synthetic(app: ShopifySandbox, n_skus: int, location_ids: Sequence[str],
                   stock: Callable[[int, int], int] | None = None, sku_prefix: str = "SKU-") -> list[str]:
    """Seed `n_skus` one-variant products (SKUs f"{sku_prefix}{i:06d}") stocked at every location.

    `location_ids` are existing location gids or names (names that do not exist are created).
    `stock(i, location_index)` gives the available quantity; by default (i * 7 + location_index) % 50.
    Fast enough for 100,000 SKUs (it writes the shop's tables directly).
    """
    quantity = stock or (lambda i, place: (i * 7 + place) % 50)
    with app._lock:
        places: list[int] = []
        for key in location_ids:
            try:
                places.append(app._location(key).id)
            except KeyError:
                places.append(app.shop.add_location(str(key)).id)
        skus = [f"{sku_prefix}{i:06d}" for i in range(n_skus)]
        for i, sku in enumerate(skus):
            app.shop.add_product(sku, f"Synthetic product {i}", "10.00",
                                 {place: quantity(i, index) for index, place in enumerate(places)})
    return skus


@lru_cache(maxsize=256)
def _checked(version_family: str, query: str) -> tuple[DocumentNode, list[GraphQLFormattedError]]:
    """Parsed and validated once per query text: clients repeat the same document with new variables."""
    document = parse(query)
    return document, [error.formatted for error in validate(schema_for(version_family), document)]
