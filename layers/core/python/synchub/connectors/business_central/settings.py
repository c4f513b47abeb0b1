"""Settings of a Business Central connection: tenant, environment, company, and where the standard API falls short."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from synchub.ports.kit import ErpSettings

API_HOST = "https://api.businesscentral.dynamics.com"
AUTHORITY_HOST = "https://login.microsoftonline.com"


class LocationStockApi(BaseModel):
    """A custom API page (an AL extension) listing stock per item and location, since API v2.0 has none.

    `path` is the API route under the environment, e.g. `api/contoso/inventory/v1.0`; the entity set lives under
    `companies(<id>)/<entity_set>` like the standard pages, and each row carries the three named fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    entity_set: str = "itemLocationStocks"
    item_field: str = "itemNumber"
    location_field: str = "locationCode"
    quantity_field: str = "inventory"


class BusinessCentralSettings(ErpSettings):
    tenant: str  # the Entra tenant id (GUID) or its domain
    environment: str = "production"  # the BC environment name ("production", "sandbox", ...)
    company_id: str  # the company's id (GUID) from GET .../api/v2.0/companies
    authority_url: str | None = None  # override of https://login.microsoftonline.com (local sandbox)
    # The item field holding the store's SKU: `number` (No., Code[20], upper-cased by BC) or `gtin`.
    product_field: Literal["number", "gtin"] = "number"
    # Tax code set on every line so BC adds no tax of its own (the store is the tax calculator): a zero-rate
    # tax group (US sales tax, e.g. NONTAXABLE) or VAT product posting group. None: BC's defaults apply.
    tax_code: str | None = None
    # Parts of an order total booked on G/L accounts (lineType "Account") instead of service items:
    # service code (SHIPPING, TAX, DISCOUNT, TIP, DUTY, GIFT_CARD, ADJUSTMENT, FEE) -> G/L account number.
    accounts: dict[str, str] = Field(default_factory=dict)
    # Stock per location needs a custom API page; without one only a single warehouse can be served, from
    # the item's `inventory` total.
    location_stock_api: LocationStockApi | None = None
    max_page_size: int = Field(default=1000, ge=1, le=20000)  # `Prefer: odata.maxpagesize`
