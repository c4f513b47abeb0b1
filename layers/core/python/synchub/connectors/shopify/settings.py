"""Settings of a Shopify store: the Admin API version and the plan's GraphQL restore rate."""
from __future__ import annotations

from pydantic import Field

from synchub.ports.kit import StoreSettings


class ShopifySettings(StoreSettings):
    api_version: str = "2026-01"  # changeFromQuantity (CAS) and @idempotent need 2026-01 or later
    # GraphQL bucket restore rate, points per second: 100 Standard, 200 Advanced, 1000 Plus, 2000 Enterprise.
    restore_rate: float = Field(default=100.0, gt=0)

    @property
    def shop_url(self) -> str:
        return (self.api_url or f"https://{self.domain}").rstrip("/")
