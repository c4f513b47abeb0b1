"""Local mode: the whole system on one machine, with no AWS account and no vendor account.

moto's server plays DynamoDB, SQS, EventBridge, Secrets Manager and SSM; the resources come from
infra.topology (the same definitions as the CDK app); the real handlers run in-process, fed by the
API Gateway front, the queue pumps and the schedule ticks; Tryton is the real ERP; sandboxes play
Shopify, WooCommerce and HubSpot. What a client needs is written to .synchub/local.json.
"""
from __future__ import annotations

import json
import os
import secrets as random_secrets
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import topology
from infra.local import tryton_erp
from infra.local.pumps import LocalContext, QueuePump, ScheduleTick, rate_seconds

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = ROOT / "infra" / "config" / "local.json"
DEMO_CATALOG = ROOT / "infra" / "local" / "demo_catalog.json"
OFFSETS = {"gateway": 0, "moto": 1, "shopify": 2, "hubspot": 3, "woocommerce": 4, "tryton": 5}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(app: Any, port: int) -> Any:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, name=f"http-{port}", daemon=True).start()
    return server


def _credentials(data_dir: Path) -> dict[str, str]:
    """Local secrets, generated once per checkout and kept (0600) so restarts and clients agree."""
    path = data_dir / "credentials.json"
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "shopify_webhook_secret": random_secrets.token_hex(24),
        "shopify_access_token": "shpat_" + random_secrets.token_hex(16),
        "woocommerce_webhook_secret": random_secrets.token_hex(24),
        "woocommerce_consumer_key": "ck_" + random_secrets.token_hex(20),
        "woocommerce_consumer_secret": "cs_" + random_secrets.token_hex(20),
        "hubspot_token": "pat-local-" + random_secrets.token_hex(16),
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


@dataclass
class LocalMode:
    data_dir: Path = ROOT / ".synchub"
    base_port: int | None = None  # None: SYNCHUB_LOCAL_PORT or 8787; 0: every port free-picked (tests)
    config_path: Path = DEFAULT_CONFIG
    start_ticks: bool = True
    tryton: Any = None  # an already running TrytonServer to use (tests share one); started here when None
    ports: dict[str, int] = field(default_factory=dict)
    _servers: list[Any] = field(default_factory=list)
    _workers: list[Any] = field(default_factory=list)

    def start(self) -> dict[str, Any]:
        from synchub.runtime.config import DeploymentConfig

        self.data_dir.mkdir(parents=True, exist_ok=True)
        base = self.base_port if self.base_port is not None else int(os.environ.get("SYNCHUB_LOCAL_PORT", "8787"))
        self.ports = {name: (base + offset if base else free_port()) for name, offset in OFFSETS.items()}
        self.credentials = _credentials(self.data_dir)
        self._start_aws()
        self._start_vendors()
        self._own_tryton = self.tryton is None
        if self.tryton is None:
            self.tryton = tryton_erp.start(self.data_dir / "tryton", port=self.ports["tryton"])
        self.config = self._configure(DeploymentConfig.from_file(self.config_path))
        self._provision()
        self._start_functions()
        self.info = self._write_info()
        return self.info

    # AWS ---------------------------------------------------------------------------------------
    def _start_aws(self) -> None:
        from moto.server import ThreadedMotoServer

        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.ports["moto"], verbose=False)
        self.moto.start()
        self.aws_endpoint = f"http://127.0.0.1:{self.ports['moto']}"
        # Every boto3 client of this process (the handlers' too) talks to moto, never to AWS; stop() puts
        # the environment back, so whatever runs after local mode in this process is not pointed at it.
        local_env = {"AWS_ENDPOINT_URL": self.aws_endpoint, "AWS_DEFAULT_REGION": "us-east-1",
                     "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                     "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true"}
        self._saved_env = {name: os.environ.get(name) for name in local_env}
        os.environ.update(local_env)

    def _provision(self) -> None:
        import boto3

        from infra.local.provision import provision

        self.dynamodb = boto3.resource("dynamodb")
        self.sqs = boto3.client("sqs")
        self.events = boto3.client("events")
        self.s3 = boto3.client("s3")
        store_secrets = {}
        for store in self.config.stores:
            if store.platform == "shopify":
                store_secrets[store.secret_name] = {"webhook_secret": self.credentials["shopify_webhook_secret"],
                                                    "access_token": self.credentials["shopify_access_token"]}
            else:
                store_secrets[store.secret_name] = {
                    "webhook_secret": self.credentials["woocommerce_webhook_secret"],
                    "consumer_key": self.credentials["woocommerce_consumer_key"],
                    "consumer_secret": self.credentials["woocommerce_consumer_secret"]}
        assert self.config.crm and self.config.erp
        vendor_secrets = {self.config.crm.secret_name: {"access_token": self.credentials["hubspot_token"]},
                          self.config.erp.secret_name: {"username": self.tryton.username,
                                                        "password": self.tryton.password}}
        self.resources = provision(self.config, dynamodb=self.dynamodb, sqs=self.sqs, events=self.events,
                                   secretsmanager=boto3.client("secretsmanager"), ssm=boto3.client("ssm"),
                                   s3=self.s3, secrets={**store_secrets, **vendor_secrets})

    # Vendors -----------------------------------------------------------------------------------
    def _start_vendors(self) -> None:
        from infra.local.sandboxes import hubspot, shopify, woocommerce

        self.shopify = shopify.create_app(self.credentials["shopify_access_token"], "synchub-demo.myshopify.com",
                                          catalog=DEMO_CATALOG)
        self.hubspot = hubspot.create_app(self.credentials["hubspot_token"])
        self.woocommerce = woocommerce.create_app(self.credentials["woocommerce_consumer_key"],
                                                  self.credentials["woocommerce_consumer_secret"], DEMO_CATALOG)
        for name, app in (("shopify", self.shopify), ("hubspot", self.hubspot), ("woocommerce", self.woocommerce)):
            self._servers.append(_serve(app, self.ports[name]))

    def _configure(self, config: Any) -> Any:
        """Point the embedded default config at this machine's sandboxes and ERP."""
        url = lambda name: f"http://127.0.0.1:{self.ports[name]}"
        shop_location = self.shopify.locations()[0]["id"]
        stores = tuple(
            store.model_copy(update={"api_url": url("shopify"), "locations": {"WH": shop_location}})
            if store.platform == "shopify" else store.model_copy(update={"api_url": url("woocommerce")})
            for store in config.stores)
        return config.model_copy(update={
            "stores": stores, "crm": config.crm.model_copy(update={"api_url": url("hubspot")}),
            "erp": config.erp.model_copy(update={"url": self.tryton.url, "database": self.tryton.database})})

    # Functions ---------------------------------------------------------------------------------
    def wiring(self, flow: str) -> Any:
        from synchub.runtime.wiring import Wiring

        return Wiring(settings_=self.resources.settings(flow, self.config), config=self.config,
                      dynamodb=self.dynamodb, events=self.events, sqs=self.sqs, s3=self.s3)

    def _start_functions(self) -> None:
        from infra.local.functions import load_handler

        self.handlers = {name: load_handler(name) for name in
                         [topology.INGEST] + [f.flow for f in topology.flow_queues(self.config)]
                         + [j.schedule for j in topology.scheduled_jobs(self.config)]}
        self.wirings = {name: self.wiring(name) for name in self.handlers}
        self.pumps: dict[str, QueuePump] = {}
        for flow in topology.flow_queues(self.config):
            url = self.resources.queue_urls[flow.flow]
            arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            handler = self.handlers[flow.flow].lambda_handler
            wiring = self.wirings[flow.flow]
            self.pumps[flow.flow] = QueuePump(
                sqs=self.sqs, queue_url=url, queue_arn=arn, batch_size=flow.batch_size,
                handler=lambda event, context, h=handler, w=wiring: h(event, context, wiring=w),
                context=LocalContext(flow.function_name, flow.timeout_seconds, flow.memory_mb))
            self.pumps[flow.flow].start()
            self._workers.append(self.pumps[flow.flow])
        if self.start_ticks:
            for job in topology.scheduled_jobs(self.config):
                every = rate_seconds(job.expression)
                if every:
                    tick = ScheduleTick(job.schedule, every, lambda name=job.schedule: self.trigger(name, {}))
                    tick.start()
                    self._workers.append(tick)
        from infra.local.gateway import Gateway

        ingest = self.handlers[topology.INGEST].lambda_handler
        self.gateway = Gateway(
            ingest=lambda event: ingest(event, LocalContext("synchub-local-ingest", 10), wiring=self.wirings["ingest"]),
            trigger=self.trigger, status=self.status)
        self._servers.append(_serve(self.gateway, self.ports["gateway"]))

    def trigger(self, schedule: str, options: dict[str, Any]) -> dict[str, Any]:
        """Run a scheduled function now, as EventBridge Scheduler would (options become its input)."""
        if schedule not in {job.schedule for job in topology.scheduled_jobs(self.config)}:
            raise LookupError(schedule)
        return self.handlers[schedule].lambda_handler(options, LocalContext(f"synchub-local-{schedule}", 600),
                                                      wiring=self.wirings[schedule])

    def status(self) -> dict[str, Any]:
        def depth(url: str) -> int:
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
            return sum(int(value) for value in attributes["Attributes"].values())

        return {"queues": {flow: depth(url) for flow, url in self.resources.queue_urls.items()},
                "dlqs": {flow: depth(url) for flow, url in self.resources.dlq_urls.items()},
                "ingest_dlq": depth(self.resources.ingest_dlq_url)}

    def pause_pumps(self) -> None:
        """Hold every flow queue's messages where they are (tests look at what arrived)."""
        for pump in self.pumps.values():
            pump.paused.set()
        for pump in self.pumps.values():
            pump.holding.wait(10)

    def resume_pumps(self) -> None:
        for pump in self.pumps.values():
            pump.holding.clear()
            pump.paused.clear()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until every flow queue is empty (DLQs may hold what failed)."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not any(self.status()["queues"].values()):
                return True
            time.sleep(0.2)
        return False

    def _write_info(self) -> dict[str, Any]:
        url = lambda name: f"http://127.0.0.1:{self.ports[name]}"
        info = {
            "webhook_url": url("gateway") + "/webhooks/{store}/{platform}",
            "trigger_url": url("gateway") + "/_local/trigger/{schedule}",
            "status_url": url("gateway") + "/_local/status",
            "aws_endpoint_url": self.aws_endpoint, "stage": self.config.stage,
            "stores": {store.id: {"platform": store.platform,
                                  "webhook_url": f"{url('gateway')}/webhooks/{store.id}/{store.platform}",
                                  "webhook_secret": self.credentials[f"{store.platform}_webhook_secret"],
                                  "api_url": store.api_url} for store in self.config.stores},
            "shopify": {"graphql_url": f"{url('shopify')}/admin/api/{self.config.stores[0].api_version}/graphql.json",
                        "access_token": self.credentials["shopify_access_token"]},
            "woocommerce": {"api_url": url("woocommerce") + "/wp-json/wc/v3/",
                            "consumer_key": self.credentials["woocommerce_consumer_key"],
                            "consumer_secret": self.credentials["woocommerce_consumer_secret"]},
            "hubspot": {"api_url": url("hubspot"), "access_token": self.credentials["hubspot_token"]},
            "erp": {"kind": "tryton", "url": self.tryton.url, "database": self.tryton.database,
                    "username": self.tryton.username, "password": self.tryton.password},
        }
        path = self.data_dir / "local.json"
        path.write_text(json.dumps(info, indent=2))
        path.chmod(0o600)
        return info

    def stop(self) -> None:
        for worker in self._workers:
            worker.stop()
        for server in self._servers:
            server.shutdown()
        if self.tryton is not None and getattr(self, "_own_tryton", False):
            self.tryton.stop()
        if getattr(self, "moto", None):
            self.moto.stop()
        for name, value in getattr(self, "_saved_env", {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
