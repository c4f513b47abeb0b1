"""Customer and Address, normalised so records compare across systems.

E-mail is trimmed and lower-cased, phones are E.164 where they parse, countries are ISO 3166
alpha-2. Names are kept exactly as given, in any script.
"""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, field_validator, model_validator


def normalise_email(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = value.strip().lower()
    return cleaned or None


def normalise_phone(value: str | None, region: str | None = None) -> str | None:
    """E.164 when the number parses and is possible; otherwise the trimmed original, never dropped."""
    if value is None or not value.strip():
        return None
    raw = value.strip()
    # Imported here: phonenumbers' metadata costs ~50 ms at cold start, and most functions never see a phone.
    import phonenumbers

    try:
        parsed = phonenumbers.parse(raw, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_possible_number(parsed):
        return raw
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class Address(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    province_code: str | None = None
    postal_code: str | None = None
    country_code: str | None = None
    phone: str | None = None

    @field_validator("country_code")
    @classmethod
    def _iso_country(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        code = value.strip().upper()
        if len(code) != 2 or not code.isalpha():
            raise ValueError(f"not an ISO 3166-1 alpha-2 country code: {value!r}")
        return code

    @model_validator(mode="after")
    def _phone_e164(self) -> Address:
        object.__setattr__(self, "phone", normalise_phone(self.phone, self.country_code))
        return self


class Customer(BaseModel):
    """A store customer. `source_id` is the store's id; ids are strings everywhere."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    source_id: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    addresses: tuple[Address, ...] = ()
    default_address: Address | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @field_validator("source_id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalise_email(value)

    @model_validator(mode="after")
    def _phone_e164(self) -> Customer:
        region = self.default_address.country_code if self.default_address else None
        object.__setattr__(self, "phone", normalise_phone(self.phone, region))
        return self

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or (self.email or f"Customer {self.source_id}")
