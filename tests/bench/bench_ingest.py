"""Issue 2: time per webhook in the ingest handler against the floor of verify + parse + one PutEvents.

The handler runs in-process exactly as Lambda calls it (Powertools resolver, logger, metrics; tracing
off, as outside Lambda), with the real EventBridgePublisher over a botocore Stubber on a real events
client (request validated and serialised, no network) and the webhook secret served from a dict
through Powertools Parameters. The floor does the least any ingest must: HMAC + compare_digest over
the raw body, json.loads, one put_events through the same stubbed client.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from tests.bench import ROOT, Context, Figure, fmt, median, percentile, quiet

NAME = "ingest"
TITLE = "ingest handler per webhook vs verify+parse+PutEvents floor"
GOAL = 1.5
SECRET = "shpss_bench_secret"
SECRET_NAME = "bench/store/main"
BUS = "synchub-bench"


class DictSecrets:
    """A Powertools parameters provider serving secrets from a dict (cached like the real one)."""

    @staticmethod
    def build(values: dict[str, dict[str, Any]]) -> Any:
        from aws_lambda_powertools.utilities.parameters.base import BaseProvider

        class _Provider(BaseProvider):
            def _get(self, name: str, **sdk_options: Any) -> str:
                return json.dumps(values[name])

            def _get_multiple(self, path: str, **sdk_options: Any) -> dict[str, str]:
                raise NotImplementedError

        return _Provider()


class InMemoryEvents:
    """The smallest possible events client: PutEvents accepted in memory (the overhead-only view)."""

    def __init__(self) -> None:
        self.entries = 0

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.entries += len(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": f"e-{self.entries}"} for _ in Entries]}


def stubbed_events(responses: int) -> tuple[Any, Any]:
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("events", region_name="eu-west-1")
    stubber = Stubber(client)
    for index in range(responses):
        stubber.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": f"e-{index}"}]})
    stubber.activate()
    return client, stubber


def api_event(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    template = json.loads((ROOT / "events/apigw/webhook_request.json").read_text())
    return {**template, "headers": {**template["headers"], **headers}, "body": body.decode("utf-8"),
            "isBase64Encoded": False}


def floor_call(body: bytes, signature: str, events: Any) -> None:
    digest = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
    if not hmac.compare_digest(digest, signature.encode()):
        raise AssertionError("floor: signature mismatch")
    json.loads(body)
    events.put_events(Entries=[{"Source": "synchub", "DetailType": "order.created", "Detail": body.decode("utf-8"),
                                "EventBusName": BUS}])


def _wiring(events: Any) -> Any:
    from synchub.runtime.config import DeploymentConfig
    from synchub.runtime.secrets import Secrets
    from synchub.runtime.settings import Settings
    from synchub.runtime.wiring import Wiring

    config = DeploymentConfig.model_validate({"stage": "bench", "connections": [
        {"id": "main", "vendor": "shopify", "secret_name": SECRET_NAME,
         "settings": {"domain": "synchub-demo.myshopify.com"}}]})
    settings = Settings(stage="bench", state_table="synchub-bench-state", idempotency_table="synchub-bench-idem",
                        bus_name=BUS, dlq_url="https://sqs.eu-west-1.amazonaws.com/123456789012/ingest-dlq",
                        flow="ingest")
    # The DLQ client is never called on the accepted path; an in-memory object makes that certain.
    wiring = Wiring(settings_=settings, config=config, events=events, sqs=object())
    # The wiring's own Secrets, with its Powertools provider serving from a dict (cached like the real one).
    secrets = Secrets(client=None)
    secrets.provider = DictSecrets.build({SECRET_NAME: {"webhook_secret": SECRET}})
    wiring.__dict__["secrets"] = secrets  # the cached_property's slot
    return wiring


def _timed(call: Callable[[], None]) -> int:
    start = time.perf_counter_ns()
    call()
    return time.perf_counter_ns() - start


def measure(iterations: int, warmup: int, events: Any, invoke: Callable[[Any], Any], body: bytes,
            signature: str) -> tuple[list[float], list[float]]:
    """Handler and floor interleaved call by call, so drift on the machine hits both alike."""
    handler_us: list[float] = []
    floor_us: list[float] = []
    for index in range(warmup + iterations):
        spent_handler = _timed(lambda: invoke(events))
        spent_floor = _timed(lambda: floor_call(body, signature, events))
        if index >= warmup:
            handler_us.append(spent_handler / 1000)
            floor_us.append(spent_floor / 1000)
    return handler_us, floor_us


def breakdown(ctx: Context, module: Any, wiring: Any, event: dict[str, Any], context: Any, body: bytes,
              headers: dict[str, str], signature: str, events: Any, iterations: int) -> None:
    """Where the handler's time goes, by peeling its layers (medians, interleaved, no profiler)."""
    from synchub.flows.ingest import IngestResult, WebhookRequest, accept_webhook

    full = module.lambda_handler
    layers = [full]
    while hasattr(layers[-1], "__wrapped__"):  # inject_lambda_context > capture_lambda_handler > log_metrics
        layers.append(layers[-1].__wrapped__)
    if len(layers) != 4:
        ctx.say(f"  (breakdown skipped: expected 3 decorators on lambda_handler, found {len(layers) - 1})")
        return
    decoder, topics = wiring.decoder_for("main"), wiring.handled_topics
    request = WebhookRequest(connection_id="main", vendor="shopify", headers=headers, body=body)
    steps: dict[str, Callable[[], Any]] = {
        "floor": lambda: floor_call(body, signature, events),
        "flow": lambda: accept_webhook(request, decoder=decoder, connection_vendor="shopify",
                                       secret=lambda: wiring.webhook_secret("main"), publisher=wiring.publisher,
                                       parking=wiring.dead_letters, handled_topics=topics,
                                       max_body_bytes=wiring.config.ingest.max_body_bytes),
        "answer": lambda: module._count(IngestResult(200, "accepted", "order.created", "event-1")),
        "bare": lambda: layers[3](event, context, wiring=wiring),
        "+metrics": lambda: layers[2](event, context, wiring=wiring),
        "+tracer": lambda: layers[1](event, context, wiring=wiring),
        "full": lambda: full(event, context, wiring=wiring),
    }
    spent: dict[str, list[float]] = {name: [] for name in steps}
    from synchub.runtime.observability import metrics

    for index in range(iterations + 100):
        for name, step in steps.items():
            took = _timed(step) / 1000
            if index >= 100:
                spent[name].append(took)
        metrics.clear_metrics()
    m = {name: median(values) for name, values in spent.items()}
    rows = [("floor: HMAC + json.loads + put_events", m["floor"]),
            ("synchub flow beyond the floor (headers x2, envelope, model_dump_json, topics)", m["flow"] - m["floor"]),
            ("the 'webhook' log line + metric (_count)", m["answer"]),
            ("proxy-event reading + response + handler glue", m["bare"] - m["flow"] - m["answer"]),
            ("@metrics.log_metrics (EMF flush)", m["+metrics"] - m["bare"]),
            ("@tracer.capture_lambda_handler (tracing disabled)", m["+tracer"] - m["+metrics"]),
            ("@logger.inject_lambda_context", m["full"] - m["+tracer"])]
    ctx.say(f"  where the time goes (in-memory events client, medians of {iterations} interleaved calls each; "
            f"full handler {m['full']:.0f} us):")
    for label, micros in rows:
        ctx.say(f"    {label:<78} {micros:7.0f} us")


def run(ctx: Context) -> list[Figure]:
    from infra.local.functions import load_handler
    from tests.eventdata import load_event, sign_shopify
    from tests.fakes import FakeLambdaContext

    iterations, warmup = (500, 100) if ctx.quick else (3000, 300)
    body, headers = load_event("shopify/orders_create")
    signature = sign_shopify(body, SECRET)
    event = api_event(body, {**headers, "X-Shopify-Hmac-Sha256": signature})
    module = load_handler("ingest")
    handler = module.lambda_handler
    context = FakeLambdaContext(function_name="synchub-bench-ingest")
    stubbed, stubber = stubbed_events(2 * (warmup + iterations) + 2)
    memory = InMemoryEvents()
    wirings = {id(stubbed): _wiring(stubbed), id(memory): _wiring(memory)}  # built once, as per environment

    def invoke(events: Any) -> Any:
        return handler(event, context, wiring=wirings[id(events)])

    with quiet():
        answer = invoke(stubbed)
        floor_call(body, signature, stubbed)
    if answer["statusCode"] != 200 or json.loads(answer["body"])["outcome"] != "accepted":
        raise AssertionError(f"the benchmark webhook was not accepted: {answer}")
    ctx.say(f"  sample: events/shopify/orders_create ({len(body):,} bytes), signed; "
            f"{iterations} iterations after {warmup} warm-up, handler and floor interleaved")
    with quiet():
        handler_us, floor_us = measure(iterations, warmup, stubbed, invoke, body, signature)
        handler_mem_us, floor_mem_us = measure(iterations, warmup, memory, invoke, body, signature)
    stubber.deactivate()
    figures = _figures(handler_us, floor_us, "Stubber", GOAL)
    figures += _figures(handler_mem_us, floor_mem_us, "in-memory client", None)
    ratio = figures[0].ratio or 0.0
    ctx.say(f"  handler median {fmt(median(handler_us))} us, p95 {fmt(percentile(handler_us, .95))} us; "
            f"floor median {fmt(median(floor_us))} us, p95 {fmt(percentile(floor_us, .95))} us; "
            f"ratio {ratio:.2f}x (goal <= {GOAL}x): {'goal met' if ratio <= GOAL else 'goal missed'}")
    ctx.say(f"  overhead-only view (in-memory events client): handler {fmt(median(handler_mem_us))} us vs "
            f"floor {fmt(median(floor_mem_us))} us = {figures[2].ratio or 0:.2f}x")
    with quiet():
        breakdown(ctx, module, wirings[id(memory)], event, context, body,
                  {**headers, "X-Shopify-Hmac-Sha256": signature}, signature, memory, 300 if ctx.quick else 1000)
    return figures


def _figures(handler_us: list[float], floor_us: list[float], client: str, goal: float | None) -> list[Figure]:
    return [
        Figure(NAME, f"handler median ({client})", median(handler_us), "us", median(floor_us),
               "floor median", goal),
        Figure(NAME, f"handler p95 ({client})", percentile(handler_us, .95), "us", percentile(floor_us, .95),
               "floor p95"),
    ]
