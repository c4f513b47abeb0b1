"""Settings of a HubSpot connection: HubSpot's default pipeline stages and batch limit."""
from __future__ import annotations

from pydantic import Field

from synchub.ports.kit import CrmSettings

API_URL = "https://api.hubapi.com"


class HubSpotSettings(CrmSettings):
    # canonical deal state -> stage id of HubSpot's default sales pipeline
    stages: dict[str, str] = Field(default_factory=lambda: {
        "pending": "appointmentscheduled",
        "authorized": "qualifiedtobuy",
        "paid": "contractsent",
        "fulfilled": "closedwon",
        "refunded": "closedlost",
        "cancelled": "closedlost",
    })
    # Batch endpoints take at most 100 inputs; the client paces on the X-HubSpot-RateLimit-* headers.
    batch_size: int = Field(default=100, ge=1, le=100)

    @property
    def base_url(self) -> str:
        return self.api_url or API_URL
