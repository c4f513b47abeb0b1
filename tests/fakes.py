"""In-memory fakes of the ports, for flow unit tests that run in milliseconds with no network.

They keep the same contracts as the real adapters (idempotent writes, search by reference, newest
version wins, compare-and-swap): tests/conformance runs the same suites against them and against every
vendor's adapter, so a fake cannot drift from the real contract.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS, DataRecord
from synchub.errors import MissingSku, TransientError, UnknownSku, VendorRejected
from synchub.models import (
    Customer,
    Deal,
    DealWrite,
    EventEnvelope,
    Order,
    StockLevel,
    StockUpdate,
    StockUpdateResult,
    StoreStock,
    UpsertOutcome,
)
from synchub.ports import ChangeBatch, ChangedRecord, DriftItem, Mapping, SalesOrderRef, StockChanges


@dataclass
class FakeLambdaContext:
    function_name: str = "synchub-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:synchub-test"
    aws_request_id: str = "req-1"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


class InMemoryMappingStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Mapping] = {}
        self.watermarks: dict[str, str] = {}
        self.leases: dict[tuple[str, str], str] = {}

    def get(self, entity: str, key: str) -> Mapping | None:
        return self.items.get((entity, key))

    def find(self, entity: str, system: str, system_id: str) -> Mapping | None:
        return next((m for (e, _), m in self.items.items() if e == entity and m.ids.get(system) == system_id), None)

    def _mapping(self, entity: str, key: str) -> Mapping:
        return self.items.get((entity, key)) or Mapping(entity=entity, key=key)

    def link(self, entity: str, key: str, system: str, system_id: str) -> None:
        current = self._mapping(entity, key)
        self.items[(entity, key)] = current.model_copy(update={"ids": {**current.ids, system: system_id}})

    def claim_version(self, entity: str, key: str, version: datetime, *, scope: str = "default") -> bool:
        current = self._mapping(entity, key)
        applied = current.versions.get(scope)
        if applied is not None and applied > version:
            return False
        self.items[(entity, key)] = current.model_copy(update={"versions": {**current.versions, scope: version}})
        return True

    def remember_written(self, entity: str, key: str, system: str, content_hash: str) -> None:
        current = self._mapping(entity, key)
        self.items[(entity, key)] = current.model_copy(update={"written": {**current.written, system: content_hash}})

    def acquire_lease(self, entity: str, key: str, owner: str, seconds: int) -> bool:
        holder = self.leases.get((entity, key))
        if holder is not None and holder != owner:
            return False
        self.leases[(entity, key)] = owner
        return True

    def release_lease(self, entity: str, key: str, owner: str) -> None:
        if self.leases.get((entity, key)) == owner:
            del self.leases[(entity, key)]

    def get_watermark(self, source: str) -> str | None:
        return self.watermarks.get(source)

    def set_watermark(self, source: str, value: str) -> None:
        self.watermarks[source] = value


@dataclass
class FakeSale:
    id: str
    reference: str
    customer_id: str
    state: str
    lines: list[tuple[str, int, Decimal]]
    total: Decimal
    erp_products: list[str | None] = field(default_factory=list)  # per line; None for a fee


def _erp_products(order: Order, products: dict[str, str]) -> list[str | None]:
    """The ERP product of each line (None for a fee); a line it cannot place fails typed, as Tryton's does."""
    unknown = [line.sku for line in order.lines if line.sku and line.sku not in products]
    if unknown:
        raise UnknownSku(unknown)
    unplaced = [line for line in order.lines_without_sku if line.product_key not in products]
    if unplaced:
        raise MissingSku([line.source_line_id for line in unplaced], [line.store_item_ref or "" for line in unplaced])
    return [products[line.product_key] if line.product_key else None for line in order.lines]


class FakeErp:
    """Sales searchable by reference, products by SKU, stock per SKU; counts every call."""

    def __init__(self, products: dict[str, str] | None = None, stock: Iterable[StockLevel] = ()) -> None:
        self.products = products or {}
        self.customers: dict[str, Customer] = {}
        self.sales: dict[str, FakeSale] = {}
        self.stock = {(level.sku, level.warehouse): level for level in stock}
        self.calls: list[str] = []
        self.fail_after_create = False  # simulates a crash between the ERP's write and our mapping write

    def _ref(self, sale: FakeSale) -> SalesOrderRef:
        return SalesOrderRef(id=sale.id, number=f"SO{sale.id}", state=sale.state, reference=sale.reference,
                             total=str(sale.total))

    def upsert_customer(self, customer: Customer, *, reference: str) -> str:
        self.calls.append("upsert_customer")
        self.customers[reference] = customer
        return f"party-{list(self.customers).index(reference) + 1}"

    def find_sales_order(self, reference: str) -> SalesOrderRef | None:
        self.calls.append("find_sales_order")
        sale = next((s for s in self.sales.values() if s.reference == reference), None)
        return self._ref(sale) if sale else None

    def resolve_products(self, skus: Sequence[str]) -> dict[str, str]:
        self.calls.append("resolve_products")
        return {sku: self.products[sku] for sku in skus if sku in self.products}

    def create_sales_order(self, order: Order, *, customer_id: str, products: dict[str, str]) -> SalesOrderRef:
        self.calls.append("create_sales_order")
        sale = FakeSale(id=str(len(self.sales) + 1), reference=order.store_reference, customer_id=customer_id,
                        state="processing", total=order.total.amount,
                        lines=[(line.sku or "", line.quantity, line.unit_price.amount) for line in order.lines],
                        erp_products=_erp_products(order, products))
        self.sales[sale.id] = sale
        if self.fail_after_create:
            self.fail_after_create = False
            raise TransientError("connection reset after the ERP committed", reason="network")
        return self._ref(sale)

    def update_sales_order(self, sale: SalesOrderRef, order: Order, *, products: dict[str, str]) -> SalesOrderRef:
        self.calls.append("update_sales_order")
        stored = self.sales[sale.id]
        stored.total = order.total.amount
        stored.lines = [(line.sku or "", line.quantity, line.unit_price.amount) for line in order.lines]
        stored.erp_products = _erp_products(order, products)
        return self._ref(stored)

    def cancel_sales_order(self, sale: SalesOrderRef) -> SalesOrderRef:
        self.calls.append("cancel_sales_order")
        self.sales[sale.id].state = "cancelled"
        return self._ref(self.sales[sale.id])

    def stock_changes(self, since: str | None, warehouses: Sequence[str]) -> StockChanges:
        self.calls.append("stock_changes")
        levels = [level for level in self.stock.values() if level.warehouse in warehouses and
                  (since is None or (level.updated_at and level.updated_at.isoformat() > since))]
        newest = max((level.updated_at.isoformat() for level in levels if level.updated_at),
                     default=since or "1970-01-01T00:00:00+00:00")
        return StockChanges(levels=tuple(levels), watermark=newest)

    def iter_stock(self, warehouses: Sequence[str], page_size: int = 1000) -> Iterator[list[StockLevel]]:
        levels = sorted((level for level in self.stock.values() if level.warehouse in warehouses),
                        key=lambda level: level.sku)
        for start in range(0, len(levels), page_size):
            self.calls.append("iter_stock")
            yield levels[start:start + page_size]


class FakeCrm:
    def __init__(self) -> None:
        self.contacts: dict[str, Customer] = {}
        self.deals: dict[str, tuple[Deal, str | None]] = {}
        self.calls: list[str] = []
        self.down = False
        self._faults: list[int] = []
        # Inputs (e-mails, deal references) a batch call answers with a per-input error, as a 207 does:
        # refused for good, or to be retried.
        self.refuse: set[str] = set()
        self.refuse_for_now: set[str] = set()

    def fail_next(self, count: int, status: int) -> None:
        """The next `count` calls fail as the vendor would: 429/5xx transient, other 4xx permanent."""
        self._faults.extend([status] * count)

    def _fault(self) -> None:
        if self.down:
            raise TransientError("CRM unavailable", reason="vendor_unavailable")
        if self._faults:
            status = self._faults.pop(0)
            if status == 429 or status >= 500:
                raise TransientError(f"HTTP {status}", reason="vendor_unavailable")
            raise VendorRejected(f"HTTP {status}", vendor="fake", status=status)

    def upsert_contacts(self, customers: Sequence[Customer]) -> list[UpsertOutcome]:
        self.calls.append("upsert_contacts")
        self._fault()
        outcomes = []
        for customer in customers:
            assert customer.email
            if (refused := self._refused(customer.email)) is not None:
                outcomes.append(refused)
                continue
            created = customer.email not in self.contacts
            self.contacts[customer.email] = customer
            outcomes.append(UpsertOutcome(key=customer.email, id=f"c-{list(self.contacts).index(customer.email) + 1}",
                                          created=created))
        return outcomes

    def upsert_deal(self, deal: Deal, *, contact_id: str | None) -> str:
        self.calls.append("upsert_deal")
        self._fault()
        self.deals[deal.reference] = (deal, contact_id)
        return f"d-{list(self.deals).index(deal.reference) + 1}"

    def upsert_deals(self, deals: Sequence[DealWrite]) -> list[UpsertOutcome]:
        self.calls.append("upsert_deals")
        self._fault()
        outcomes = []
        for write in deals:
            reference = write.deal.reference
            if (refused := self._refused(reference)) is not None:
                outcomes.append(refused)
                continue
            created = reference not in self.deals
            self.deals[reference] = (write.deal, write.contact_id)
            outcomes.append(UpsertOutcome(key=reference, id=f"d-{list(self.deals).index(reference) + 1}",
                                          created=created))
        return outcomes

    def _refused(self, key: str) -> UpsertOutcome | None:
        if key in self.refuse:
            return UpsertOutcome(key=key, error="validation_error:invalid_input")
        if key in self.refuse_for_now:
            return UpsertOutcome(key=key, error="internal_error", transient=True)
        return None


class FakeStoreFeed:
    """A store's orders as a change feed and a record fetcher: ids and modification stamps like WooCommerce's."""

    def __init__(self) -> None:
        self.orders: dict[str, dict] = {}
        self._clock = datetime(2026, 1, 1, tzinfo=UTC)

    def _tick(self) -> str:
        self._clock += timedelta(seconds=1)
        return self._clock.strftime("%Y-%m-%dT%H:%M:%S")

    def create(self) -> str:
        order_id = str(len(self.orders) + 1)
        self.orders[order_id] = {"id": int(order_id), "status": "processing", "date_modified_gmt": self._tick()}
        return order_id

    def touch(self, order_id: str) -> None:
        self.orders[order_id].update(status="completed", date_modified_gmt=self._tick())

    def fetch(self, entity: str, record_id: str) -> dict | None:
        order = self.orders.get(record_id)
        return dict(order) if order else None

    def changed_since(self, entity: str, watermark: str | None, *, limit: int = 100) -> ChangeBatch:
        changed = sorted((o for o in self.orders.values() if watermark is None or o["date_modified_gmt"] >= watermark),
                         key=lambda o: o["date_modified_gmt"])
        records = tuple(ChangedRecord(entity=entity, id=str(o["id"]), payload=dict(o),
                                      updated_at=datetime.fromisoformat(o["date_modified_gmt"]).replace(tzinfo=UTC))
                        for o in changed[:limit])
        newest = records[-1].payload["date_modified_gmt"] if records else watermark
        return ChangeBatch(records=records, watermark=newest, more=len(changed) > limit)


class FakeStorefront:
    """Available per (sku, location); `expected` is a real compare-and-swap like Shopify's."""

    def __init__(self, available: dict[tuple[str, str], int] | None = None) -> None:
        self.available = dict(available or {})
        self.calls: list[str] = []

    def set_available(self, updates: Sequence[StockUpdate], *, idempotency_key: str) -> list[StockUpdateResult]:
        self.calls.append("set_available")
        results = []
        for update in updates:
            key = (update.sku, update.location_id)
            if key not in self.available:
                results.append(StockUpdateResult(sku=update.sku, location_id=update.location_id, ok=False,
                                                 reason="unknown_sku"))
                continue
            before = self.available[key]
            if update.expected is not None and update.expected != before:  # compare-and-swap, as Shopify's
                results.append(StockUpdateResult(sku=update.sku, location_id=update.location_id, ok=False,
                                                 reason="stale", before=before))
                continue
            self.available[key] = update.available
            results.append(StockUpdateResult(sku=update.sku, location_id=update.location_id, ok=True, before=before,
                                             after=update.available))
        return results

    def read_inventory(self) -> Iterator[StoreStock]:
        self.calls.append("read_inventory")
        for (sku, location), available in sorted(self.available.items()):
            yield StoreStock(sku=sku, location_id=location, available=available)

    def read_available(self, skus: Sequence[str]) -> list[StoreStock]:
        return [StoreStock(sku=sku, location_id=location, available=available)
                for (sku, location), available in self.available.items() if sku in skus]


@dataclass
class RecordingPublisher:
    published: list[EventEnvelope] = field(default_factory=list)
    fail: bool = False
    max_entry_bytes: int | None = None  # EventBridge's 256 KB, made small in tests

    def publish(self, envelopes: Iterable[EventEnvelope]) -> None:
        from synchub.errors import EventTooLarge

        batch = list(envelopes)
        if self.max_entry_bytes and any(len(e.model_dump_json()) > self.max_entry_bytes for e in batch):
            raise EventTooLarge("event exceeds the bus entry size")
        if self.fail:
            raise RuntimeError("PutEvents failed for 1 of 1 entries")
        self.published.extend(batch)


@dataclass
class RecordingDeadLetters:
    parked: list[tuple[str, str, dict | None]] = field(default_factory=list)

    def park(self, body: str, reason: str, detail: dict | None = None) -> None:
        self.parked.append((body, reason, detail))


@dataclass
class InMemoryReports:
    runs: dict[str, dict] = field(default_factory=dict)
    drift: dict[tuple[str, str, str, str], DriftItem] = field(default_factory=dict)

    def start_run(self, run_id: str, *, store: str, checked: int, drifted: int, chunks: int, not_in_store: int,
                  dry_run: bool) -> None:
        self.runs[f"{run_id}/{store}"] = {"checked": checked, "drifted": drifted, "chunks": chunks, "fixed": 0,
                                          "failed": 0, "not_in_store": not_in_store, "dry_run": dry_run}

    def record_drift(self, run_id: str, items: Sequence[DriftItem]) -> None:
        for item in items:
            self.drift[(run_id, item.store, item.sku, item.location_id)] = item

    def record_chunk(self, run_id: str, store: str, fixed: Sequence[DriftItem], failed: Sequence[DriftItem]) -> None:
        self.record_drift(run_id, [*fixed, *failed])
        self.runs[f"{run_id}/{store}"]["fixed"] += len(fixed)
        self.runs[f"{run_id}/{store}"]["failed"] += len(failed)

    def summary(self, run_id: str) -> dict:
        return {key: value for key, value in self.runs.items() if key.startswith(run_id)}


class InMemoryIdempotency(BasePersistenceLayer):
    """Powertools' idempotency persistence in a dict, with DynamoDB's conditional-put rules (an existing
    record wins unless expired, or in progress past its in-progress expiry); `requests` counts table calls."""

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, DataRecord] = {}
        self.requests = 0

    def _get_record(self, idempotency_key: str) -> DataRecord:
        self.requests += 1
        record = self.records.get(idempotency_key)
        if record is None:
            raise IdempotencyItemNotFoundError
        return record

    def _put_record(self, data_record: DataRecord) -> None:
        self.requests += 1
        existing = self.records.get(data_record.idempotency_key)
        now_ms = int(datetime.now().timestamp() * 1000)
        if existing is not None and not existing.is_expired and not (
                existing.status == STATUS_CONSTANTS["INPROGRESS"] and existing.in_progress_expiry_timestamp is not None
                and existing.in_progress_expiry_timestamp < now_ms):
            raise IdempotencyItemAlreadyExistsError(old_data_record=existing)
        self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        self.requests += 1
        self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        self.requests += 1
        self.records.pop(data_record.idempotency_key, None)
