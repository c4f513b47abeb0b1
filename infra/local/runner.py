"""Local mode: the whole system on one machine, with no AWS account and no vendor account.

moto's server plays DynamoDB, SQS, EventBridge, Secrets Manager and SSM; the resources come from
infra.topology (the same definitions as the CDK app); the real handlers run in-process, fed by the
API Gateway front, the queue pumps and the schedule ticks; each configured vendor is started by the
starter its spec names (a real local ERP, or a sandbox that follows the vendor's contract). Local mode
names no vendor. What a client needs is written to .synchub/local.json.
"""
from __future__ import annotations

import functools
import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import topology
from infra.local.pumps import LocalContext, QueuePump, ScheduleTick, rate_seconds
from infra.local.vendors import LocalVendor, LocalVendorContext, serve

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = ROOT / "infra" / "config" / "local.json"
DEMO_CATALOG = ROOT / "infra" / "local" / "demo_catalog.json"
OFFSETS = {"gateway": 0, "moto": 1}  # then one port per vendor, in the order the config names them


def local_config(erp: str | None = None) -> Path:
    """The local config whose ERP is the vendor `erp`: local.json when it is its ERP (or none asked for),
    else local-<erp>.json."""
    if erp is None:
        return DEFAULT_CONFIG
    from synchub.runtime.config import DeploymentConfig

    default_erp = DeploymentConfig.from_file(DEFAULT_CONFIG).erp
    if default_erp is not None and default_erp.vendor == erp:
        return DEFAULT_CONFIG
    path = DEFAULT_CONFIG.with_name(f"local-{erp}.json")
    if not path.exists():
        raise LookupError(f"no local config with ERP {erp!r}: add {path.relative_to(ROOT)}")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _invoke(handler: Any, wiring: Any, event: dict[str, Any], context: Any) -> Any:
    return handler(event, context, wiring=wiring)


@dataclass
class LocalMode:
    data_dir: Path = ROOT / ".synchub"
    base_port: int | None = None  # None: SYNCHUB_LOCAL_PORT or 8787; 0: every port free-picked (tests)
    config_path: Path = DEFAULT_CONFIG
    start_ticks: bool = True
    reuse: dict[str, Any] = field(default_factory=dict)  # vendor -> an already running server (tests share one)
    ports: dict[str, int] = field(default_factory=dict)
    vendors: dict[str, LocalVendor] = field(default_factory=dict)
    _servers: list[Any] = field(default_factory=list)
    _workers: list[Any] = field(default_factory=list)

    def start(self) -> dict[str, Any]:
        from synchub.runtime.config import DeploymentConfig

        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = DeploymentConfig.from_file(self.config_path)
        base = self.base_port if self.base_port is not None else int(os.environ.get("SYNCHUB_LOCAL_PORT", "8787"))
        names = list(OFFSETS) + list(dict.fromkeys(connection.vendor for connection in config.connections))
        self.ports = {name: (base + offset if base else free_port()) for offset, name in enumerate(names)}
        self._start_aws()
        self._start_vendors(config)
        self.config = self._configure(config)
        self._provision()
        self._start_functions()
        for line in topology.undeployed(self.config):
            print(f"local mode: {line}")
        self.info = self._write_info()
        return self.info

    def __getattr__(self, name: str) -> Any:
        """A vendor's running stand-in by vendor name (`local.<vendor>`), for tests and the demo."""
        vendors = self.__dict__.get("vendors") or {}
        if name in vendors:
            return vendors[name].handle
        raise AttributeError(name)

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
        secrets = {connection.secret_name: self.vendors[connection.vendor].secret(connection)
                   for connection in self.config.connections}
        self.resources = provision(self.config, dynamodb=self.dynamodb, sqs=self.sqs, events=self.events,
                                   secretsmanager=boto3.client("secretsmanager"), ssm=boto3.client("ssm"),
                                   s3=self.s3, secrets=secrets)

    # Vendors -----------------------------------------------------------------------------------
    def _start_vendors(self, config: Any) -> None:
        """Start each configured vendor's local stand-in once, by the starter its spec names."""
        from importlib import import_module

        for vendor in dict.fromkeys(connection.vendor for connection in config.connections):
            connections = [connection for connection in config.connections if connection.vendor == vendor]
            starter = connections[0].spec.local_sandbox
            if starter is None:
                raise RuntimeError(f"{vendor} has no local stand-in; local mode cannot run this config")
            module, function = starter.split(":")
            self.vendors[vendor] = getattr(import_module(module), function)(LocalVendorContext(
                vendor=vendor, data_dir=self.data_dir, port=self.ports[vendor], catalog=DEMO_CATALOG,
                connections=connections, reuse=self.reuse.get(vendor)))

    def _configure(self, config: Any) -> Any:
        """Point every connection of the config at its vendor's local stand-in."""
        connections = tuple(
            connection.model_copy(update={"settings": connection.settings.model_copy(
                update=self.vendors[connection.vendor].settings(connection))})
            for connection in config.connections)
        return config.model_copy(update={"connections": connections})

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
                handler=functools.partial(_invoke, handler, wiring),
                context=LocalContext(flow.function_name, flow.timeout_seconds, flow.memory_mb))
            self.pumps[flow.flow].start()
            self._workers.append(self.pumps[flow.flow])
        if self.start_ticks:
            for job in topology.scheduled_jobs(self.config):
                every = rate_seconds(job.expression)
                if every:
                    tick = ScheduleTick(job.schedule, every, functools.partial(self.trigger, job.schedule, {}))
                    tick.start()
                    self._workers.append(tick)
        from infra.local.gateway import Gateway

        ingest = self.handlers[topology.INGEST].lambda_handler
        self.gateway = Gateway(
            ingest=lambda event: ingest(event, LocalContext("synchub-local-ingest", 10), wiring=self.wirings["ingest"]),
            trigger=self.trigger, status=self.status)
        self._servers.append(serve(self.gateway, self.ports["gateway"])[0])

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
            "stores": {store.id: {"platform": store.vendor,
                                  "webhook_url": f"{url('gateway')}/webhooks/{store.id}/{store.vendor}",
                                  "webhook_secret": self.vendors[store.vendor].secret(store).get("webhook_secret"),
                                  "api_url": store.settings.api_url} for store in self.config.stores},
            **{vendor: running.info for vendor, running in self.vendors.items()},
            **{connection.role: self.vendors[connection.vendor].info for connection in self.config.connections
               if connection.role != "store"},
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
        for running in self.vendors.values():
            running.stop()
        if getattr(self, "moto", None):
            self.moto.stop()
        for name, value in getattr(self, "_saved_env", {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
