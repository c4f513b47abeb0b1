"""The composition root: builds the ports a flow needs from settings, config, secrets and boto3.

Handlers call this and hand the ports to a flow; flows never see a connector or a boto3 client. A port
is a capability of a configured connection, built by the factory its vendor's spec declares; nothing
here knows a vendor. Every client is injectable (tests and local mode pass their own) and created
lazily once per execution environment.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar, cast

import boto3

from synchub.ports import (
    RECORD_FETCHER,
    STOCK_SINK,
    STORE_PAYLOADS,
    Capability,
    ConnectionContext,
    CrmSettings,
    ErpSettings,
    EventPublisher,
    MappingStore,
    RecordFetcher,
    StorePayloads,
    StoreSettings,
    StoreTarget,
    WebhookDecoder,
)
from synchub.runtime.bus import EventBridgePublisher
from synchub.runtime.config import ConnectionConfig, DeploymentConfig
from synchub.runtime.dead_letters import DeadLetterParking
from synchub.runtime.observability import trace_vendor_http
from synchub.runtime.secrets import Secrets
from synchub.runtime.settings import Settings, deployment_config, settings
from synchub.state.mappings import DynamoMappingStore

if TYPE_CHECKING:  # imported where used: a function pays only for the parts it needs (ingest: no queue runner)
    from synchub.ports import PayloadStore
    from synchub.runtime.queue_flow import QueueBackoff
    from synchub.state.reports import DynamoReconcileReports

T = TypeVar("T")


class Wiring:
    def __init__(self, *, settings_: Settings | None = None, config: DeploymentConfig | None = None,
                 dynamodb: Any = None, events: Any = None, sqs: Any = None, s3: Any = None,
                 http_clients: dict[str, Any] | None = None, erp: Any = None, crm: Any = None,
                 storefronts: dict[str, Any] | None = None) -> None:
        self.settings = settings_ or settings()
        self._config = config
        self._dynamodb = dynamodb
        self._events = events
        self._sqs = sqs
        self._s3 = s3
        # httpx.Client per connection id (or role); tests and local mode inject transports
        self._http_clients = http_clients or {}
        # Adapters handed in directly (tests, local tools) win over the ones built from config: an object
        # for every capability of the ERP or the CRM, or a stock sink per store.
        self._given: dict[str, Any] = {role: port for role, port in (("erp", erp), ("crm", crm)) if port is not None}
        self._given_sinks: dict[str, Any] = dict(storefronts or {})
        self._contexts: dict[str, ConnectionContext] = {}
        self._ports: dict[tuple[str, str], Any] = {}
        self._decoders: dict[str, WebhookDecoder] = {}

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

    # Connections --------------------------------------------------------------------------------
    def connection(self, connection_id: str) -> ConnectionConfig:
        connection = self.config.connection(connection_id)
        if connection is None:
            raise LookupError(f"unknown connection {connection_id}")
        return connection

    def port(self, connection_id: str, capability: Capability[T]) -> T:
        """The adapter of `capability` for one connection, built once by its vendor's factory."""
        key = (connection_id, capability.name)
        if key not in self._ports:
            connection = self.connection(connection_id)
            given = self._given.get(connection.role or "")
            if given is None and capability.name == STOCK_SINK.name:
                given = self._given_sinks.get(connection_id)
            if given is not None:
                self._ports[key] = given
            else:
                factory = connection.spec.factory(capability)  # LookupError: the vendor does not provide it
                trace_vendor_http()
                self._ports[key] = factory(self._context(connection))
        return cast(T, self._ports[key])

    def role_port(self, role: str, capability: Capability[T]) -> T:
        """The adapter of `capability` of the deployment's one connection in `role` (the ERP, the CRM)."""
        connections = self.config.with_role(role)
        if not connections:
            raise RuntimeError(f"no {role} configured")
        return self.port(connections[0].id, capability)

    def erp(self, capability: Capability[T]) -> T:
        return self.role_port("erp", capability)

    def crm(self, capability: Capability[T]) -> T:
        return self.role_port("crm", capability)

    def _context(self, connection: ConnectionConfig) -> ConnectionContext:
        if connection.id not in self._contexts:
            http_client = self._http_clients.get(connection.id) or self._http_clients.get(connection.role or "")
            self._contexts[connection.id] = ConnectionContext(
                connection_id=connection.id, settings=connection.settings,
                load_secret=lambda: self.get_secret(connection.secret_name), http_client=http_client,
                mappings=self.mappings)
        return self._contexts[connection.id]

    @property
    def crm_settings(self) -> CrmSettings:
        crm = self.config.crm
        if crm is None:
            raise RuntimeError("no CRM configured")
        return cast(CrmSettings, crm.settings)

    @property
    def erp_settings(self) -> ErpSettings:
        erp = self.config.erp
        if erp is None:
            raise RuntimeError("no ERP configured")
        return cast(ErpSettings, erp.settings)

    def store_targets(self) -> list[StoreTarget]:
        """Every store that takes stock and maps at least one ERP warehouse to one of its locations."""
        return [StoreTarget(store_id=store.id, storefront=self.port(store.id, STOCK_SINK),
                            locations=dict(getattr(store.settings, "locations", {})))
                for store in self.config.stores
                if getattr(store.settings, "locations", None) and (
                    store.id in self._given_sinks or store.spec.provides_capability(STOCK_SINK))]

    def store_settings(self, store_id: str) -> StoreSettings:
        store = self.config.store(store_id)
        if store is None:
            raise LookupError(f"unknown store {store_id}")
        return cast(StoreSettings, store.settings)

    def payloads_for_store(self, store_id: str) -> StorePayloads:
        if self.config.store(store_id) is None:
            raise LookupError(f"unknown store {store_id}")
        return self.port(store_id, STORE_PAYLOADS)

    def records_for_store(self, store_id: str) -> RecordFetcher | None:
        """The store's record fetcher (thin events), built on its first fetch: most events carry their record,
        so most invocations never read the store's secret. None when the store's vendor fetches no records."""
        store = self.config.store(store_id)
        if store is None:
            raise LookupError(f"unknown store {store_id}")
        if not store.spec.provides_capability(RECORD_FETCHER):
            return None
        return _DeferredFetcher(lambda: self.port(store_id, RECORD_FETCHER))

    # Events in ----------------------------------------------------------------------------------
    def decoder_for(self, connection_id: str) -> WebhookDecoder | None:
        """The webhook decoder of a connection's vendor, built once per vendor; None if it sends none."""
        connection = self.config.connection(connection_id)
        if connection is None:
            return None
        if connection.vendor not in self._decoders:
            build = connection.spec.webhooks
            if build is None:
                return None
            self._decoders[connection.vendor] = build()
        return self._decoders[connection.vendor]

    def webhook_secret(self, connection_id: str) -> str:
        connection = self.connection(connection_id)
        decoder = self.decoder_for(connection_id)
        assert decoder is not None
        return str(self.get_secret(connection.secret_name)[decoder.secret_field])

    def partner_decoder(self, detail_type: str) -> Any:
        """The decoder of the vendor that delivers EventBridge partner events of this detail-type."""
        for connection in self.config.connections:
            if detail_type in connection.spec.partner_detail_types:
                return self.decoder_for(connection.id)
        return None



class _DeferredFetcher:
    """A RecordFetcher whose adapter is built on the first fetch."""

    def __init__(self, build: Callable[[], RecordFetcher]) -> None:
        self._build = build

    def fetch(self, entity: str, record_id: str) -> dict[str, Any] | None:
        return self._build().fetch(entity, record_id)
