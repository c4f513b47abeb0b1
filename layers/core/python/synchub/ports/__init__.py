"""The ports flows depend on. Connectors and the state layer implement them; flows import only these.

- `capabilities`: small protocols cut by capability (sales orders, stock sink, contacts, ...) and their
  typed tokens; a vendor provides some, a flow requires some.
- `kit`: the vendor spec and the settings and context a connector's factories get.
- `webhooks`: verification and decoding of vendor deliveries.
- `state`: SyncHub's own state and plumbing (mappings, bus, dead letters, reports).

Every write method is safe to repeat: an upsert by an external id, or a search by our reference
before a create. That is what turns at-least-once delivery into exactly-once effect.
"""
from typing import TYPE_CHECKING, Any

from synchub.ports.capabilities import (
    CAPABILITIES,
    CHANGE_FEED,
    CONTACTS,
    CUSTOMER_ACCOUNTS,
    DEALS,
    FULFILLMENT_PAYLOADS,
    FULFILLMENTS,
    PRODUCT_LOOKUP,
    RECORD_FETCHER,
    SALES_ORDERS,
    SHIPMENT_SINK,
    SHIPMENT_SOURCE,
    STOCK_PAYLOADS,
    STOCK_SINK,
    STOCK_SOURCE,
    STORE_PAYLOADS,
    Capability,
    ChangeBatch,
    ChangedRecord,
    ChangeFeed,
    Contacts,
    CustomerAccounts,
    Deals,
    FulfillmentPayloads,
    FulfillmentResult,
    Fulfillments,
    ProductLookup,
    Provision,
    RecordFetcher,
    SalesOrderRef,
    SalesOrders,
    ShipmentChanges,
    ShipmentSink,
    ShipmentSource,
    StockChanges,
    StockSink,
    StockSource,
    StorePayloads,
    StoreStockPayloads,
    StoreTarget,
)
from synchub.ports.state import (
    DeadLetters,
    DriftItem,
    EventPublisher,
    Mapping,
    MappingStore,
    PayloadStore,
    ReconcileReports,
)
from synchub.ports.webhooks import PartnerEventDecoder, WebhookDecision, WebhookDecoder

if TYPE_CHECKING:
    from synchub.ports.kit import (
        ROLE_SETTINGS,
        ROLES,
        ConnectionContext,
        ConnectionSettings,
        CrmSettings,
        ErpSettings,
        Role,
        StoreSettings,
        VendorSpec,
    )

# The kit (vendor specs and settings models) is imported on first use: flows and handlers do not need it,
# and its pydantic models would cost every cold start a few milliseconds.
_KIT = frozenset({"ConnectionContext", "ConnectionSettings", "CrmSettings", "ErpSettings", "ROLES", "ROLE_SETTINGS",
                  "Role", "StoreSettings", "VendorSpec"})


def __getattr__(name: str) -> Any:
    if name in _KIT:
        from synchub.ports import kit

        return getattr(kit, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "CAPABILITIES",
    "CHANGE_FEED",
    "CONTACTS",
    "CUSTOMER_ACCOUNTS",
    "DEALS",
    "FULFILLMENTS",
    "FULFILLMENT_PAYLOADS",
    "PRODUCT_LOOKUP",
    "RECORD_FETCHER",
    "ROLES",
    "ROLE_SETTINGS",
    "SALES_ORDERS",
    "SHIPMENT_SINK",
    "SHIPMENT_SOURCE",
    "STOCK_PAYLOADS",
    "STOCK_SINK",
    "STOCK_SOURCE",
    "STORE_PAYLOADS",
    "Capability",
    "ChangeBatch",
    "ChangeFeed",
    "ChangedRecord",
    "ConnectionContext",
    "ConnectionSettings",
    "Contacts",
    "CrmSettings",
    "CustomerAccounts",
    "DeadLetters",
    "Deals",
    "DriftItem",
    "ErpSettings",
    "EventPublisher",
    "FulfillmentPayloads",
    "FulfillmentResult",
    "Fulfillments",
    "Mapping",
    "MappingStore",
    "PartnerEventDecoder",
    "PayloadStore",
    "ProductLookup",
    "Provision",
    "ReconcileReports",
    "RecordFetcher",
    "Role",
    "SalesOrderRef",
    "SalesOrders",
    "ShipmentChanges",
    "ShipmentSink",
    "ShipmentSource",
    "StockChanges",
    "StockSink",
    "StockSource",
    "StorePayloads",
    "StoreSettings",
    "StoreStockPayloads",
    "StoreTarget",
    "VendorSpec",
    "WebhookDecision",
    "WebhookDecoder",
]
