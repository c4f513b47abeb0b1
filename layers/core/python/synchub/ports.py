"""The ports flows depend on. Connectors and the state layer implement them; flows import only these.

Every write method is safe to repeat: an upsert by an external id, or a search by our reference
before a create. That is what turns at-least-once delivery into exactly-once effect.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from synchub.models import (
    Customer,
    Deal,
    EventEnvelope,
    Order,
    PayloadRef,
    StockLevel,
    StockUpdate,
    StockUpdateResult,
    StoreStock,
    UpsertOutcome,
)


class SalesOrderRef(BaseModel):
    """An ERP sales order as the flows see it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    number: str | None = None
    state: str
    reference: str
    total: str | None = None


class StockChanges(BaseModel):
    """Stock levels changed since a watermark, and the watermark to store once they are published."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    levels: tuple[StockLevel, ...]
    watermark: str


class Erp(Protocol):
    def upsert_customer(self, customer: Customer, *, reference: str) -> str:
        """Create or update the ERP customer known by `reference`; returns the ERP id."""

    def find_sales_order(self, reference: str) -> SalesOrderRef | None:
        """The sales order carrying our store reference, if one exists (the crash-safe check)."""

    def resolve_products(self, skus: Sequence[str]) -> dict[str, str]:
        """ERP product id per SKU; SKUs the ERP does not know are absent."""

    def create_sales_order(self, order: Order, *, customer_id: str, products: dict[str, str]) -> SalesOrderRef:
        """Create and confirm the sales order (stock reserved), referenced by order.store_reference."""

    def update_sales_order(self, sale: SalesOrderRef, order: Order, *, products: dict[str, str]) -> SalesOrderRef:
        """Bring an existing sales order in line with a newer version of the store order."""

    def cancel_sales_order(self, sale: SalesOrderRef) -> SalesOrderRef:
        """Cancel; repeating it on a cancelled order is a no-op."""

    def stock_changes(self, since: str | None, warehouses: Sequence[str]) -> StockChanges:
        """Stock of every SKU whose stock moved after `since` (None: all), with the next watermark."""

    def iter_stock(self, warehouses: Sequence[str], page_size: int = 1000) -> Iterator[list[StockLevel]]:
        """All stock, page by page, ordered by SKU."""


class Crm(Protocol):
    def upsert_contacts(self, customers: Sequence[Customer]) -> list[UpsertOutcome]:
        """Upsert by e-mail, in batches the vendor allows; one outcome per customer, keyed by e-mail."""

    def upsert_deal(self, deal: Deal, *, contact_id: str | None) -> str:
        """Create or update the deal known by deal.reference, associated to the contact; returns its id."""


class Storefront(Protocol):
    def set_available(self, updates: Sequence[StockUpdate], *, idempotency_key: str) -> list[StockUpdateResult]:
        """Set available quantities (compare-and-swap where `expected` is given)."""

    def read_inventory(self) -> Iterator[StoreStock]:
        """Every SKU's available quantity per location, from a bulk export."""

    def read_available(self, skus: Sequence[str]) -> list[StoreStock]:
        """Current available quantities for a few SKUs (the re-read after a stale compare-and-swap)."""


class Mapping(BaseModel):
    """What SyncHub knows about one entity across systems."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    entity: str
    key: str  # canonical key, e.g. the order's store_reference
    ids: dict[str, str] = {}  # system -> id
    versions: dict[str, datetime] = {}  # scope (flow) -> source updated_at last applied
    written: dict[str, str] = {}  # system -> hash of what SyncHub last wrote there


class MappingStore(Protocol):
    def get(self, entity: str, key: str) -> Mapping | None: ...

    def find(self, entity: str, system: str, system_id: str) -> Mapping | None:
        """Look a mapping up from any side."""

    def link(self, entity: str, key: str, system: str, system_id: str) -> None: ...

    def claim_version(self, entity: str, key: str, version: datetime, *, scope: str = "default") -> bool:
        """Record `version` as applied by `scope` (a flow) unless an older-than-stored one; False when stale.

        Equal versions are allowed: re-applying the same version is harmless (writes are upserts) and a
        retry after a failed apply must get through.
        """

    def remember_written(self, entity: str, key: str, system: str, content_hash: str) -> None: ...

    def acquire_lease(self, entity: str, key: str, owner: str, seconds: int) -> bool:
        """Hold `key` for `seconds` so two events of one entity are never applied at once; False if held."""

    def release_lease(self, entity: str, key: str, owner: str) -> None: ...

    def get_watermark(self, source: str) -> str | None: ...

    def set_watermark(self, source: str, value: str) -> None: ...


class EventPublisher(Protocol):
    def publish(self, envelopes: Iterable[EventEnvelope]) -> None:
        """Put every envelope on the bus or raise; a partial failure is a failure."""


class WebhookDecision(BaseModel):
    """What ingest does with one verified delivery.

    kind: "event" (publish `envelope`), "ping" (answer 200, nothing else), "unusable" (signed but
    cannot be used: park it with `reason`), "ignored" (a topic this platform sends that we do not map).
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    kind: str
    envelope: EventEnvelope | None = None
    reason: str | None = None
    topic: str | None = None  # the vendor's own topic, for counting


class WebhookDecoder(Protocol):
    """Vendor webhook handling for one platform; implemented in connectors/<vendor>/webhooks.py."""

    def is_unsigned_ping(self, headers: dict[str, str], raw_body: bytes) -> bool: ...

    def verify(self, headers: dict[str, str], raw_body: bytes, secret: str) -> bool:
        """Constant-time check of the signature over the raw bytes, before any parsing."""

    def decode(self, store_id: str, headers: dict[str, str], raw_body: bytes) -> WebhookDecision: ...


class PartnerEventDecoder(Protocol):
    """Platforms that also deliver through an EventBridge partner source (Shopify)."""

    def decode_eventbridge(self, store_id: str, event: dict) -> WebhookDecision: ...


class StorePayloads(Protocol):
    """Turns a store's vendor payload (carried in the envelope) into canonical models."""

    def order(self, store_id: str, payload: dict) -> Order: ...

    def customer(self, payload: dict) -> Customer: ...


class DeadLetters(Protocol):
    """A flow's DLQ: where a message that cannot succeed is parked with its reason."""

    def park(self, body: str, reason: str, detail: dict | None = None) -> None: ...


class DriftItem(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    store: str
    sku: str
    location_id: str
    before: int  # the store's available quantity when read
    after: int  # the ERP's sellable quantity the store should show
    status: str = "drifted"  # drifted | fixed | failed:<reason> | dry_run
    inventory_item_id: str | None = None  # from the store's export, so applying needs no SKU lookup


class ReconcileReports(Protocol):
    """Where a reconciliation run's summary and drifted SKUs are kept for operators."""

    def start_run(self, run_id: str, *, store: str, checked: int, drifted: int, chunks: int,
                  not_in_store: int, dry_run: bool) -> None: ...

    def record_drift(self, run_id: str, items: Sequence[DriftItem]) -> None: ...

    def record_chunk(self, run_id: str, store: str, fixed: Sequence[DriftItem],
                     failed: Sequence[DriftItem]) -> None: ...

    def summary(self, run_id: str) -> dict: ...


class PayloadStore(Protocol):
    """Claim checks: keeps bytes too large for a bus entry or a DLQ message, and hands them back."""

    def put(self, key: str, data: bytes) -> PayloadRef: ...

    def get(self, ref: PayloadRef) -> bytes:
        """The stored bytes; raises PermanentError (`payload_missing`) when they are gone for good."""
