"""Money: a Decimal amount with its ISO 4217 currency; never a float."""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from iso4217 import Currency
from pydantic import BaseModel, ConfigDict, field_validator

_DEFAULT_EXPONENT = 2  # for codes without ISO minor units (XAU, XDR, ...) or unknown to the table


def minor_unit_exponent(currency: str) -> int:
    """ISO 4217 minor units of a currency (ISO's own table, from the iso4217 package): EUR 2, JPY 0, KWD 3."""
    try:
        exponent = Currency(currency.upper()).exponent
    except ValueError:
        return _DEFAULT_EXPONENT
    return _DEFAULT_EXPONENT if exponent is None else exponent


def to_minor_unit(amount: Decimal, exponent: int) -> Decimal:
    """Rounded to the minor unit, half to even (the usual ERP default)."""
    return amount.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_EVEN)


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

    @property
    def exponent(self) -> int:
        """Minor-unit places of the currency: 2 for EUR, 0 for JPY, 3 for KWD."""
        return minor_unit_exponent(self.currency)

    def rounded(self) -> Money:
        """The amount rounded to the currency's minor unit."""
        return Money(amount=to_minor_unit(self.amount, self.exponent), currency=self.currency)

    def times(self, quantity: int | Decimal) -> Money:
        return Money(amount=self.amount * Decimal(quantity), currency=self.currency)
