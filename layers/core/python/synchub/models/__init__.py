"""Canonical models shared by every flow and connector; they import nothing else of ours."""
from synchub.models.crm import Deal, UpsertOutcome
from synchub.models.customer import Address, Customer, normalise_email, normalise_phone
from synchub.models.envelope import DETAIL_SOURCE, EventEnvelope, PayloadRef
from synchub.models.inventory import StockLevel, StockUpdate, StockUpdateResult, StoreStock
from synchub.models.money import Money
from synchub.models.order import (
    FinancialStatus,
    FulfillmentStatus,
    Order,
    OrderAdjustment,
    OrderLine,
    ShippingLine,
)
from synchub.models.order_totals import (
    TotalBreakdown,
    TotalPart,
    TotalPiece,
    minor_unit_exponent,
    order_total_breakdown,
)
from synchub.models.shipment import Shipment, ShippedLine, StoreFulfillment, Tracking, split_reference

__all__ = [
    "DETAIL_SOURCE",
    "Address",
    "Customer",
    "Deal",
    "EventEnvelope",
    "FinancialStatus",
    "FulfillmentStatus",
    "Money",
    "Order",
    "OrderAdjustment",
    "OrderLine",
    "PayloadRef",
    "Shipment",
    "ShippedLine",
    "ShippingLine",
    "StockLevel",
    "StockUpdate",
    "StockUpdateResult",
    "StoreFulfillment",
    "StoreStock",
    "TotalBreakdown",
    "TotalPart",
    "TotalPiece",
    "Tracking",
    "UpsertOutcome",
    "minor_unit_exponent",
    "normalise_email",
    "normalise_phone",
    "order_total_breakdown",
    "split_reference",
]
