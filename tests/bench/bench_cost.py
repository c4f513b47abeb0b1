"""Issue 15: AWS cost per million orders, from every AWS request a few orders cause in local mode.

Local mode (moto server, the real Tryton, the vendor sandboxes) with its queue pumps held: this benchmark
plays the event source mappings itself, in one thread, so each AWS request is attributed to the function
(or mapping) that made it. Every botocore call is recorded (service, operation, sizes); Lambda
invocations are timed; what the functions write to stdout (Powertools logs, EMF metrics) is counted.

The orders: customers placing two orders each (the first makes a new customer, the second finds it), each
order's webhook delivered twice (stores deliver at least once). One warm-up order first, not counted,
so the figures are for warm functions. The mappings hand one message per invocation, as they do at a
million orders a month (~0.4 orders/s, no batching window): batches would only make it cheaper.

Prices: AWS public list prices, us-east-1, on-demand, no free tier (see PRICES; read 2026-12-02 from the
pages named there). Figures with an estimate in them are marked so in the breakdown.
"""
from __future__ import annotations

import contextvars
import io
import json
import math
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.bench import ROOT, Context, Figure, quiet

NAME = "cost"
TITLE = "AWS cost per million orders (local mode, every AWS request counted, list prices)"
GOAL_DOLLARS = 25.0
TRYTON_DIR = ROOT / ".synchub" / "bench-tryton"
ORDERS_PER_MONTH = 1_000_000  # for X-Ray's sampling, which depends on the rate
LAMBDA_PLATFORM_LOG_BYTES = 400  # START, END and REPORT lines Lambda writes per invocation (~100+60+240 bytes)


@dataclass(frozen=True)
class Price:
    dollars: float
    per: float  # units
    unit: str
    source: str


# us-east-1 list prices (on-demand, no free tier), from the AWS pricing pages, read 2026-12-02.
PRICES: dict[str, Price] = {
    "apigw_request": Price(3.50, 1e6, "REST API requests", "aws.amazon.com/api-gateway/pricing (REST, first 333M)"),
    "lambda_request": Price(0.20, 1e6, "Lambda requests", "aws.amazon.com/lambda/pricing"),
    "lambda_gb_s": Price(0.0000133334, 1, "GB-s (arm64, first 7.5B GB-s)", "aws.amazon.com/lambda/pricing"),
    "eventbridge_event": Price(1.00, 1e6, "custom events (64 KB chunks)", "aws.amazon.com/eventbridge/pricing"),
    "eventbridge_archive_gb": Price(0.10, 1, "GB archived", "aws.amazon.com/eventbridge/pricing (archive)"),
    "sqs_request": Price(0.40, 1e6, "SQS requests (64 KB chunks)", "aws.amazon.com/sqs/pricing (standard)"),
    "dynamodb_wru": Price(0.625, 1e6, "write request units", "aws.amazon.com/dynamodb/pricing/on-demand (Nov 2024)"),
    "dynamodb_rru": Price(0.125, 1e6, "read request units", "aws.amazon.com/dynamodb/pricing/on-demand (Nov 2024)"),
    "secrets_call": Price(0.05, 1e4, "Secrets Manager API calls", "aws.amazon.com/secrets-manager/pricing"),
    "ssm_advanced_call": Price(0.05, 1e4, "Parameter Store API interactions (advanced parameter)",
                               "aws.amazon.com/systems-manager/pricing"),
    "s3_put": Price(0.005, 1e3, "S3 PUT/COPY/POST/LIST", "aws.amazon.com/s3/pricing (Standard)"),
    "s3_get": Price(0.0004, 1e3, "S3 GET and others", "aws.amazon.com/s3/pricing (Standard)"),
    "logs_gb": Price(0.50, 1, "GB CloudWatch Logs ingested (standard)", "aws.amazon.com/cloudwatch/pricing"),
    "xray_trace": Price(5.00, 1e6, "X-Ray traces recorded", "aws.amazon.com/xray/pricing"),
}

ACTOR: contextvars.ContextVar[str | None] = contextvars.ContextVar("actor", default=None)


@dataclass
class Meter:
    """AWS requests by (actor, service, operation); DynamoDB capacity units; bytes; Lambda time and logs."""

    calls: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    units: Counter[str] = field(default_factory=Counter)
    invocations: Counter[str] = field(default_factory=Counter)
    gb_seconds: Counter[str] = field(default_factory=Counter)
    log_bytes: Counter[str] = field(default_factory=Counter)

    def record(self, service: str, operation: str, params: dict[str, Any], response: dict[str, Any]) -> None:
        actor = ACTOR.get()
        if actor is None:
            return
        if operation == "ReceiveMessage" and not response.get("Messages"):
            return  # an empty poll: the mapping's idle polling is a fixed monthly cost, not one per order
        self.calls[(actor, service, operation)] += 1
        if service == "events" and operation == "PutEvents":
            for entry in params.get("Entries", []):
                size = len(json.dumps(entry, default=str).encode())
                self.units["eventbridge_event"] += math.ceil(size / 65536)
                self.units["eventbridge_archive_bytes"] += size
        elif service == "sqs":
            payload = sum(len(str(value).encode()) for value in params.values())
            self.units["sqs_request"] += max(1, math.ceil(payload / 65536))
        elif service == "dynamodb":
            read, write = capacity(operation, params, response)
            self.units["dynamodb_rru"] += read
            self.units["dynamodb_wru"] += write
        elif service == "secretsmanager":
            self.units["secrets_call"] += 1
        elif service == "ssm":
            self.units["ssm_advanced_call"] += 1
        elif service == "s3":
            self.units["s3_put" if operation in {"PutObject", "CopyObject", "ListObjectsV2"} else "s3_get"] += 1


def _item_bytes(item: dict[str, Any] | None) -> int:
    """DynamoDB item size: attribute names plus values (the wire JSON is a close, slightly high estimate)."""
    return len(json.dumps(item or {}, default=str).encode())


def capacity(operation: str, params: dict[str, Any], response: dict[str, Any]) -> tuple[float, float]:
    """(read units, write units) on-demand: a write is 1 WRU per KB of the item, a read 1 RRU per 4 KB
    strongly consistent (half eventually consistent), transactions double."""
    strong = 1.0 if params.get("ConsistentRead") else 0.5
    if operation == "GetItem":
        return strong * max(1, math.ceil(_item_bytes(response.get("Item")) / 4096)), 0
    if operation in {"Query", "Scan"}:
        size = sum(_item_bytes(item) for item in response.get("Items", []))
        return strong * max(1, math.ceil(size / 4096)), 0
    if operation == "PutItem":
        return 0, max(1, math.ceil(_item_bytes(params.get("Item")) / 1024))
    if operation in {"UpdateItem", "DeleteItem"}:
        # The item after the update is not returned: key + new values is the lower bound, 1 KB items here.
        size = _item_bytes(params.get("Key")) + _item_bytes(params.get("ExpressionAttributeValues"))
        return 0, max(1, math.ceil(size / 1024))
    if operation == "TransactWriteItems":
        return 0, 2 * sum(max(1, math.ceil(_item_bytes(next(iter(item.values())).get("Item")
                                                      or next(iter(item.values())).get("Key")) / 1024))
                          for item in params.get("TransactItems", []))
    if operation == "BatchWriteItem":
        return 0, sum(max(1, math.ceil(_item_bytes(request.get("PutRequest", {}).get("Item")) / 1024))
                      for requests in params.get("RequestItems", {}).values() for request in requests)
    return 0, 0


@contextmanager
def metered(meter: Meter) -> Iterator[None]:
    """Every botocore call of this process goes through the meter (clients made before included)."""
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def make_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        response = original(client, operation, params)
        meter.record(client.meta.service_model.service_name, operation, params, response)
        return response

    BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


class CountingSink(io.TextIOBase):
    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode("utf-8", "surrogatepass"))
        return len(text)


@contextmanager
def counted_stdout() -> Iterator[CountingSink]:
    """What functions write to stdout (Lambda sends it to CloudWatch Logs), counted and dropped."""
    import contextlib
    import logging
    import sys

    sink = CountingSink()
    swapped = []
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            # Lambda's stdout: the Powertools handlers (on stdout, or on quiet()'s sink by now), not stderr.
            if isinstance(handler, logging.StreamHandler) and handler.stream not in (sys.__stderr__, sys.stderr) \
                    and getattr(handler.stream, "name", "") != "<stderr>":
                swapped.append((handler, handler.setStream(sink)))
    try:
        with contextlib.redirect_stdout(sink):
            yield sink
    finally:
        for handler, stream in swapped:
            handler.setStream(stream)


class Driver:
    """Local mode with its pumps held; ingest and the event source mappings played in this thread."""

    def __init__(self, local: Any, meter: Meter) -> None:
        from synchub.catalog import FLOWS

        from infra import topology

        self.local, self.meter = local, meter
        self.memory = {flow.name: flow.memory_mb for flow in FLOWS} | {topology.INGEST: topology.INGEST_MEMORY_MB}

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        from infra.local.pumps import LocalContext

        handler = self.local.handlers[function].lambda_handler
        token = ACTOR.set(function)
        try:
            with counted_stdout() as sink:
                started = time.perf_counter()
                answer = handler(event, LocalContext(f"synchub-bench-{function}", 60), wiring=self.local.wirings[function])
                elapsed = time.perf_counter() - started
        finally:
            ACTOR.reset(token)
        self.meter.invocations[function] += 1
        self.meter.gb_seconds[function] += math.ceil(elapsed * 1000) / 1000 * self.memory[function] / 1024
        self.meter.log_bytes[function] += sink.bytes + LAMBDA_PLATFORM_LOG_BYTES
        return answer

    def webhook(self, body: bytes, headers: dict[str, str]) -> None:
        from tests.eventdata import sign_shopify

        template = json.loads((ROOT / "events/apigw/webhook_request.json").read_text())
        secret = self.local.info["stores"]["main"]["webhook_secret"]
        event = {**template, "headers": {**template["headers"], **headers,
                                         "X-Shopify-Hmac-Sha256": sign_shopify(body, secret)},
                 "body": body.decode(), "isBase64Encoded": False}
        self.meter.units["apigw_request"] += 1
        answer = self.invoke("ingest", event)
        if answer["statusCode"] != 200:
            raise AssertionError(f"ingest answered {answer}")

    def drain(self) -> None:
        """Play every flow's event source mapping until no queue holds a message: one message per invocation,
        deleted after success (DeleteMessageBatch, as the mapping does)."""
        resources, sqs = self.local.resources, self.local.sqs
        busy = True
        while busy:
            busy = False
            for flow, url in resources.queue_urls.items():
                token = ACTOR.set(f"{flow} (event source mapping)")
                try:
                    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=0,
                                                   AttributeNames=["All"]).get("Messages", [])
                finally:
                    ACTOR.reset(token)
                if not messages:
                    continue
                busy = True
                arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                                      "attributes": m.get("Attributes", {}), "messageAttributes": {},
                                      "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": arn,
                                      "awsRegion": "us-east-1"} for m in messages]}
                answer = self.invoke(flow, event)
                if answer.get("batchItemFailures"):
                    raise AssertionError(f"{flow} failed: {answer}")
                token = ACTOR.set(f"{flow} (event source mapping)")
                try:
                    sqs.delete_message_batch(QueueUrl=url, Entries=[
                        {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(messages)])
                finally:
                    ACTOR.reset(token)


def xray_traced_fraction(invocations_per_order: float) -> float:
    """The stack's sampling rule (DeploymentConfig.trace_sample_rate and trace_reservoir_per_second): the
    reservoir's requests each second, then the fixed rate of the rest, across the stage's functions."""
    from synchub.runtime.config import DeploymentConfig

    fields = DeploymentConfig.model_fields
    rate, reservoir = fields["trace_sample_rate"].default, fields["trace_reservoir_per_second"].default
    per_second = ORDERS_PER_MONTH * invocations_per_order / (30 * 86400)
    if per_second <= reservoir:
        return 1.0
    return (reservoir + rate * (per_second - reservoir)) / per_second


def dollars(meter: Meter, orders: int) -> dict[str, float]:
    """Dollars per million orders, by line."""
    per_order: dict[str, float] = defaultdict(float)
    units = meter.units
    invocations = sum(meter.invocations.values())
    lines = {
        "API Gateway requests": units["apigw_request"] * PRICES["apigw_request"].dollars / PRICES["apigw_request"].per,
        "Lambda requests": invocations * PRICES["lambda_request"].dollars / PRICES["lambda_request"].per,
        "Lambda GB-seconds": sum(meter.gb_seconds.values()) * PRICES["lambda_gb_s"].dollars,
        "EventBridge events": units["eventbridge_event"] * PRICES["eventbridge_event"].dollars / 1e6,
        "EventBridge archive": units["eventbridge_archive_bytes"] / 1e9 * PRICES["eventbridge_archive_gb"].dollars,
        "SQS requests": units["sqs_request"] * PRICES["sqs_request"].dollars / 1e6,
        "DynamoDB writes (est. units)": units["dynamodb_wru"] * PRICES["dynamodb_wru"].dollars / 1e6,
        "DynamoDB reads (est. units)": units["dynamodb_rru"] * PRICES["dynamodb_rru"].dollars / 1e6,
        "Secrets Manager calls": units["secrets_call"] * PRICES["secrets_call"].dollars / PRICES["secrets_call"].per,
        "SSM parameter reads": units["ssm_advanced_call"] * PRICES["ssm_advanced_call"].dollars / 1e4,
        "S3 requests": units["s3_put"] * PRICES["s3_put"].dollars / 1e3 + units["s3_get"] * PRICES["s3_get"].dollars / 1e3,
        "CloudWatch Logs ingestion": sum(meter.log_bytes.values()) / 1e9 * PRICES["logs_gb"].dollars,
        "X-Ray traces (the stack's sampling rule)": invocations * xray_traced_fraction(invocations / orders)
        * PRICES["xray_trace"].dollars / 1e6,
    }
    for line, total in lines.items():
        per_order[line] = total / orders * 1e6
    return dict(per_order)


def run(ctx: Context) -> list[Figure]:
    from infra.local.runner import LocalMode
    from tests.bench.bench_orders import OrderFactory

    customers = 1 if ctx.quick else 3
    meter = Meter()
    with quiet():
        local = LocalMode(data_dir=TRYTON_DIR, base_port=0, start_ticks=False)
        saved = dict(__import__("os").environ)
        try:
            started = time.monotonic()
            local.start()
            local.pause_pumps()
            ctx.say(f"  local mode up in {time.monotonic() - started:.1f} s; pumps held, mappings played here")
            driver = Driver(local, meter)
            orders = OrderFactory(uuid.uuid4().hex[:6])
            warm = Meter()
            driver.meter = warm  # the warm-up order: cold starts, log-ins and caches, not counted
            with metered(warm):
                body, headers = orders.webhook(2 * customers + 1)
                driver.webhook(body, headers)
                driver.drain()
            driver.meter = meter
            with metered(meter):
                for index in range(2 * customers):  # index // 2 is the customer: even = new, odd = returning
                    body, headers = orders.webhook(index)
                    for _ in range(2):  # the store delivers it twice: same body, same event id
                        driver.webhook(body, headers)
                    driver.drain()
        finally:
            local.stop()
            __import__("os").environ.clear()
            __import__("os").environ.update(saved)
    count = 2 * customers
    report(ctx, meter, count)
    lines = dollars(meter, count)
    total = sum(lines.values())
    ctx.say(f"  total ${total:,.2f} per million orders (goal <= ${GOAL_DOLLARS:.0f}): "
            f"{'goal met' if total <= GOAL_DOLLARS else 'goal missed'}")
    return [Figure(NAME, "dollars per million orders (us-east-1 list prices)", total, "$", GOAL_DOLLARS,
                   f"goal ${GOAL_DOLLARS:.0f}", 1.0)]


def report(ctx: Context, meter: Meter, orders: int) -> None:
    per = lambda value: value / orders
    ctx.say(f"  {orders} orders ({orders // 2} customers, new then returning), each webhook delivered twice; "
            f"per order:")
    by_function = sorted(meter.invocations)
    ctx.say(f"    {'function':<28}{'invocations':>12}{'GB-s':>10}{'log KB':>9}")
    for function in by_function:
        ctx.say(f"    {function:<28}{per(meter.invocations[function]):>12.2f}{per(meter.gb_seconds[function]):>10.3f}"
                f"{per(meter.log_bytes[function]) / 1024:>9.1f}")
    ctx.say("    AWS requests per order, by who made them:")
    grouped: dict[str, Counter[str]] = defaultdict(Counter)
    for (actor, service, operation), count in meter.calls.items():
        grouped[actor][f"{service}.{operation}"] += count
    for actor in sorted(grouped):
        ctx.say(f"      {actor:<44}" + ", ".join(f"{name} {per(count):.2f}"
                                                 for name, count in sorted(grouped[actor].items())))
    units = meter.units
    ctx.say(f"    units per order: API Gateway {per(units['apigw_request']):.2f}, EventBridge events "
            f"{per(units['eventbridge_event']):.2f}, SQS requests {per(units['sqs_request']):.2f}, DynamoDB WRU "
            f"{per(units['dynamodb_wru']):.2f} / RRU {per(units['dynamodb_rru']):.2f}, Secrets Manager "
            f"{per(units['secrets_call']):.2f}, S3 {per(units['s3_put'] + units['s3_get']):.2f}")
    lines = dollars(meter, orders)
    total = sum(lines.values())
    ctx.say("    dollars per million orders:")
    for line, value in sorted(lines.items(), key=lambda item: -item[1]):
        ctx.say(f"      {line:<36}${value:>9,.2f}  {100 * value / total:5.1f}%")
    invocations = sum(meter.invocations.values())
    ctx.say(f"    X-Ray: {100 * xray_traced_fraction(invocations / orders):.0f}% of invocations traced at "
            f"{ORDERS_PER_MONTH:,} orders/month under the stack's sampling rule")
    ctx.say("    prices (us-east-1 list, read 2026-12-02): " + "; ".join(
        f"{price.unit} ${price.dollars:g}/{price.per:g} ({price.source})" for price in PRICES.values()))
