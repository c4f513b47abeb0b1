"""Canonical models shared by every flow and connector; they import nothing else of ours."""
from synchub.models.crm import Deal, UpsertOutcome
from synchub.models.customer import Address, Customer, normalise_email, normalise_phone
from synchub.models.envelope import DETAIL_SOURCE, EventEnvelope, PayloadRef
from synchub.models.inventory import StockLevel, StockUpdate, StockUpdateResult, StoreStock
from synchub.models.money import Money
from synchub.models.order import FinancialStatus, FulfillmentStatus, Order, OrderLine, ShippingLine
from synchub.models.payment import Payment
from synchub.models.refund import Refund, RefundLine

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
    "Payment",
    "Refund",
    "RefundLine",
    "ShippingLine",
    "StockLevel",
    "StockUpdate",
    "StockUpdateResult",
    "StoreStock",
    "UpsertOutcome",
    "normalise_email",
    "normalise_phone",
]
