"""The deployment configuration: one pydantic model read by the CDK app and by every function.

A deployment is its connections (stores, the CRM, the ERP: each a registered vendor with settings
that vendor's own model validates), which flows and schedules are on, and the mapping tables a
merchant chooses. Secrets are never here, only the names of the Secrets
Manager secrets that hold them.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationInfo,
    field_validator,
    model_validator,
)

from synchub.connectors.registry import vendor_spec
from synchub.ports.kit import ConnectionSettings, Role, VendorSpec

SLUG = r"^[a-z0-9][a-z0-9-]{0,30}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ConnectionConfig(_Strict):
    """One system SyncHub talks to: a store, the CRM or the ERP, spoken to through a registered vendor.

    `settings` is validated by the vendor's own settings model (its package's spec), which extends the
    role's settings (`synchub.ports.kit`); the secret named here holds the credentials the spec lists.
    """

    id: str = Field(pattern=SLUG)
    vendor: str
    role: Role | None = None  # the vendor's only role when unset
    secret_name: str
    settings: SerializeAsAny[ConnectionSettings] = Field(default_factory=dict, validate_default=True)

    @field_validator("vendor")
    @classmethod
    def _registered(cls, vendor: str) -> str:
        from synchub.connectors.registry import VENDORS

        if vendor not in VENDORS:
            raise ValueError(f"no connector registered for vendor {vendor!r} (known: {', '.join(sorted(VENDORS))})")
        return vendor

    @field_validator("settings", mode="before")
    @classmethod
    def _vendor_settings(cls, value: Any, info: ValidationInfo) -> Any:
        vendor = info.data.get("vendor")
        if vendor is None:  # the vendor itself was refused; that error is the one to show
            return ConnectionSettings()
        model = vendor_spec(vendor).settings
        if isinstance(value, model):
            return value
        if isinstance(value, BaseModel):
            value = value.model_dump()
        return model.model_validate(value or {})

    @model_validator(mode="after")
    def _role(self) -> ConnectionConfig:
        spec = vendor_spec(self.vendor)
        if self.role is None:
            if len(spec.roles) != 1:
                raise ValueError(f"connection {self.id}: {self.vendor} can be {', '.join(spec.roles)}; name its role")
            object.__setattr__(self, "role", spec.roles[0])
        elif self.role not in spec.roles:
            raise ValueError(f"connection {self.id}: {self.vendor} cannot be a {self.role}")
        return self

    @property
    def spec(self) -> VendorSpec:
        return vendor_spec(self.vendor)


class RetrySettings(_Strict):
    """How a transient failure is retried: backoff from `first_delay_seconds` doubling to
    `max_delay_seconds`, for `budget_hours` since the first receive; then it is parked as
    `retries_exhausted`. `time_scale` multiplies every delay and the budget, so local mode and tests
    can live through hours in seconds (1 in a real deployment)."""

    first_delay_seconds: int = Field(default=10, ge=1, le=43_200)
    max_delay_seconds: int = Field(default=900, ge=1, le=43_200)  # 12 h: the longest SQS visibility timeout
    # Long enough for vendor outages and maintenance windows (stores retry webhooks for hours), well inside
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
    # EventBridge partner event sources whose deliveries go to ingest (aws.partner/<vendor>/...)
    partner_event_sources: tuple[str, ...] = ()
    # Claim-checked payloads (large events, large parked bodies) expire after this; the DLQs keep 14 days.
    payload_retention_days: int = Field(default=14, ge=1)


class InventorySettings(_Strict):
    safety_buffer: int = Field(default=0, ge=0)
    reconcile_chunk_size: int = Field(default=1000, ge=1, le=2500)  # drift items per chunk event (<256 KB)
    dry_run: bool = False


class DeploymentConfig(_Strict):
    stage: str = Field(pattern=SLUG)
    connections: tuple[ConnectionConfig, ...]
    flows: dict[str, FlowSettings] = Field(default_factory=dict)
    schedules: dict[str, ScheduleSettings] = Field(default_factory=dict)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    inventory: InventorySettings = Field(default_factory=InventorySettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    archive_retention_days: int = Field(default=30, ge=0)
    log_retention_days: int = Field(default=30, ge=1)
    # X-Ray sampling of the stack's functions (one rule replaces the default's first-request-each-second, which
    # at a sale day's rates traces most invocations): this share of requests, plus this many per second.
    trace_sample_rate: float = Field(default=0.05, ge=0, le=1)
    trace_reservoir_per_second: int = Field(default=0, ge=0)
    alarm_email: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> DeploymentConfig:
        ids = [connection.id for connection in self.connections]
        if len(ids) != len(set(ids)):
            raise ValueError("connection ids must be unique")
        for role in ("crm", "erp"):
            if len(self.with_role(role)) > 1:
                raise ValueError(f"at most one {role} connection")
        from synchub.catalog import FLOWS, SCHEDULES  # the catalogue names what may be configured

        unknown = set(self.flows) - {flow.name for flow in FLOWS}
        unknown |= set(self.schedules) - {schedule.name for schedule in SCHEDULES}
        if unknown:
            raise ValueError(f"unknown flow or schedule: {', '.join(sorted(unknown))}")
        return self

    def connection(self, connection_id: str) -> ConnectionConfig | None:
        return next((connection for connection in self.connections if connection.id == connection_id), None)

    def with_role(self, role: str) -> tuple[ConnectionConfig, ...]:
        return tuple(connection for connection in self.connections if connection.role == role)

    @property
    def stores(self) -> tuple[ConnectionConfig, ...]:
        return self.with_role("store")

    @property
    def erp(self) -> ConnectionConfig | None:
        return next(iter(self.with_role("erp")), None)

    @property
    def crm(self) -> ConnectionConfig | None:
        return next(iter(self.with_role("crm")), None)

    def store(self, store_id: str) -> ConnectionConfig | None:
        connection = self.connection(store_id)
        return connection if connection is not None and connection.role == "store" else None

    def by_domain(self, domain: str) -> ConnectionConfig | None:
        """The connection whose settings name this domain (vendor events that carry no connection id)."""
        wanted = _bare_domain(domain)
        return next((connection for connection in self.connections
                     if _bare_domain(getattr(connection.settings, "domain", "") or "") == wanted), None)

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


def _bare_domain(value: str) -> str:
    return value.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
