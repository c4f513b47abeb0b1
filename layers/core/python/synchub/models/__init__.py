"""Canonical models shared by every flow and connector; they import nothing else of ours."""
from synchub.models.crm import Deal, UpsertOutcome
from synchub.models.customer import Address, Customer, normalise_email, normalise_phone
from synchub.models.envelope import DETAIL_SOURCE, EventEnvelope, PayloadRef
from synchub.models.inventory import StockLevel, StockUpdate, StockUpdateResult, StoreStock
from synchub.models.money import Money
from synchub.models.order import FinancialStatus, FulfillmentStatus, Order, OrderLine, ShippingLine
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
    "Tracking",
    "UpsertOutcome",
    "normalise_email",
    "normalise_phone",
    "split_reference",
]
