"""The connector kit's contract: what a vendor package declares (its spec) and what its factories get.

A vendor package exposes one `VendorSpec`: the roles it can play, its settings model (a subclass of
the role's settings below), the secret fields it reads, the capabilities it provides with their
factories, its webhook decoder if it sends webhooks, and where local mode finds its sandbox.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from synchub.ports.capabilities import Capability, Provision

if TYPE_CHECKING:
    import httpx

    from synchub.ports.state import MappingStore
    from synchub.ports.webhooks import WebhookDecoder

Role = Literal["store", "crm", "erp"]
ROLES: tuple[Role, ...] = ("store", "crm", "erp")


class ConnectionSettings(BaseModel):
    """Settings every connection may carry; a vendor's own model extends its role's model."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    api_url: str | None = None  # override of the API base (sandboxes, proxies); the vendor's default when unset


class StoreSettings(ConnectionSettings):
    """A sales channel. `domain` identifies it in vendor events; `locations` is a merchant's mapping table."""

    domain: str  # the shop's domain or site URL
    currency: str = "USD"
    # ERP warehouse code -> store location id (whatever the store calls a location)
    locations: dict[str, str] = Field(default_factory=dict)
    # Test orders (a test payment gateway) are skipped by the order flows unless this is set.
    sync_test_orders: bool = False
    # How a catalogue line sent with a blank SKU finds its ERP product: "none" parks the order as
    # missing_sku; "store_item_mapping" looks the store's variant (else product) id up in the mapping store.
    missing_sku_lookup: Literal["none", "store_item_mapping"] = "none"
    # Which system ships this store's orders: "erp" (ERP shipments become store fulfilments with tracking) or
    # "store" (the store's or its 3PL's fulfilments close the ERP shipments). One master per store: shipments
    # never sync both ways for one store, so no fulfilment can loop.
    fulfilment_master: Literal["erp", "store"] = "erp"


DEAL_STATES = ("pending", "authorized", "paid", "fulfilled", "refunded", "cancelled")


class CrmSettings(ConnectionSettings):
    pipeline: str = "default"
    stages: dict[str, str] = Field(default_factory=dict)  # canonical deal state -> CRM stage id
    batch_size: int = Field(default=100, ge=1, le=1000)

    @field_validator("stages")
    @classmethod
    def _all_states(cls, stages: dict[str, str]) -> dict[str, str]:
        missing = set(DEAL_STATES) - stages.keys()
        if missing:
            raise ValueError(f"stage map lacks: {', '.join(sorted(missing))}")
        return stages


class ErpSettings(ConnectionSettings):
    warehouses: tuple[str, ...] = ("WH",)  # ERP warehouse codes whose stock reaches the stores
    shipping_product: str = "SHIPPING"  # ERP product code used for shipping lines
    fee_product: str = "FEE"  # ERP service code for store fees: lines with no SKU and no store product (gift wrap)
    stock_page_size: int = Field(default=1000, ge=1, le=5000)


ROLE_SETTINGS: dict[str, type[ConnectionSettings]] = {"store": StoreSettings, "crm": CrmSettings,
                                                        "erp": ErpSettings}


@dataclass
class ConnectionContext:
    """What a capability factory gets: the connection's id and validated settings, its secret, and the
    shared parts the wiring owns (an injected HTTP client for tests and local mode, the mapping store)."""

    connection_id: str
    settings: Any  # the vendor's own settings model, validated
    load_secret: Callable[[], dict[str, Any]]  # read on first use: a payload mapper needs no credentials
    http_client: httpx.Client | None = None
    mappings: MappingStore | None = None
    cache: dict[str, Any] = field(default_factory=dict)  # one adapter object may serve several capabilities

    @property
    def secret(self) -> dict[str, Any]:
        return self.shared("secret", self.load_secret)  # type: ignore[no-any-return]

    def shared(self, name: str, build: Callable[[], Any]) -> Any:
        """The connection's one `name` object (e.g. its API client), built on first use."""
        if name not in self.cache:
            self.cache[name] = build()
        return self.cache[name]


@dataclass(frozen=True)
class VendorSpec:
    """Everything SyncHub knows about a vendor outside its package."""

    vendor: str
    roles: tuple[Role, ...]
    settings: type[ConnectionSettings]
    secret_fields: tuple[str, ...]  # keys the connection's Secrets Manager secret must hold
    provides: tuple[Provision, ...] = ()
    # A random placeholder is generated under this key at deploy, so a fresh stack fails closed.
    placeholder_secret_field: str | None = None
    webhooks: Callable[[], WebhookDecoder] | None = None  # verification and decoding, if it sends webhooks
    # EventBridge partner-source detail-types this vendor delivers events as (no HTTPS, no signature)
    partner_detail_types: tuple[str, ...] = ()
    local_sandbox: str | None = None  # "module:function" under infra/local that starts its sandbox
    description: str = ""

    def provides_capability(self, capability: Capability[Any] | str) -> bool:
        name = capability if isinstance(capability, str) else capability.name
        return any(item.capability == name for item in self.provides)

    def factory(self, capability: Capability[Any] | str) -> Callable[[ConnectionContext], Any]:
        name = capability if isinstance(capability, str) else capability.name
        for item in self.provides:
            if item.capability == name:
                return item.factory
        raise LookupError(f"{self.vendor} does not provide {name}")

    @property
    def capability_names(self) -> tuple[str, ...]:
        return tuple(item.capability for item in self.provides)
