"""Shopify as a Storefront for stock: available quantities set by compare-and-swap `inventorySetQuantities`
(idempotent, 250 per call), read by SKU, and exported in full with a bulk query.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from aws_lambda_powertools import Logger

from synchub.connectors.http import DEFAULT_TIMEOUT, RetryPolicy
from synchub.connectors.shopify.admin import ShopifyAdmin
from synchub.connectors.shopify.settings import ShopifySettings
from synchub.errors import TransientError, VendorRejected
from synchub.models import StockUpdate, StockUpdateResult, StoreStock
from synchub.ports import MappingStore

logger = Logger(service="synchub")

ENTITY = "shopify_inventory_item"
SYSTEM = "shopify"
MAX_INPUT = 250  # Shopify's cap on input arrays and connection pages
MAX_QUERY_COST = 1000  # Shopify's single-query cost ceiling
KEY_NAMESPACE = uuid.UUID("6f1c1f3e-5b7a-4f0e-9a55-2f1d3c9b7e21")

SKU_LOOKUP = """query SkuLookup($first: Int!, $query: String!, $after: String) {
  productVariants(first: $first, query: $query, after: $after) {
    nodes { sku inventoryItem { id } }
    pageInfo { hasNextPage endCursor }
  }
}"""
LEVELS_BY_SKU = """query AvailableBySku($first: Int!, $query: String!, $levels: Int!) {
  inventoryItems(first: $first, query: $query) {
    nodes { id sku inventoryLevels(first: $levels) {
      nodes { location { id } quantities(names: ["available"]) { name quantity } } } }
  }
}"""
SET_AVAILABLE = """mutation SetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) @idempotent(key: "%s") {
    inventoryAdjustmentGroup { id changes(quantityNames: ["available"]) {
      name quantityAfterChange item { id } location { id } } }
    userErrors { field message code }
  }
}"""
RUN_BULK = """mutation RunBulkInventory($query: String!) {
  bulkOperationRunQuery(query: $query) { bulkOperation { id status } userErrors { field message code } }
}"""
BULK_INVENTORY = """{
  productVariants { edges { node { id sku inventoryItem { id
    inventoryLevels { edges { node { location { id } quantities(names: ["available"]) { name quantity } } } } } } } }
}"""
POLL_BULK = """query PollBulk($id: ID!) {
  node(id: $id) { ... on BulkOperation { id status errorCode objectCount url partialDataUrl } }
}"""
CURRENT_BULK = "query CurrentBulk { currentBulkOperation(type: QUERY) { id status } }"

REASONS = {"ITEM_NOT_STOCKED_AT_LOCATION": "not_stocked", "INVALID_LOCATION": "unknown_location",
           "INVALID_QUANTITY_NEGATIVE": "invalid_quantity", "INVALID_QUANTITY_TOO_HIGH": "invalid_quantity",
           "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR": "duplicate"}
MISSING_ITEM, NOT_STOCKED = "unknown_sku", "not_stocked"


@dataclass
class _Pending:
    index: int
    update: StockUpdate
    item_id: str
    expected: int | None = None

    @property
    def pair(self) -> tuple[str, str]:
        return self.item_id, self.update.location_id


class ShopifyStorefront:
    """The Storefront port over ShopifyAdmin. SKU -> InventoryItem gid is cached in-process and, when a
    MappingStore is given, as entity "shopify_inventory_item" keyed f"{store_id}:{sku}"."""

    def __init__(self, admin: ShopifyAdmin, *, store_id: str, mappings: MappingStore | None = None,
                 locations: Sequence[str] = (), batch_size: int = MAX_INPUT, max_cas_attempts: int = 3,
                 poll_interval: float = 2.0, bulk_timeout: float = 540.0,
                 sleep: Callable[[float], None] | None = None, reason: str = "correction",
                 levels_per_item: int = 10) -> None:
        self.admin = admin
        self.store_id = store_id
        self.mappings = mappings
        self.locations = tuple(locations)  # store locations SyncHub manages; empty: all of them
        self.batch_size = max(1, min(batch_size, MAX_INPUT))
        self.max_cas_attempts = max(1, max_cas_attempts)
        self.poll_interval = poll_interval
        self.max_polls = max(1, int(bulk_timeout / poll_interval)) if poll_interval > 0 else 1000
        self.sleep = sleep or admin.http.policy.sleep
        self.reason = reason
        self.levels_per_item = max(levels_per_item, len(self.locations), 1)
        self._items: dict[str, str] = {}  # SKU -> InventoryItem gid
        self.stale_retries = 0  # compare-and-swap retries after CHANGE_FROM_QUANTITY_STALE

    # -- Storefront port ---------------------------------------------------------------------------
    def set_available(self, updates: Sequence[StockUpdate], *, idempotency_key: str) -> list[StockUpdateResult]:
        results: list[StockUpdateResult | None] = [None] * len(updates)
        for update in updates:  # ids the caller already has (a bulk export) need no lookup
            if update.inventory_item_id:
                self._items.setdefault(update.sku, update.inventory_item_id)
        ids, ambiguous = self._resolve([u.sku for u in updates])
        latest: dict[tuple[str, str], _Pending] = {}
        for index, update in enumerate(updates):
            if update.sku in ambiguous or update.sku not in ids:
                results[index] = _failed(update, "ambiguous_sku" if update.sku in ambiguous else "unknown_sku")
                continue
            pending = _Pending(index, update, ids[update.sku], update.expected)
            earlier = latest.get(pending.pair)
            if earlier is not None:  # one call may carry a pair once; the later update wins
                results[earlier.index] = _failed(earlier.update, "superseded")
            latest[pending.pair] = pending
        pending_list = self._with_current(list(latest.values()), results)
        for chunk_number, start in enumerate(range(0, len(pending_list), self.batch_size)):
            self._write(pending_list[start:start + self.batch_size], idempotency_key, chunk_number, results)
        done = [r for r in results if r is not None]
        logger.info("shopify available set", extra={"store": self.store_id, "updates": len(updates),
                                                     "failed": sum(not r.ok for r in done)})
        return done

    def read_inventory(self) -> Iterator[StoreStock]:
        operation_id = self._start_bulk()
        operation = self._await_bulk(operation_id)
        if not operation.get("url"):
            return iter(())  # Shopify gives no file when the query matched nothing
        response = self.admin.download(operation["url"])
        return self._parse_jsonl(response.iter_lines())

    def read_available(self, skus: Sequence[str]) -> list[StoreStock]:
        wanted = list(dict.fromkeys(skus))
        per_item = 1 + 2 + self.levels_per_item * 3  # item + levels connection + (level, location, quantities)
        first = max(1, min(MAX_INPUT, (MAX_QUERY_COST - 2) // per_item))
        rows: list[StoreStock] = []
        for start in range(0, len(wanted), first):
            chunk = wanted[start:start + first]
            data = self.admin.execute(LEVELS_BY_SKU, {"first": first, "query": _sku_query(chunk),
                                                      "levels": self.levels_per_item}, cost=2 + first * per_item)
            asked = set(chunk)
            for node in data["inventoryItems"]["nodes"]:
                if node.get("sku") not in asked:
                    continue  # search matches loosely; keep exact SKUs only
                self._items.setdefault(node["sku"], node["id"])
                for level in node["inventoryLevels"]["nodes"]:
                    location = level["location"]["id"]
                    if self.locations and location not in self.locations:
                        continue
                    rows.append(StoreStock(sku=node["sku"], location_id=location, available=_available(level),
                                           inventory_item_id=node["id"]))
        return rows

    # -- SKU -> inventory item -------------------------------------------------------------------------
    def inventory_item_ids(self, skus: Iterable[str]) -> dict[str, str]:
        """InventoryItem gid per SKU the store knows (unique SKUs only)."""
        return self._resolve(list(skus))[0]

    def _resolve(self, skus: Sequence[str]) -> tuple[dict[str, str], set[str]]:
        found: dict[str, str] = {}
        missing: list[str] = []
        for sku in dict.fromkeys(skus):
            if sku in self._items:
                found[sku] = self._items[sku]
                continue
            mapping = self.mappings.get(ENTITY, self._key(sku)) if self.mappings else None
            if mapping is not None and mapping.ids.get(SYSTEM):
                found[sku] = self._items[sku] = mapping.ids[SYSTEM]
            else:
                missing.append(sku)
        fetched, ambiguous = self._lookup(missing)
        found.update(fetched)
        return found, ambiguous

    def _lookup(self, skus: Sequence[str]) -> tuple[dict[str, str], set[str]]:
        """Ask Shopify, 250 SKUs a query, and remember what it says."""
        seen: dict[str, set[str]] = {}
        for start in range(0, len(skus), MAX_INPUT):
            chunk = skus[start:start + MAX_INPUT]
            asked, after = set(chunk), None
            while True:
                data = self.admin.execute(SKU_LOOKUP, {"first": len(chunk), "query": _sku_query(chunk),
                                                       "after": after}, cost=2 + 2 * len(chunk))
                page = data["productVariants"]
                for node in page["nodes"]:
                    if node.get("sku") in asked:  # search matches loosely; keep exact SKUs only
                        seen.setdefault(node["sku"], set()).add(node["inventoryItem"]["id"])
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]
        found = {sku: next(iter(ids)) for sku, ids in seen.items() if len(ids) == 1}
        for sku, item_id in found.items():
            self._items[sku] = item_id
            if self.mappings is not None:
                self.mappings.link(ENTITY, self._key(sku), SYSTEM, item_id)
        for sku in set(skus) - set(found):
            self._items.pop(sku, None)
        return found, {sku for sku, ids in seen.items() if len(ids) > 1}

    def _key(self, sku: str) -> str:
        return f"{self.store_id}:{sku}"

    # -- compare-and-swap writes ---------------------------------------------------------------------
    def _with_current(self, pending: list[_Pending], results: list[StockUpdateResult | None]) -> list[_Pending]:
        """Give every update a compare-and-swap value, reading the store where the caller had none.
        Updates whose store value already equals the target need no write."""
        unknown = [p for p in pending if p.expected is None]
        current = self._read_current([p.pair for p in unknown])
        vanished = [p for p in unknown if current[p.pair] == MISSING_ITEM]
        if vanished:  # a cached item id that no longer exists: ask Shopify for the SKU again
            fresh = self._lookup([p.update.sku for p in vanished])[0]
            for p in vanished:
                if p.update.sku in fresh and fresh[p.update.sku] != p.item_id:
                    p.item_id = fresh[p.update.sku]
            current.update(self._read_current([p.pair for p in vanished if p.update.sku in fresh]))
        ready: list[_Pending] = []
        for p in pending:
            if p.expected is None:
                value = current.get(p.pair, MISSING_ITEM)
                if isinstance(value, str):
                    results[p.index] = _failed(p.update, value)
                    continue
                p.expected = value
                if value == p.update.available:
                    results[p.index] = _done(p.update, value, value)
                    continue
            ready.append(p)
        return ready

    def _read_current(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int | str]:
        """Available per (item, location), by aliased `inventoryItem(id:) { inventoryLevel(locationId:) }`
        (3 points each). A missing item or level comes back as its failure reason."""
        values: dict[tuple[str, str], int | str] = {}
        unique = list(dict.fromkeys(pairs))
        for start in range(0, len(unique), MAX_INPUT):
            chunk = unique[start:start + MAX_INPUT]
            params = ", ".join(f"$i{n}: ID!, $l{n}: ID!" for n in range(len(chunk)))
            fields = "\n".join(f"  q{n}: inventoryItem(id: $i{n}) {{ inventoryLevel(locationId: $l{n}) "
                               f"{{ quantities(names: [\"available\"]) {{ name quantity }} }} }}"
                               for n in range(len(chunk)))
            variables: dict[str, Any] = {}
            for n, (item_id, location_id) in enumerate(chunk):
                variables[f"i{n}"], variables[f"l{n}"] = item_id, location_id
            data = self.admin.execute(f"query CurrentAvailable({params}) {{\n{fields}\n}}", variables,
                                      cost=3 * len(chunk))
            for n, pair in enumerate(chunk):
                item = data.get(f"q{n}")
                if item is None:
                    values[pair] = MISSING_ITEM
                elif item.get("inventoryLevel") is None:
                    values[pair] = NOT_STOCKED
                else:
                    values[pair] = _available(item["inventoryLevel"])
        return values

    def _write(self, chunk: list[_Pending], idempotency_key: str, chunk_number: int,
               results: list[StockUpdateResult | None]) -> None:
        for attempt in range(1, self.max_cas_attempts + 1):
            if not chunk:
                return
            quantities = [{"inventoryItemId": p.item_id, "locationId": p.update.location_id,
                           "quantity": p.update.available, "changeFromQuantity": p.expected} for p in chunk]
            key = str(uuid.uuid5(KEY_NAMESPACE, json.dumps([idempotency_key, chunk_number, attempt, quantities])))
            payload = self.admin.execute(SET_AVAILABLE % key, cost=10, variables={"input": {
                "name": "available", "reason": self.reason, "quantities": quantities,
                "referenceDocumentUri":
                    f"synchub://stock-sync/{quote(self.store_id)}/{quote(idempotency_key, safe='')}",
            }})["inventorySetQuantities"]
            errors = payload.get("userErrors") or []
            if not errors:
                after = _after_values(payload.get("inventoryAdjustmentGroup"))
                for p in chunk:
                    results[p.index] = _done(p.update, p.expected, after.get(p.pair, p.update.available))
                return
            chunk = self._after_rejection(chunk, errors, results)  # Shopify applied none of the chunk
        for p in chunk:
            results[p.index] = _failed(p.update, "stale", before=p.expected)

    def _after_rejection(self, chunk: list[_Pending], errors: list[dict[str, Any]],
                         results: list[StockUpdateResult | None]) -> list[_Pending]:
        """Fail what cannot succeed, refresh the compare-and-swap value of what was stale, keep the rest."""
        stale: set[int] = set()
        vanished: set[int] = set()
        for error in errors:
            code, index = error.get("code"), _quantity_index(error.get("field"))
            if code == "IDEMPOTENCY_CONCURRENT_REQUEST":
                raise TransientError("shopify: the same inventory request is in progress", reason="in_progress")
            if index is None or index >= len(chunk):
                if code in ("CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE"):
                    stale.update(range(len(chunk)))
                    continue
                raise VendorRejected(f"shopify: inventorySetQuantities refused: {code}", vendor="shopify",
                                     status=200, category=code, body=errors)
            if code in ("CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE"):
                stale.add(index)
            elif code == "INVALID_INVENTORY_ITEM":
                vanished.add(index)
            else:
                results[chunk[index].index] = _failed(chunk[index].update, REASONS.get(str(code), str(code).lower()),
                                                      before=chunk[index].expected)
        if vanished:
            fresh = self._lookup([chunk[i].update.sku for i in vanished])[0]
            for i in vanished:
                new_id = fresh.get(chunk[i].update.sku)
                if new_id is None or new_id == chunk[i].item_id:
                    results[chunk[i].index] = _failed(chunk[i].update, "unknown_sku")
                else:
                    chunk[i].item_id = new_id
                    stale.add(i)
        self.stale_retries += len(stale)
        current = self._read_current([chunk[i].pair for i in stale])
        kept: list[_Pending] = []
        for i, p in enumerate(chunk):
            if results[p.index] is not None:
                continue
            if i in stale:
                value = current[p.pair]
                if isinstance(value, str):
                    results[p.index] = _failed(p.update, value)
                    continue
                p.expected = value  # the target is absolute, so retrying with the fresh value is right
                if value == p.update.available:
                    results[p.index] = _done(p.update, value, value)
                    continue
            kept.append(p)
        return kept

    # -- bulk export ----------------------------------------------------------------------------------
    def _start_bulk(self) -> str:
        for _ in range(self.max_polls):
            payload = self.admin.execute(RUN_BULK, {"query": BULK_INVENTORY})["bulkOperationRunQuery"]
            errors = payload.get("userErrors") or []
            if not errors:
                return payload["bulkOperation"]["id"]
            codes = {error.get("code") for error in errors}
            if not codes & {"OPERATION_IN_PROGRESS", "LIMIT_REACHED"}:
                raise VendorRejected(f"shopify: bulk query refused: {errors[0].get('message')}", vendor="shopify",
                                     status=200, category=next(iter(codes)), body=errors)
            # Another bulk query of this app runs (one at a time before 2026-01): wait for it to end.
            running = self.admin.execute(CURRENT_BULK).get("currentBulkOperation") or {}
            logger.info("shopify bulk query waits", extra={"running": running.get("id"),
                                                           "status": running.get("status")})
            self.sleep(self.poll_interval)
        raise TransientError("shopify: another bulk query is still running", reason="bulk_operation_in_progress",
                             retry_after=self.poll_interval)

    def _await_bulk(self, operation_id: str) -> dict[str, Any]:
        for _ in range(self.max_polls):
            node = self.admin.execute(POLL_BULK, {"id": operation_id}).get("node") or {}
            status = node.get("status")
            if status == "COMPLETED":
                logger.info("shopify bulk query completed", extra={"objects": node.get("objectCount")})
                return node
            if status == "FAILED":
                code = node.get("errorCode")
                if code == "ACCESS_DENIED":
                    raise VendorRejected("shopify: bulk query denied (missing access scope)", vendor="shopify",
                                         status=200, category=code, body=node)
                # Partial data would read as missing stock: retry the whole export later instead.
                raise TransientError(f"shopify: bulk query failed: {code}", reason="bulk_operation_failed")
            if status in ("CANCELED", "CANCELING", "EXPIRED") or status is None:
                raise TransientError(f"shopify: bulk query {status}", reason="bulk_operation_failed")
            self.sleep(self.poll_interval)
        raise TransientError("shopify: bulk query did not finish in time", reason="bulk_operation_timeout")

    def _parse_jsonl(self, lines: Iterable[str]) -> Iterator[StoreStock]:
        """Variants first or not (ungrouped output has no order guarantee): join levels by __parentId,
        which names the enclosing variant (or, defensively, the inventory item)."""
        variants: dict[str, tuple[str | None, str | None]] = {}
        levels: list[tuple[str, str, int]] = []
        for line in lines:
            if not line.strip():
                continue
            record = json.loads(line)
            parent = record.get("__parentId")
            if parent is None:
                item_id = (record.get("inventoryItem") or {}).get("id")
                variants[record["id"]] = (record.get("sku"), item_id)
                if item_id:
                    variants[item_id] = (record.get("sku"), item_id)
            else:
                levels.append((parent, record["location"]["id"], _available(record)))
        skus = [sku for key, (sku, item) in variants.items() if key != item and sku]
        unique = _unique(skus)
        for key, (sku, item_id) in variants.items():
            if sku in unique and item_id and key != item_id:
                self._items[sku] = item_id
        for parent, location, available in levels:
            sku, item_id = variants.get(parent, (None, None))
            if not sku or (self.locations and location not in self.locations):
                continue
            yield StoreStock(sku=sku, location_id=location, available=available, inventory_item_id=item_id)


def shopify_storefront_from_config(store: ShopifySettings, secret: dict[str, Any],
                                   http_client: httpx.Client | None = None, mappings: MappingStore | None = None, *,
                                   store_id: str, policy: RetryPolicy | None = None,
                                   poll_interval: float = 2.0, sleep: Callable[[float], None] | None = None,
                                   ) -> ShopifyStorefront:
    """A ShopifyStorefront for one configured store; `secret` holds "access_token"."""
    shop_url = store.shop_url
    client = http_client or httpx.Client(base_url=shop_url, timeout=DEFAULT_TIMEOUT)
    admin = ShopifyAdmin(client, shop_url=shop_url, api_version=store.api_version,
                         access_token=secret["access_token"], policy=policy, restore_rate=store.restore_rate)
    return ShopifyStorefront(admin, store_id=store_id, mappings=mappings, locations=tuple(store.locations.values()),
                             poll_interval=poll_interval, sleep=sleep)


def _sku_query(skus: Sequence[str]) -> str:
    """Shopify search syntax: every SKU quoted, so spaces, colons and `OR` inside a SKU stay literal."""
    return " OR ".join('sku:"' + sku.replace("\\", "\\\\").replace('"', '\\"') + '"' for sku in skus)


def _available(level: dict[str, Any]) -> int:
    return next((int(q["quantity"]) for q in level.get("quantities") or () if q.get("name") == "available"), 0)


def _after_values(group: dict[str, Any] | None) -> dict[tuple[str, str], int]:
    values: dict[tuple[str, str], int] = {}
    for change in (group or {}).get("changes") or ():
        if change.get("name") == "available" and change.get("quantityAfterChange") is not None:
            values[(change["item"]["id"], change["location"]["id"])] = int(change["quantityAfterChange"])
    return values


def _quantity_index(field: Sequence[str] | None) -> int | None:
    """The quantity a user error points at: field ["input", "quantities", "3", ...] -> 3."""
    parts = list(field or ())
    if "quantities" in parts:
        position = parts.index("quantities") + 1
        if position < len(parts) and str(parts[position]).isdigit():
            return int(parts[position])
    return None


def _unique(skus: list[str]) -> set[str]:
    counts: dict[str, int] = {}
    for sku in skus:
        counts[sku] = counts.get(sku, 0) + 1
    return {sku for sku, count in counts.items() if count == 1}


def _done(update: StockUpdate, before: int | None, after: int) -> StockUpdateResult:
    return StockUpdateResult(sku=update.sku, location_id=update.location_id, ok=True, before=before, after=after)


def _failed(update: StockUpdate, reason: str, before: int | None = None) -> StockUpdateResult:
    return StockUpdateResult(sku=update.sku, location_id=update.location_id, ok=False, reason=reason, before=before)

