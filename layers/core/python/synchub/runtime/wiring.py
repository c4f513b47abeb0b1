"""The composition root: builds the ports a flow needs from settings, config, secrets and boto3.

Handlers call this and hand the ports to a flow; flows never see a connector or a boto3 client.
Every client is injectable (tests and local mode pass their own) and created lazily once per
execution environment.
"""
from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3

from synchub.connectors import registry
from synchub.flows.inventory import StoreTarget
from synchub.ports import Crm, Erp, EventPublisher, MappingStore, Storefront, StorePayloads, WebhookDecoder
from synchub.runtime.bus import EventBridgePublisher
from synchub.runtime.config import CrmConfig, DeploymentConfig, ErpConfig
from synchub.runtime.dead_letters import DeadLetterParking
from synchub.runtime.observability import trace_vendor_http
from synchub.runtime.secrets import Secrets
from synchub.runtime.settings import Settings, deployment_config, settings
from synchub.state.mappings import DynamoMappingStore

if TYPE_CHECKING:  # imported where used: a function pays only for the parts it needs (ingest: no queue runner)
    from synchub.ports import PayloadStore
    from synchub.runtime.queue_flow import QueueBackoff
    from synchub.state.reports import DynamoReconcileReports


class Wiring:
    def __init__(self, *, settings_: Settings | None = None, config: DeploymentConfig | None = None,
                 dynamodb: Any = None, events: Any = None, sqs: Any = None, s3: Any = None,
                 http_clients: dict[str, Any] | None = None, erp: Erp | None = None, crm: Crm | None = None,
                 storefronts: dict[str, Storefront] | None = None) -> None:
        self.settings = settings_ or settings()
        self._config = config
        self._dynamodb = dynamodb
        self._events = events
        self._sqs = sqs
        self._s3 = s3
        # httpx.Client per connection ("erp", "crm", or a store id); tests and local mode inject transports
        self._http_clients = http_clients or {}
        self._storefronts: dict[str, Storefront] = dict(storefronts or {})
        self._payloads: dict[str, StorePayloads] = {}
        self._decoders: dict[str, WebhookDecoder] = {}
        # Ports handed in directly (tests, local tools) win over the ones built from config.
        if erp is not None:
            self.__dict__["erp"] = erp
        if crm is not None:
            self.__dict__["crm"] = crm

    _default: Wiring | None = None

    @classmethod
    def default(cls) -> Wiring:
        """The execution environment's wiring, built at the first invocation and reused after."""
        if cls._default is None:
            cls._default = cls()
        return cls._default

    def flow_enabled(self, name: str) -> bool:
        return self.config.flow(name).enabled

    @cached_property
    def handled_topics(self) -> frozenset[str]:
        """Topics an enabled flow subscribes to, worked out once per execution environment."""
        from synchub.catalog import handled_topics

        return frozenset(handled_topics(self.flow_enabled))

    @cached_property
    def config(self) -> DeploymentConfig:
        return self._config or deployment_config()

    # AWS side -----------------------------------------------------------------------------------
    @cached_property
    def state_table(self) -> Any:
        return (self._dynamodb or boto3.resource("dynamodb")).Table(self.settings.state_table)

    @cached_property
    def mappings(self) -> MappingStore:
        return DynamoMappingStore(self.state_table)

    @cached_property
    def reports(self) -> DynamoReconcileReports:
        from synchub.state.reports import DynamoReconcileReports

        return DynamoReconcileReports(self.state_table)

    @cached_property
    def publisher(self) -> EventPublisher:
        return EventBridgePublisher(self._events or boto3.client("events"), self.settings.bus_name,
                                    payloads=self.payload_store)

    @cached_property
    def payload_store(self) -> PayloadStore | None:
        """Claim checks for payloads too large to travel inline; None where no bucket is configured."""
        if not self.settings.payload_bucket:
            return None
        from synchub.state.payloads import S3PayloadStore

        return S3PayloadStore(self._s3 or boto3.client("s3"), self.settings.payload_bucket)

    @cached_property
    def dead_letters(self) -> DeadLetterParking:
        if not self.settings.dlq_url:
            raise RuntimeError("this function has no DLQ configured (SYNCHUB_DLQ_URL)")
        return DeadLetterParking(self._sqs or boto3.client("sqs"), self.settings.dlq_url,
                                 self.settings.flow or "unknown")

    @cached_property
    def backoff(self) -> QueueBackoff:
        from synchub.runtime.queue_flow import QueueBackoff

        return QueueBackoff(self._sqs or boto3.client("sqs"))

    @cached_property
    def idempotency(self) -> Any:
        from synchub.state.idempotency import persistence_layer

        # A plain client: a resource's meta.client would serialise Powertools' typed attributes again.
        return persistence_layer(self.settings.idempotency_table, boto3_client=boto3.client("dynamodb"))

    @cached_property
    def secrets(self) -> Secrets:
        return Secrets(boto3.client("secretsmanager"))

    def get_secret(self, name: str) -> dict[str, Any]:
        return self.secrets.get(name)

    # Vendors ------------------------------------------------------------------------------------
    @cached_property
    def erp(self) -> Erp:
        erp = self.config.erp
        if erp is None:
            raise RuntimeError("no ERP configured")
        trace_vendor_http()
        factory = registry.resolve(registry.ERPS, erp.kind)
        return factory(erp, self.get_secret(erp.secret_name), http_client=self._http_clients.get("erp"))

    @cached_property
    def crm(self) -> Crm:
        crm = self.config.crm
        if crm is None:
            raise RuntimeError("no CRM configured")
        trace_vendor_http()
        factory = registry.resolve(registry.CRMS, crm.kind)
        return factory(crm, self.get_secret(crm.secret_name), http_client=self._http_clients.get("crm"))

    @property
    def crm_config(self) -> CrmConfig:
        if self.config.crm is None:
            raise RuntimeError("no CRM configured")
        return self.config.crm

    @property
    def erp_config(self) -> ErpConfig:
        if self.config.erp is None:
            raise RuntimeError("no ERP configured")
        return self.config.erp

    def storefront(self, store_id: str) -> Storefront:
        if store_id not in self._storefronts:
            store = self.config.store(store_id)
            if store is None:
                raise LookupError(f"unknown store {store_id}")
            trace_vendor_http()
            factory = registry.resolve(registry.STOREFRONTS, store.platform)
            options: dict[str, Any] = {"http_client": self._http_clients.get(store_id)}
            if store.platform == "shopify":
                options["mappings"] = self.mappings
            self._storefronts[store_id] = factory(store, self.get_secret(store.secret_name), **options)
        return self._storefronts[store_id]

    def store_targets(self) -> list[StoreTarget]:
        return [StoreTarget(store_id=store.id, storefront=self.storefront(store.id), locations=dict(store.locations))
                for store in self.config.stores if store.locations]

    def payloads(self, platform: str) -> StorePayloads:
        if platform not in self._payloads:
            self._payloads[platform] = registry.resolve(registry.PAYLOADS, platform)()
        return self._payloads[platform]

    def payloads_for_store(self, store_id: str) -> StorePayloads:
        store = self.config.store(store_id)
        if store is None:
            raise LookupError(f"unknown store {store_id}")
        return self.payloads(store.platform)

    def decoder(self, platform: str) -> WebhookDecoder | None:
        if platform not in self._decoders:  # built once per platform, not per webhook
            try:
                self._decoders[platform] = registry.resolve(registry.WEBHOOKS, platform)()
            except LookupError:
                return None
        return self._decoders[platform]

    def webhook_secret(self, store_id: str) -> str:
        store = self.config.store(store_id)
        assert store is not None
        return str(self.get_secret(store.secret_name)["webhook_secret"])
