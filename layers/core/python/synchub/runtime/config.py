"""The deployment configuration: one pydantic model read by the CDK app and by every function.

A deployment is the stores (channels), the CRM and the ERP, which flows and schedules are on, and
the mapping tables a merchant chooses. Secrets are never here, only the names of the Secrets
Manager secrets that hold them.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SLUG = r"^[a-z0-9][a-z0-9-]{0,30}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreConfig(_Strict):
    """One store (sales channel). Its secret holds `webhook_secret` and the Admin API credentials."""

    id: str = Field(pattern=SLUG)
    platform: Literal["shopify", "woocommerce"]
    domain: str  # shop.myshopify.com, or the WooCommerce site URL
    api_url: str | None = None  # override of the API base (sandboxes); derived from domain when unset
    api_version: str = "2026-01"  # changeFromQuantity (CAS) and @idempotent need 2026-01 or later
    secret_name: str
    currency: str = "USD"
    # ERP warehouse code -> store location id (Shopify gid or numeric id; WooCommerce has one: "default")
    locations: dict[str, str] = Field(default_factory=dict)
    # Shopify GraphQL bucket restore rate, points per second: 100 Standard, 200 Advanced, 1000 Plus.
    restore_rate: float = 100.0


class CrmConfig(_Strict):
    kind: Literal["hubspot"] = "hubspot"
    api_url: str = "https://api.hubapi.com"
    secret_name: str
    pipeline: str = "default"
    # canonical deal state -> CRM stage id
    stages: dict[str, str] = Field(default_factory=lambda: {
        "pending": "appointmentscheduled",
        "authorized": "qualifiedtobuy",
        "paid": "contractsent",
        "fulfilled": "closedwon",
        "refunded": "closedlost",
        "cancelled": "closedlost",
    })
    # HubSpot's documented 100 to 190 requests per 10 s by tier; the client paces on the headers.
    batch_size: int = Field(default=100, ge=1, le=100)

    @field_validator("stages")
    @classmethod
    def _all_states(cls, stages: dict[str, str]) -> dict[str, str]:
        missing = {"pending", "authorized", "paid", "fulfilled", "refunded", "cancelled"} - stages.keys()
        if missing:
            raise ValueError(f"stage map lacks: {', '.join(sorted(missing))}")
        return stages


class ErpConfig(_Strict):
    kind: Literal["tryton"] = "tryton"
    url: str
    database: str
    secret_name: str  # {"username": ..., "password": ...}
    warehouses: tuple[str, ...] = ("WH",)  # ERP warehouse codes whose stock reaches the stores
    shipping_product: str = "SHIPPING"  # ERP product code used for shipping lines
    fee_product: str = "FEE"  # ERP service code for store fees: order lines without SKU (gift wrap, ...)
    stock_page_size: int = Field(default=1000, ge=1, le=5000)


class RetrySettings(_Strict):
    """How a transient failure is retried: backoff from `first_delay_seconds` doubling to
    `max_delay_seconds`, for `budget_hours` since the first receive; then it is parked as
    `retries_exhausted`. `time_scale` multiplies every delay and the budget, so local mode and tests
    can live through hours in seconds (1 in a real deployment)."""

    first_delay_seconds: int = Field(default=10, ge=1, le=43_200)
    max_delay_seconds: int = Field(default=900, ge=1, le=43_200)  # 12 h: the longest SQS visibility timeout
    # Long enough for vendor outages and maintenance windows (Shopify retries for 4 h), well inside
    # the 14-day retention of the queue and DLQ.
    budget_hours: float = Field(default=12.0, gt=0, le=7 * 24)
    time_scale: float = Field(default=1.0, gt=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> RetrySettings:
        if self.max_delay_seconds < self.first_delay_seconds:
            raise ValueError("max_delay_seconds must be at least first_delay_seconds")
        return self


class FlowSettings(_Strict):
    enabled: bool = True
    batch_size: int | None = Field(default=None, ge=1, le=10000)
    max_concurrency: int | None = Field(default=None, ge=2, le=1000)
    max_receive_count: int | None = Field(default=None, ge=1, le=1000)
    timeout_seconds: int | None = Field(default=None, ge=3, le=900)
    memory_mb: int | None = Field(default=None, ge=128, le=10240)
    retry: RetrySettings | None = None  # fields set here override the deployment's `retry`


class ScheduleSettings(_Strict):
    enabled: bool = True
    expression: str | None = None  # rate(...) or cron(...); the catalogue default when unset


class IngestSettings(_Strict):
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    throttle_rate: float = 200.0  # API Gateway stage: steady requests per second
    throttle_burst: int = 400
    shopify_partner_event_source: str | None = None  # aws.partner/shopify.com/<app_id>/<name>


class InventorySettings(_Strict):
    safety_buffer: int = Field(default=0, ge=0)
    reconcile_chunk_size: int = Field(default=1000, ge=1, le=2500)  # drift items per chunk event (<256 KB)
    dry_run: bool = False


class DeploymentConfig(_Strict):
    stage: str = Field(pattern=SLUG)
    stores: tuple[StoreConfig, ...]
    crm: CrmConfig | None = None
    erp: ErpConfig | None = None
    flows: dict[str, FlowSettings] = Field(default_factory=dict)
    schedules: dict[str, ScheduleSettings] = Field(default_factory=dict)
    ingest: IngestSettings = IngestSettings()
    inventory: InventorySettings = InventorySettings()
    retry: RetrySettings = RetrySettings()
    archive_retention_days: int = Field(default=30, ge=0)
    log_retention_days: int = Field(default=30, ge=1)
    alarm_email: str | None = None

    @model_validator(mode="after")
    def _unique_stores(self) -> DeploymentConfig:
        ids = [store.id for store in self.stores]
        if len(ids) != len(set(ids)):
            raise ValueError("store ids must be unique")
        from synchub.catalog import FLOWS, SCHEDULES  # the catalogue names what may be configured

        unknown = set(self.flows) - {flow.name for flow in FLOWS}
        unknown |= set(self.schedules) - {schedule.name for schedule in SCHEDULES}
        if unknown:
            raise ValueError(f"unknown flow or schedule: {', '.join(sorted(unknown))}")
        return self

    def store(self, store_id: str) -> StoreConfig | None:
        return next((store for store in self.stores if store.id == store_id), None)

    def store_by_domain(self, domain: str) -> StoreConfig | None:
        wanted = domain.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
        return next((store for store in self.stores
                     if store.domain.lower().removeprefix("https://").removeprefix("http://").rstrip("/") == wanted),
                    None)

    def flow(self, name: str) -> FlowSettings:
        return self.flows.get(name, FlowSettings())

    def schedule(self, name: str) -> ScheduleSettings:
        return self.schedules.get(name, ScheduleSettings())

    @classmethod
    def from_json(cls, text: str) -> DeploymentConfig:
        return cls.model_validate(json.loads(text))

    @classmethod
    def from_file(cls, path: str | Path) -> DeploymentConfig:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))
