"""The Shopify sandbox's shop: locations, products, variants, inventory items and levels, and the
rules of `inventorySetQuantities` (compare-and-swap, idempotency keys, user errors) as Shopify documents them.
"""
from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from graphql import GraphQLError

MAX_INPUT_ARRAY = 250  # Shopify caps every input array at 250 items
MAX_PAGE = 250  # and every connection page at 250 objects
MAX_QUANTITY = 1_000_000_000
QUANTITY_NAMES = ("available", "committed", "damaged", "incoming", "on_hand", "quality_control", "reserved",
                  "safety_stock")
SETTABLE_NAMES = ("available", "on_hand")
REASONS = ("correction", "cycle_count_available", "damaged", "movement_created", "movement_updated",
           "movement_received", "movement_canceled", "other", "promotion", "quality_control", "received",
           "reservation_created", "reservation_deleted", "reservation_updated", "restock", "safety_stock",
           "shrinkage")


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def parse_gid(value: str | None, kind: str) -> int | None:
    """The numeric id of a `gid://shopify/<kind>/<n>`, or None when it is not one."""
    prefix = f"gid://shopify/{kind}/"
    if not value or not value.startswith(prefix):
        return None
    number = value[len(prefix):].split("?", 1)[0]
    return int(number) if number.isdigit() else None


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(slots=True)
class Location:
    id: int
    name: str
    active: bool = True


@dataclass(slots=True)
class Level:
    item_id: int
    location_id: int
    available: int
    committed: int = 0
    updated_at: datetime = field(default_factory=now)


@dataclass(slots=True)
class Item:
    id: int
    variant_id: int
    sku: str | None
    levels: dict[int, Level] = field(default_factory=dict)  # location id -> level
    tracked: bool = True


@dataclass(slots=True)
class Variant:
    id: int
    product_id: int
    sku: str | None
    title: str
    price: str
    item_id: int


@dataclass(slots=True)
class Product:
    id: int
    title: str
    handle: str
    variant_ids: list[int] = field(default_factory=list)
    status: str = "ACTIVE"


@dataclass(slots=True)
class Change:
    name: str
    delta: int
    after: int
    item_id: int
    location_id: int


@dataclass(slots=True)
class AdjustmentGroup:
    id: int
    reason: str
    reference_document_uri: str | None
    changes: list[Change]
    created_at: datetime = field(default_factory=now)


class Shop:
    """The shop's catalogue and stock, indexed for SKU search at 100,000 SKUs."""

    def __init__(self) -> None:
        self.locations: dict[int, Location] = {}
        self.products: dict[int, Product] = {}
        self.variants: dict[int, Variant] = {}
        self.items: dict[int, Item] = {}
        self._by_sku: dict[str, list[int]] = {}  # lower-cased SKU -> variant ids
        self._sorted: dict[str, list[Any]] = {}
        self._next = {"Location": 80_000_000_000, "Product": 8_000_000_000_000, "ProductVariant": 45_000_000_000_000,
                      "InventoryItem": 47_000_000_000_000, "InventoryAdjustmentGroup": 1_000}
        self.groups: dict[int, AdjustmentGroup] = {}
        from infra.local.sandboxes.shopify_transactions import TransactionBook  # it imports this module

        self.transactions = TransactionBook()
        self.idempotency: dict[str, tuple[str, dict[str, Any]]] = {}  # key -> (input fingerprint, payload)
        from infra.local.sandboxes.shopify_orders import OrderBook

        self.orders = OrderBook(self)

    def next_id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind]

    # -- seeding ---------------------------------------------------------------------------------
    def add_location(self, name: str) -> Location:
        location = Location(self.next_id("Location"), name)
        self.locations[location.id] = location
        self._sorted.pop("locations", None)
        return location

    def add_product(self, sku: str | None, title: str, price: str, stock: dict[int, int]) -> Variant:
        product = Product(self.next_id("Product"), title, _handle(title))
        variant = Variant(self.next_id("ProductVariant"), product.id, sku, "Default Title", price,
                          self.next_id("InventoryItem"))
        item = Item(variant.item_id, variant.id, sku)
        for location_id, available in stock.items():
            item.levels[location_id] = Level(item.id, location_id, available)
        product.variant_ids.append(variant.id)
        self.products[product.id] = product
        self.variants[variant.id] = variant
        self.items[item.id] = item
        if sku:
            self._by_sku.setdefault(sku.lower(), []).append(variant.id)
        self._sorted.clear()
        return variant

    def variants_for_sku(self, sku: str) -> list[Variant]:
        return [self.variants[v] for v in self._by_sku.get(sku.lower(), ()) if v in self.variants]

    def sorted_list(self, name: str) -> list[Any]:
        """Every record of a kind in id order (ids grow with insertion, so dict order is id order)."""
        if name not in self._sorted:
            sources: dict[str, Mapping[int, Any]] = {"products": self.products, "variants": self.variants,
                                                     "items": self.items, "locations": self.locations}
            source = sources[name]
            self._sorted[name] = list(source.values())
        return self._sorted[name]

    # -- search ----------------------------------------------------------------------------------
    def search(self, kind: str, query: str | None) -> list[Any]:
        """Records of `kind` ("products", "variants", "items", "locations") matching Shopify search syntax."""
        records = self.sorted_list(kind)
        if not query or not query.strip():
            return records
        groups = parse_search(query)
        found: dict[int, Any] = {}
        for terms in groups:
            candidates: Iterable[Any] = records
            sku_term = next((t for t in terms if t[0] == "sku" and not t[2] and not t[1].endswith("*")), None)
            if sku_term is not None and kind in ("variants", "items"):
                variants = self.variants_for_sku(sku_term[1])
                candidates = variants if kind == "variants" else [self.items[v.item_id] for v in variants]
            for record in candidates:
                if all(_matches(kind, record, self, term) for term in terms):
                    found[record.id] = record
        return [found[key] for key in sorted(found)]

    # -- inventorySetQuantities ------------------------------------------------------------------
    def set_quantities(self, data: dict[str, Any], idempotency_key: str | None) -> dict[str, Any]:
        """Validate every quantity first; apply all or nothing, as Shopify does."""
        if idempotency_key is not None:
            fingerprint = json.dumps(data, sort_keys=True, default=str)
            seen = self.idempotency.get(idempotency_key)
            if seen is not None:
                if seen[0] != fingerprint:
                    return _failed("IDEMPOTENCY_KEY_PARAMETER_MISMATCH", None,
                                   "The same idempotency key cannot be used with different operation parameters.")
                return seen[1]  # a duplicate request: the original result, nothing applied again
        payload = self._set_quantities(data)
        if idempotency_key is not None:
            self.idempotency[idempotency_key] = (fingerprint, payload)
        return payload

    def _set_quantities(self, data: dict[str, Any]) -> dict[str, Any]:
        errors: list[dict[str, Any]] = []
        name, reason, uri = data["name"], data["reason"], data.get("referenceDocumentUri")
        if name not in SETTABLE_NAMES:
            errors.append(_error("INVALID_NAME", ["input", "name"],
                                 "The quantity name must be either 'available' or 'on_hand'."))
        if reason not in REASONS:
            errors.append(_error("INVALID_REASON", ["input", "reason"], "The specified reason is invalid."))
        if uri is not None and (not urlparse(uri).scheme or uri.startswith("gid://")):
            errors.append(_error("INVALID_REFERENCE_DOCUMENT", ["input", "referenceDocumentUri"],
                                 "The specified reference document is invalid."))
        plan: list[tuple[Level, int]] = []
        seen_pairs: set[tuple[int, int]] = set()
        for index, quantity in enumerate(data["quantities"]):
            path = ["input", "quantities", str(index)]
            item = self.items.get(parse_gid(quantity["inventoryItemId"], "InventoryItem") or -1)
            location = self.locations.get(parse_gid(quantity["locationId"], "Location") or -1)
            if item is None:
                errors.append(_error("INVALID_INVENTORY_ITEM", path + ["inventoryItemId"],
                                     "The specified inventory item could not be found."))
                continue
            if location is None:
                errors.append(_error("INVALID_LOCATION", path + ["locationId"],
                                     "The specified location could not be found."))
                continue
            if (item.id, location.id) in seen_pairs:
                errors.append(_error("NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR", path,
                                     "The combination of inventoryItemId and locationId must be unique."))
                continue
            seen_pairs.add((item.id, location.id))
            level = item.levels.get(location.id)
            if level is None:
                errors.append(_error("ITEM_NOT_STOCKED_AT_LOCATION", path + ["locationId"],
                                     "The specified inventory item is not stocked at the location."))
                continue
            target = quantity["quantity"]
            if target < 0:
                errors.append(_error("INVALID_QUANTITY_NEGATIVE", path + ["quantity"], "The quantity can't be negative."))
                continue
            if target > MAX_QUANTITY:
                errors.append(_error("INVALID_QUANTITY_TOO_HIGH", path + ["quantity"],
                                     "The total quantity can't be higher than 1,000,000,000."))
                continue
            current = level.available if name == "available" else level.available + level.committed
            stale = _compare(quantity, current, bool(data.get("ignoreCompareQuantity")), path)
            if stale is not None:
                errors.append(stale)
                continue
            plan.append((level, target))
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        changes: list[Change] = []
        for level, target in plan:
            before_available = level.available
            level.available = target if name == "available" else target - level.committed
            level.updated_at = now()
            delta = level.available - before_available
            changes.append(Change("available", delta, level.available, level.item_id, level.location_id))
            changes.append(Change("on_hand", delta, level.available + level.committed, level.item_id,
                                  level.location_id))
        group = AdjustmentGroup(self.next_id("InventoryAdjustmentGroup"), reason, uri, changes)
        self.groups[group.id] = group
        return {"inventoryAdjustmentGroup": group, "userErrors": []}


def _compare(quantity: dict[str, Any], current: int, ignore: bool, path: list[str]) -> dict[str, Any] | None:
    """The compare-and-swap check: `changeFromQuantity` (null opts out) wins over the deprecated fields."""
    if "changeFromQuantity" in quantity:
        expected = quantity["changeFromQuantity"]
        if expected is not None and expected != current:
            return _error("CHANGE_FROM_QUANTITY_STALE", path + ["changeFromQuantity"],
                          "The changeFromQuantity value does not match persisted value.")
        return None
    if ignore:
        return None
    if quantity.get("compareQuantity") is None:
        return _error("COMPARE_QUANTITY_REQUIRED", path + ["compareQuantity"],
                      "The compareQuantity argument must be given to each quantity or ignored using "
                      "ignoreCompareQuantity.")
    if quantity["compareQuantity"] != current:
        return _error("COMPARE_QUANTITY_STALE", path + ["compareQuantity"],
                      "The compareQuantity value does not match persisted value.")
    return None


def _error(code: str, path: list[str] | None, message: str) -> dict[str, Any]:
    return {"code": code, "field": path, "message": message}


def _failed(code: str, path: list[str] | None, message: str) -> dict[str, Any]:
    return {"inventoryAdjustmentGroup": None, "userErrors": [_error(code, path, message)]}


def _handle(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "product"


# -- Shopify search syntax (the subset: field:value terms, quoted values, OR, AND, -negation) -------
_TERM = re.compile(r'\s*(?:(?P<op>OR|AND)(?=\s|$)|(?P<neg>-?)(?P<field>[A-Za-z_]+):'
                   r'(?P<value>"(?:[^"\\]|\\.)*"|[^\s"]+))')
SEARCH_FIELDS = {"variants": ("sku", "id", "title", "product_id"), "items": ("sku", "id"),
                 "products": ("sku", "id", "title"), "locations": ("id", "name")}


def parse_search(query: str) -> list[list[tuple[str, str, bool]]]:
    """OR-groups of AND-ed (field, value, negated) terms."""
    groups: list[list[tuple[str, str, bool]]] = [[]]
    position = 0
    while position < len(query):
        if not query[position:].strip():
            break
        match = _TERM.match(query, position)
        if match is None:
            raise GraphQLError(f"Sandbox search supports only field:value terms, got: {query[position:][:40]!r}")
        position = match.end()
        if match["op"] == "OR":
            groups.append([])
        elif match["op"] is None:
            value = match["value"]
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            groups[-1].append((match["field"].lower(), value, match["neg"] == "-"))
    return [group for group in groups if group]


def _matches(kind: str, record: Any, shop: Shop, term: tuple[str, str, bool]) -> bool:
    name, value, negated = term
    if name not in SEARCH_FIELDS[kind]:
        raise GraphQLError(f"Sandbox search does not support the field {name!r} on {kind}")
    if name == "sku":
        skus = _record_skus(kind, record, shop)
        wanted = value.lower()
        hit = any(s.lower().startswith(wanted[:-1]) if wanted.endswith("*") else s.lower() == wanted for s in skus)
    elif name == "id":
        hit = value.isdigit() and record.id == int(value)
    elif name == "product_id":
        hit = value.isdigit() and record.product_id == int(value)
    else:
        text: str = getattr(record, "title", "") or getattr(record, "name", "")
        hit = value.lower().rstrip("*") in text.lower()
    return hit != negated


def _record_skus(kind: str, record: Any, shop: Shop) -> list[str]:
    if kind == "products":
        return [s for v in record.variant_ids if (s := shop.variants[v].sku)]
    return [record.sku] if record.sku else []


# -- Relay connections -----------------------------------------------------------------------------
def cursor_of(key: int) -> str:
    import base64

    return base64.b64encode(json.dumps({"last_id": key}).encode()).decode()


def key_of(cursor: str) -> int:
    import base64

    try:
        return int(json.loads(base64.b64decode(cursor))["last_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise GraphQLError("Invalid cursor for current pagination sort.") from exc


class Edge:
    """An edge; its cursor is only encoded when asked for."""

    __slots__ = ("_key", "node")

    def __init__(self, node: Any, key: Callable[[Any], int]) -> None:
        self.node, self._key = node, key

    def cursor(self, info: Any) -> str:
        return cursor_of(self._key(self.node))


class Connection:
    """One page of a connection; `edges`, `nodes` and `pageInfo` resolve lazily."""

    __slots__ = ("has_next", "has_previous", "key", "window")

    def __init__(self, records: Sequence[Any], args: dict[str, Any], *, bulk: bool,
                 key: Callable[[Any], int] = lambda r: r.id) -> None:
        first, last, after, before = args.get("first"), args.get("last"), args.get("after"), args.get("before")
        if not bulk:
            if first is None and last is None:
                raise GraphQLError("you must provide one of first or last")
            for value in (first, last):
                if value is not None and not 0 <= value <= MAX_PAGE:
                    raise GraphQLError(f"The maximum number of items that can be requested is {MAX_PAGE}.")
        start, end = 0, len(records)
        if after:
            start = bisect_right(records, key_of(after), key=key)
        if before:
            end = bisect_right(records, key_of(before) - 1, key=key)
        window = records[start:end]
        self.has_previous, self.has_next = start > 0, end < len(records)
        if first is not None:
            self.has_next = self.has_next or len(window) > first
            window = window[:first]
        if last is not None:
            self.has_previous = self.has_previous or len(window) > last
            window = window[-last:] if last else []
        self.window = window
        self.key = key

    def edges(self, info: Any) -> list[Edge]:
        key = self.key
        return [Edge(record, key) for record in self.window]

    def nodes(self, info: Any) -> Sequence[Any]:
        return self.window

    def pageInfo(self, info: Any) -> dict[str, Any]:
        key = self.key
        return {"hasNextPage": self.has_next, "hasPreviousPage": self.has_previous,
                "startCursor": cursor_of(key(self.window[0])) if self.window else None,
                "endCursor": cursor_of(key(self.window[-1])) if self.window else None}
