"""Money: a Decimal amount with its ISO 4217 currency; never a float."""
from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, field_validator


class Money(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    amount: Decimal
    currency: str

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float(cls, value: object) -> object:
        # A float has already lost cents; vendors send decimal strings, so insist on them.
        if isinstance(value, float):
            return Decimal(repr(value))
        return value

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValueError(f"not an ISO 4217 currency code: {value!r}")
        return code

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount=Decimal(0), currency=currency)

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def times(self, quantity: int | Decimal) -> Money:
        return Money(amount=self.amount * Decimal(quantity), currency=self.currency)
