"""Settings of a NetSuite connection: account, authentication, SyncHub's share of the account's concurrency,
and where stock, taxes and service items live."""
from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from synchub.ports.kit import ErpSettings


class NetSuiteSettings(ErpSettings):
    # The account id as NetSuite shows it (Setup > Company > Company Information), e.g. 123456 or 123456_SB1.
    account_id: str
    # "m2m": OAuth 2.0 client credentials with a certificate-signed JWT (secret: client_id, certificate_id,
    # private_key); "tba": Token-Based Authentication, OAuth 1.0a HMAC-SHA256 (secret: consumer_key,
    # consumer_secret, token_id, token_secret). NetSuite ends new TBA integrations in 2027: prefer m2m.
    auth: Literal["m2m", "tba"] = "m2m"
    jwt_algorithm: Literal["PS256", "PS384", "PS512", "ES256", "ES384", "ES512"] = "PS256"
    scopes: tuple[str, ...] = ("rest_webservices",)
    # SyncHub's share of the account's concurrency limit (15 + 10 per SuiteCloud Plus licence, shared with
    # every integration): requests in flight at once per process (local mode's threads, any threaded caller).
    # A Lambda invocation sends one request at a time, so across AWS SyncHub's total is the sum of the ERP
    # flows' concurrent invocations (order_to_erp's SQS maximum concurrency 5, customer_to_erp 2, the stock
    # schedules 1 each by default): cap them with `flows.<name>.max_concurrency` (or reserved concurrency) to
    # stay within the limit the administrator allocated to SyncHub's integration record.
    concurrency: int = Field(default=2, ge=1, le=100)
    # Read the limit NetSuite allocates to this integration (governanceLimits, administrators only) once per
    # process and keep the share within it.
    read_governance: bool = True
    # Our warehouse code -> NetSuite location internal id. A code left out is looked up by location name.
    locations: dict[str, str] = Field(default_factory=dict)
    subsidiary: str | None = None  # internal id of the customers' subsidiary (OneWorld accounts)
    # The tax code put on every line so NetSuite's tax engine adds nothing: the store collected the tax and a
    # TAX line carries it. "-7" is "-Not Taxable-" in legacy-tax accounts; None leaves lines as NetSuite sets them.
    line_tax_code: str | None = "-7"
    approve_on_create: bool = True  # orderStatus B (Pending Fulfillment); False leaves A for a person to approve
    item_types: tuple[str, ...] = ("InvtPart",)  # item.itemtype values whose stock reaches the stores

    @field_validator("account_id")
    @classmethod
    def _account(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", value):
            raise ValueError("account_id holds letters, digits, '_' and '-' only (e.g. 123456_SB1)")
        return value

    @property
    def realm(self) -> str:
        """The OAuth 1.0a realm: the account id in upper case with its underscore (123456_SB1)."""
        return self.account_id.upper().replace("-", "_")

    @property
    def host(self) -> str:
        return self.account_id.lower().replace("_", "-")

    @property
    def base_url(self) -> str:
        """`.../services/rest`: the record, query, system and auth services hang under it."""
        return (self.api_url or f"https://{self.host}.suitetalk.api.netsuite.com/services/rest").rstrip("/")

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/auth/oauth2/v1/token"
