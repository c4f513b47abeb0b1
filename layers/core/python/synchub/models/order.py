"""Order and OrderLine: what a shopper bought, in the store's currency."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from synchub.models.customer import Address, Customer
from synchub.models.money import Money


class FinancialStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"


class FulfillmentStatus(StrEnum):
    UNFULFILLED = "unfulfilled"
    PARTIAL = "partial"
    FULFILLED = "fulfilled"


class OrderLine(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    source_line_id: str
    sku: str | None
    title: str
    # The store's own catalogue ids: a line with either sells a catalogue product even when its SKU is blank.
    product_ref: str | None = None
    variant_ref: str | None = None
    quantity: int = Field(gt=0)
    unit_price: Money
    discount: Money  # total discount allocated to this line (all units)
    tax: Money  # total tax on this line (all units)
    # Sells a gift card: money the shop now owes the holder (a liability), not a product sale or stock.
    gift_card: bool = False

    @field_validator("source_line_id", "product_ref", "variant_ref", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @property
    def store_item_ref(self) -> str | None:
        """The store's id of what was sold: the variant when there is one, else the product."""
        return self.variant_ref or self.product_ref

    @property
    def is_fee(self) -> bool:
        """A charge with no catalogue product behind it (custom item, gift wrap, surcharge)."""
        return not self.gift_card and not self.sku and self.store_item_ref is None

    @property
    def needs_product(self) -> bool:
        """Sells a catalogue product the ERP must know: neither a fee nor a gift card."""
        return not self.gift_card and not self.is_fee

    @property
    def product_key(self) -> str | None:
        """The key of this line's ERP product in a flow's product map: its SKU, else its store item; None for a fee."""
        if self.sku:
            return self.sku
        return None if self.store_item_ref is None else f"store-item:{self.store_item_ref}"

    @property
    def net_total(self) -> Money:
        """Line amount after discount, before tax."""
        return Money(amount=self.unit_price.amount * self.quantity - self.discount.amount,
                     currency=self.unit_price.currency)


class ShippingLine(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    code: str | None
    title: str
    price: Money
    discount: Money
    tax: Money


class OrderAdjustment(BaseModel):
    """An order-level charge (positive) or credit (negative) inside the store's total but outside its lines,
    shipping, tax, tip, duties and discounts: a negative fee, an additional fee, a manual adjustment."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    title: str
    amount: Money


class Order(BaseModel):
    """A store order. `reference` is what people see ("#1001"); ERP and CRM keep `store_reference`."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    store: str
    source_id: str
    reference: str
    email: str | None = None
    customer: Customer | None = None
    currency: str
    lines: tuple[OrderLine, ...]
    shipping_lines: tuple[ShippingLine, ...] = ()
    discount_codes: tuple[str, ...] = ()
    subtotal: Money
    total_discount: Money
    total_tax: Money
    total_shipping: Money
    total: Money
    taxes_included: bool = False
    # Parts of `total` beyond lines, shipping, tax and discounts; None/empty when the store sent none.
    total_tip: Money | None = None
    total_duties: Money | None = None
    adjustments: tuple[OrderAdjustment, ...] = ()
    # Paid with gift cards: a payment (tender) already inside `total`, never a price reduction.
    gift_card_payments: Money | None = None
    financial_status: FinancialStatus = FinancialStatus.PENDING
    fulfillment_status: FulfillmentStatus = FulfillmentStatus.UNFULFILLED
    cancelled_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    billing_address: Address | None = None
    shipping_address: Address | None = None
    test: bool = False

    @field_validator("source_id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def store_reference(self) -> str:
        """The key other systems hold for this order: unique across stores and stable."""
        return f"{self.store}:{self.source_id}"

    @property
    def skus(self) -> list[str]:
        """SKUs of the catalogue lines (a gift card sold is no catalogue product, whatever its SKU)."""
        return [line.sku for line in self.lines if line.sku and not line.gift_card]

    @property
    def lines_without_sku(self) -> list[OrderLine]:
        """Catalogue lines the store sent with a blank SKU (fees and gift cards excluded)."""
        return [line for line in self.lines if not line.sku and line.needs_product]
