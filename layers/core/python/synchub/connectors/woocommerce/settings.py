"""Settings of a WooCommerce store: its site URL (`domain`) and its one stock location."""
from __future__ import annotations

from pydantic import field_validator

from synchub.ports.kit import StoreSettings


class WooCommerceSettings(StoreSettings):
    @field_validator("locations")
    @classmethod
    def _one_location(cls, locations: dict[str, str]) -> dict[str, str]:
        if len(set(locations.values())) > 1:
            raise ValueError(f"WooCommerce has one stock location, the config names {len(set(locations.values()))}")
        return locations
