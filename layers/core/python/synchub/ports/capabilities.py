"""Capability ports: small protocols a vendor implements where it can, and flows require by name.

A `Capability[T]` token names one protocol. A vendor spec says which it provides (`TOKEN.provided_by(
factory)`, where mypy checks the factory's adapter against T); a flow lists the ones it requires; the
wiring hands a flow exactly those. No vendor must implement what it cannot do.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from synchub.models import (
    Customer,
    Deal,
    FulfillmentStatus,
    Order,
    Shipment,
    StockLevel,
    StockUpdate,
    StockUpdateResult,
    StoreFulfillment,
    StoreStock,
    UpsertOutcome,
)

if TYPE_CHECKING:
    from synchub.ports.kit import ConnectionContext

T = TypeVar("T")


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


class ChangedRecord(BaseModel):
    """One record a change feed reports: its id, the vendor's version stamp and its vendor payload."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    entity: str
    id: str
    updated_at: datetime
    payload: dict[str, Any]


class ChangeBatch(BaseModel):
    """Records changed after a watermark, oldest first, and the watermark to store once they are handled."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    records: tuple[ChangedRecord, ...]
    watermark: str | None  # None: nothing changed, keep the old one
    more: bool = False  # another call with the new watermark returns more


class ShipmentChanges(BaseModel):
    """Shipments done since a watermark, oldest first, and the watermark to store once they are published."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    shipments: tuple[Shipment, ...]
    watermark: str


class FulfillmentResult(BaseModel):
    """A store fulfilment for one ERP shipment, and the order's fulfilment status after it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    fulfillment_id: str
    created: bool  # False: the store already had it (a repeat, or a retry after a crash)
    order_status: FulfillmentStatus


# ERP-side capabilities -------------------------------------------------------------------------
class CustomerAccounts(Protocol):
    def upsert_customer(self, customer: Customer, *, reference: str) -> str:
        """Create or update the customer known by `reference`; returns the vendor's id."""
        ...


class SalesOrders(Protocol):
    def find_sales_order(self, reference: str) -> SalesOrderRef | None:
        """The sales order carrying our store reference, if one exists (the crash-safe check)."""
        ...

    def create_sales_order(self, order: Order, *, customer_id: str, products: dict[str, str]) -> SalesOrderRef:
        """Create and confirm the sales order (stock reserved), referenced by order.store_reference.

        `products` holds the ERP product id per `OrderLine.product_key`; lines without a key are fees."""
        ...

    def update_sales_order(self, sale: SalesOrderRef, order: Order, *, products: dict[str, str]) -> SalesOrderRef:
        """Bring an existing sales order in line with a newer version of the store order."""
        ...

    def cancel_sales_order(self, sale: SalesOrderRef) -> SalesOrderRef:
        """Cancel; repeating it on a cancelled order is a no-op."""
        ...


class ProductLookup(Protocol):
    def resolve_products(self, skus: Sequence[str]) -> dict[str, str]:
        """The vendor's product id per SKU; SKUs it does not know are absent."""
        ...


class StockSource(Protocol):
    def stock_changes(self, since: str | None, warehouses: Sequence[str]) -> StockChanges:
        """Stock of every SKU whose stock moved after `since` (None: all), with the next watermark."""
        ...

    def iter_stock(self, warehouses: Sequence[str], page_size: int = 1000) -> Iterator[list[StockLevel]]:
        """All stock, page by page, ordered by SKU."""
        ...


class ShipmentSource(Protocol):
    def shipments_since(self, since: str | None) -> ShipmentChanges:
        """Customer shipments done after `since`, oldest first, with the next watermark. None (the first poll)
        looks back a short while (the adapter's choice), never through the ERP's whole history."""
        ...


class ShipmentSink(Protocol):
    def close_shipments(self, fulfillment: StoreFulfillment) -> list[str]:
        """Mark the order's open shipments done with the store's tracking (only the fulfilled quantities when
        the fulfilment lists lines); the ids closed, [] when nothing was left open (a repeat is a no-op)."""
        ...


# Store-side capabilities -----------------------------------------------------------------------
class StockSink(Protocol):
    def set_available(self, updates: Sequence[StockUpdate], *, idempotency_key: str) -> list[StockUpdateResult]:
        """Set available quantities (compare-and-swap where `expected` is given)."""
        ...

    def read_inventory(self) -> Iterator[StoreStock]:
        """Every SKU's available quantity per location, from a bulk export."""
        ...

    def read_available(self, skus: Sequence[str]) -> list[StoreStock]:
        """Current available quantities for a few SKUs (the re-read after a stale compare-and-swap)."""
        ...


@dataclass(frozen=True)
class StoreTarget:
    """One store as the stock flows see it: its stock sink and ERP warehouse -> store location map."""

    store_id: str
    storefront: StockSink
    locations: MappingType[str, str] = field(default_factory=dict)


class Fulfillments(Protocol):
    def fulfil(self, shipment: Shipment) -> FulfillmentResult | None:
        """Fulfil the shipment's lines and quantities on the store order with its tracking, notifying the
        customer. Safe to repeat: the store is searched for this shipment (its tracking, our key) first.
        None when the order has nothing left to fulfil for these lines and no fulfilment carries the shipment."""
        ...

    def update_tracking(self, fulfillment_id: str, shipment: Shipment) -> None:
        """Replace the tracking of a fulfilment written earlier (the carrier or number changed in the ERP)."""
        ...


class FulfillmentPayloads(Protocol):
    """Turns a store's fulfilment webhook (or an order it reports as shipped) into a StoreFulfillment."""

    def fulfillment(self, store_id: str, entity: str, payload: dict) -> StoreFulfillment | None:
        """The fulfilment the payload reports; None when it reports none (e.g. an order not shipped yet)."""
        ...


class StorePayloads(Protocol):
    """Turns a store's vendor payload (carried in the envelope) into canonical models."""

    def order(self, store_id: str, payload: dict) -> Order: ...

    def customer(self, payload: dict) -> Customer: ...


class StoreStockPayloads(Protocol):
    """Turns a store's own stock change (a webhook it sends after any stock write) into stock levels."""

    def stock_levels(self, store_id: str, entity: str, payload: dict) -> list[StoreStock]:
        """The levels the payload reports, by SKU and store location; [] when it reports none we sync."""
        ...


# CRM-side capabilities -------------------------------------------------------------------------
class Contacts(Protocol):
    def upsert_contacts(self, customers: Sequence[Customer]) -> list[UpsertOutcome]:
        """Upsert by e-mail, in batches the vendor allows; one outcome per customer, keyed by e-mail."""
        ...


class Deals(Protocol):
    def upsert_deal(self, deal: Deal, *, contact_id: str | None) -> str:
        """Create or update the deal known by deal.reference, associated to the contact; returns its id."""
        ...


# Any side --------------------------------------------------------------------------------------
class ChangeFeed(Protocol):
    """What changed since a watermark: catch-up polling for lost webhooks, backfill, systems without webhooks."""

    def changed_since(self, entity: str, watermark: str | None, *, limit: int = 100) -> ChangeBatch:
        """Records of `entity` changed after `watermark` (None: from the beginning), oldest first."""
        ...


class RecordFetcher(Protocol):
    """One record by its vendor id, in the vendor's webhook payload shape (thin or truncated events)."""

    def fetch(self, entity: str, record_id: str) -> dict[str, Any] | None:
        """The record, or None when the vendor has no such record."""
        ...


# Tokens ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Provision:
    """One capability a vendor provides, and the factory that builds its adapter for a connection."""

    capability: str
    factory: Callable[[ConnectionContext], Any]


@dataclass(frozen=True)
class Capability(Generic[T]):
    """A typed name for one protocol; `provided_by` is where mypy checks an adapter against it."""

    name: str
    protocol: type
    credentials: bool = True  # whether its adapter calls the vendor (and so reads the connection's secret)

    def provided_by(self, factory: Callable[[ConnectionContext], T]) -> Provision:
        return Provision(self.name, factory)

    def __str__(self) -> str:
        return self.name


CUSTOMER_ACCOUNTS: Capability[CustomerAccounts] = Capability("customer_accounts", CustomerAccounts)
SALES_ORDERS: Capability[SalesOrders] = Capability("sales_orders", SalesOrders)
PRODUCT_LOOKUP: Capability[ProductLookup] = Capability("product_lookup", ProductLookup)
STOCK_SOURCE: Capability[StockSource] = Capability("stock_source", StockSource)
STOCK_SINK: Capability[StockSink] = Capability("stock_sink", StockSink)
STORE_PAYLOADS: Capability[StorePayloads] = Capability("store_payloads", StorePayloads, credentials=False)
STOCK_PAYLOADS: Capability[StoreStockPayloads] = Capability("stock_payloads", StoreStockPayloads, credentials=False)
SHIPMENT_SOURCE: Capability[ShipmentSource] = Capability("shipment_source", ShipmentSource)
SHIPMENT_SINK: Capability[ShipmentSink] = Capability("shipment_sink", ShipmentSink)
FULFILLMENTS: Capability[Fulfillments] = Capability("fulfillments", Fulfillments)
FULFILLMENT_PAYLOADS: Capability[FulfillmentPayloads] = Capability("fulfillment_payloads", FulfillmentPayloads,
                                                                   credentials=False)
CONTACTS: Capability[Contacts] = Capability("contacts", Contacts)
DEALS: Capability[Deals] = Capability("deals", Deals)
CHANGE_FEED: Capability[ChangeFeed] = Capability("change_feed", ChangeFeed)
RECORD_FETCHER: Capability[RecordFetcher] = Capability("record_fetcher", RecordFetcher)

CAPABILITIES: dict[str, Capability[Any]] = {token.name: token for token in (
    CUSTOMER_ACCOUNTS, SALES_ORDERS, PRODUCT_LOOKUP, STOCK_SOURCE, STOCK_SINK, STORE_PAYLOADS, STOCK_PAYLOADS,
    SHIPMENT_SOURCE, SHIPMENT_SINK, FULFILLMENTS, FULFILLMENT_PAYLOADS,
    CONTACTS, DEALS,
    CHANGE_FEED, RECORD_FETCHER)}
