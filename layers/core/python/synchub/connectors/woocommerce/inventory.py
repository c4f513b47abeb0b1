"""WooCommerce as a Storefront: stock quantities of products and variations, found by SKU.

WooCommerce has no compare-and-swap and no idempotency key. Writes are absolute quantities, so a
repeat is harmless; where a StockUpdate carries `expected`, the current value is read first and
the update is reported "stale" instead of written when they differ. The read and the write are
two requests, so a sale landing between them can still be overwritten: the nightly reconciliation
is what closes that window.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from aws_lambda_powertools import Logger

from synchub.connectors.http import RetryPolicy
from synchub.connectors.woocommerce.client import MAX_BATCH_ITEMS, WooCommerceClient, error_code
from synchub.connectors.woocommerce.settings import WooCommerceSettings
from synchub.errors import VendorRejected
from synchub.models import StockUpdate, StockUpdateResult, StoreStock

logger = Logger(service="synchub")

DEFAULT_LOCATION = "default"  # WooCommerce keeps one stock figure per product: one location
STOCK_FIELDS = "id,sku,type,parent_id,manage_stock,stock_quantity,variations"


@dataclass(frozen=True)
class ProductRef:
    """Where a SKU lives: a product, or a variation of product `parent_id`."""

    id: int
    parent_id: int | None = None

    @property
    def collection(self) -> str:
        """The REST collection the record belongs to (its batch endpoint is `<collection>/batch`)."""
        return f"products/{self.parent_id}/variations" if self.parent_id else "products"


@dataclass(frozen=True)
class _Seen:
    """A fresh read of one SKU. `available` is None when WooCommerce does not manage its stock."""

    ref: ProductRef
    available: int | None


class WooCommerceStorefront:
    """Storefront over WooCommerce REST v3. SKU -> product/variation ids are cached for the instance's life.

    Options: `location_id` is the id the canonical model uses for the store's one stock location;
    `batch_size` caps items per batch call (100 unless the site lowered `woocommerce_rest_batch_items_limit`);
    `lookup_chunk` is how many SKUs one `GET /products?sku=a,b,...` asks for.
    """

    def __init__(self, client: WooCommerceClient, *, location_id: str = DEFAULT_LOCATION,
                 batch_size: int = MAX_BATCH_ITEMS, lookup_chunk: int = 50) -> None:
        if not 1 <= batch_size <= MAX_BATCH_ITEMS:
            raise ValueError(f"batch_size must be 1..{MAX_BATCH_ITEMS}")
        self.client = client
        self.location_id = location_id
        self.batch_size = batch_size
        self.lookup_chunk = max(1, lookup_chunk)
        self._refs: dict[str, ProductRef] = {}

    # -- Storefront ---------------------------------------------------------------------------

    def set_available(self, updates: Sequence[StockUpdate], *,
                      idempotency_key: str) -> list[StockUpdateResult]:
        """Write quantities with `manage_stock: true`; one result per update, in order.

        `before` is the value read in this call (always read when `expected` is set or the SKU is
        not cached yet), else None; `after` is what WooCommerce answered. Failure reasons:
        unknown_sku, stale, unknown_location, vendor_rejected:<woocommerce code>.
        """
        results: list[StockUpdateResult | None] = [None] * len(updates)
        pending: list[int] = []
        for index, update in enumerate(updates):
            if update.location_id != self.location_id:
                results[index] = _failed(update, "unknown_location")
            else:
                pending.append(index)
        must_read = {updates[i].sku for i in pending
                     if updates[i].expected is not None or updates[i].sku not in self._refs}
        gone = self._apply(updates, pending, self._read(must_read), results)
        if gone:  # cached ids the store no longer knows (deleted or re-created): look them up once more
            self._apply(updates, gone, self._read({updates[i].sku for i in gone}), results, retry=False)
        final = [result for result in results if result is not None]
        failures: dict[str, int] = {}
        for result in final:
            if not result.ok:
                failures[result.reason or "failed"] = failures.get(result.reason or "failed", 0) + 1
        logger.info("woocommerce stock written", extra={
            "idempotency_key": idempotency_key, "updates": len(updates),
            "ok": sum(result.ok for result in final), "failures": failures})
        return final

    def read_inventory(self) -> Iterator[StoreStock]:
        """Every product and variation whose stock WooCommerce manages, one page at a time."""
        for product in self.client.iter_all("products", {"_fields": STOCK_FIELDS}):
            stock = self._remember(product)
            if stock is not None:
                yield stock
            if product.get("type") == "variable" and product.get("variations") != []:
                path = f"products/{product['id']}/variations"
                for variation in self.client.iter_all(path, {"_fields": STOCK_FIELDS}):
                    stock = self._remember({**variation, "parent_id": product["id"]})
                    if stock is not None:
                        yield stock

    def read_available(self, skus: Sequence[str]) -> list[StoreStock]:
        """Current quantities of the SKUs WooCommerce manages stock for; others are absent."""
        seen = self._read(set(skus))
        stocks: list[StoreStock] = []
        for sku in dict.fromkeys(skus):
            found = seen.get(sku)
            if found is not None and found.available is not None:
                stocks.append(StoreStock(sku=sku, location_id=self.location_id, available=found.available,
                                         inventory_item_id=str(found.ref.id)))
        return stocks

    # -- lookup -------------------------------------------------------------------------------

    def locate(self, skus: Iterable[str]) -> dict[str, ProductRef]:
        """Product or variation per SKU, from the cache or the store; unknown SKUs are absent."""
        wanted = set(skus)
        self._read({sku for sku in wanted if sku not in self._refs})
        return {sku: self._refs[sku] for sku in wanted if sku in self._refs}

    def _read(self, skus: set[str]) -> dict[str, _Seen]:
        """Fresh ids and quantities by `GET /products?sku=a,b`: WooCommerce also matches variations there."""
        if not skus:
            return {}
        plain = sorted(sku for sku in skus if "," not in sku)
        # A SKU holding a comma cannot sit in a comma list; alone, WooCommerce matches the whole string.
        queries = [",".join(plain[i:i + self.lookup_chunk]) for i in range(0, len(plain), self.lookup_chunk)]
        queries += sorted(sku for sku in skus if "," in sku)
        seen: dict[str, _Seen] = {}
        for query in queries:
            for item in self.client.iter_all("products", {"sku": query, "_fields": STOCK_FIELDS}):
                sku = item.get("sku")
                if sku in skus:
                    ref = _ref(item)
                    self._refs[sku] = ref
                    seen[sku] = _Seen(ref, _managed_quantity(item))
        for sku in skus - seen.keys():
            self._refs.pop(sku, None)
        return seen

    def _remember(self, item: Mapping[str, Any]) -> StoreStock | None:
        sku = item.get("sku")
        if not sku:
            return None
        ref = _ref(item)
        self._refs[sku] = ref
        available = _managed_quantity(item)
        if available is None:
            return None
        return StoreStock(sku=sku, location_id=self.location_id, available=available,
                          inventory_item_id=str(ref.id))

    # -- writing ------------------------------------------------------------------------------

    def _apply(self, updates: Sequence[StockUpdate], indices: Sequence[int], seen: Mapping[str, _Seen],
               results: list[StockUpdateResult | None], *, retry: bool = True) -> list[int]:
        """Decide and write `indices`; returns those to look up again (a cached id the store rejected)."""
        writes: dict[str, list[tuple[int, ProductRef, int | None]]] = {}
        for index in indices:
            update = updates[index]
            fresh = seen.get(update.sku)
            ref = fresh.ref if fresh else self._refs.get(update.sku)
            if ref is None:
                results[index] = _failed(update, "unknown_sku")
                continue
            before = fresh.available if fresh else None
            if fresh and before == update.available:  # already there (a repeat after a crash): no write
                results[index] = _done(update, before, before)
            elif fresh and update.expected is not None and before is not None and before != update.expected:
                results[index] = _failed(update, "stale", before=before)
            else:
                writes.setdefault(ref.collection, []).append((index, ref, before))
        again: list[int] = []
        for collection, items in writes.items():
            for start in range(0, len(items), self.batch_size):
                chunk = items[start:start + self.batch_size]
                outcomes = self._write(collection, [(ref.id, updates[i].available) for i, ref, _ in chunk])
                for (index, _ref, before), (after, code) in zip(chunk, outcomes, strict=True):
                    update = updates[index]
                    if code is None:
                        results[index] = _done(update, before, after)
                        continue
                    if code.endswith("_invalid_id"):
                        self._refs.pop(update.sku, None)
                        if retry and update.sku not in seen:
                            again.append(index)
                            continue
                    results[index] = _failed(update, f"vendor_rejected:{code}", before=before)
        return again

    def _write(self, collection: str,
               quantities: Sequence[tuple[int, int]]) -> list[tuple[int | None, str | None]]:
        """One batch call; (after, None) or (None, error code) per item, in order."""
        try:
            answer = self.client.batch(collection, update=[
                {"id": record_id, "manage_stock": True, "stock_quantity": quantity}
                for record_id, quantity in quantities])
        except VendorRejected as exc:
            if exc.status in (401, 403):  # credentials, not items: every call would fail the same way
                raise
            return [(None, error_code(exc) or "vendor_rejected")] * len(quantities)
        rows = [row for row in answer.get("update") or [] if isinstance(row, dict)]
        ids = [record_id for record_id, _ in quantities]
        if [_id(row) for row in rows] != ids:  # answers come in request order; match by id if they do not
            by_id = {_id(row): row for row in rows}
            missing = {"error": {"code": "missing_from_batch_answer"}}
            rows = [by_id.get(record_id, missing) for record_id in ids]
        outcomes: list[tuple[int | None, str | None]] = []
        for row in rows:
            error = row.get("error")
            if error:
                code = error.get("code") if isinstance(error, dict) else None
                outcomes.append((None, str(code or "error")))
            else:
                outcomes.append((_managed_quantity(row), None))
        return outcomes


def woocommerce_storefront_from_config(store: WooCommerceSettings, secret: Mapping[str, str],
                                       http_client: httpx.Client | None = None, *,
                                       policy: RetryPolicy | None = None, batch_size: int = MAX_BATCH_ITEMS,
                                       query_string_auth: bool = False) -> WooCommerceStorefront:
    """The storefront of one configured WooCommerce store; `secret` holds consumer_key and consumer_secret.

    An injected `http_client` without a base URL or credentials gets the store's (tests, local mode).
    """
    locations = set(store.locations.values())  # at most one: WooCommerceSettings checks it
    client = WooCommerceClient.for_store(store, secret, http_client=http_client, policy=policy,
                                         query_string_auth=query_string_auth)
    return WooCommerceStorefront(client, location_id=locations.pop() if locations else DEFAULT_LOCATION,
                                 batch_size=batch_size)


def _ref(item: Mapping[str, Any]) -> ProductRef:
    parent = item.get("parent_id")
    is_variation = item.get("type") == "variation" or (parent and item.get("type") is None)
    return ProductRef(id=int(item["id"]), parent_id=int(parent) if is_variation and parent else None)


def _managed_quantity(item: Mapping[str, Any]) -> int | None:
    # manage_stock is true, false or, on a variation, "parent": only true means its own stock figure.
    if item.get("manage_stock") is not True or item.get("stock_quantity") is None:
        return None
    return int(item["stock_quantity"])


def _id(row: Mapping[str, Any]) -> int | None:
    try:
        return int(row["id"])
    except (KeyError, TypeError, ValueError):
        return None


def _done(update: StockUpdate, before: int | None, after: int | None) -> StockUpdateResult:
    return StockUpdateResult(sku=update.sku, location_id=update.location_id, ok=True, before=before,
                             after=after)


def _failed(update: StockUpdate, reason: str, *, before: int | None = None) -> StockUpdateResult:
    return StockUpdateResult(sku=update.sku, location_id=update.location_id, ok=False, reason=reason,
                             before=before)
