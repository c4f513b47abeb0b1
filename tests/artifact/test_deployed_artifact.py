"""The artifact that deploys is the artifact that is tested.

Every function of the synthesised stack runs from its staged code asset and layers (deps layer built for
this host from the same pins) in a clean `python -I -S` holding only those and the runtime's boto3, on a
representative event, against local mode (moto server, the real Tryton, the vendor sandboxes). The events
are the ones the system itself produced: ingest's webhooks put them on the bus, the schedules publish
theirs, and each queue-fed function gets what arrived on its queue. A dependency missing from the layer,
or a handler importing a development-only package, fails here as it would on Lambda.
"""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from synchub.catalog import FLOWS, SCHEDULES

from infra import topology
from infra.local.runner import DEFAULT_CONFIG, LocalMode
from tests.artifact.lambda_artifact import (
    PackagedFunction,
    Run,
    host_deps_layer,
    run_packaged,
    runtime_site,
    synthesise,
)
from tests.eventdata import load_event, sign_shopify

pytestmark = pytest.mark.e2e  # needs local mode: moto server, Tryton, sandboxes
ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(path.name for path in (ROOT / "functions").iterdir() if (path / "handler.py").is_file())


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> dict[str, PackagedFunction]:
    started = time.monotonic()
    deps = host_deps_layer()
    built = time.monotonic()
    functions = synthesise(tmp_path_factory.mktemp("cdk.out"), deps)
    print(f"\nartifact: deps layer {built - started:.1f} s ({deps}), synth {time.monotonic() - built:.1f} s")
    return {function.flow: function for function in functions}


@pytest.fixture(scope="module")
def local(tryton_server, tmp_path_factory) -> Iterator[LocalMode]:
    # Its own stage and secret names: moto's servers in one process share their state, and the e2e tests'
    # local mode (stage "local") must not inherit this module's queues, messages and mappings.
    data_dir = tmp_path_factory.mktemp("synchub-artifact")
    config = json.loads(DEFAULT_CONFIG.read_text().replace("synchub/local/", "synchub/artifact/"))
    config["stage"] = "artifact"
    (data_dir / "config.json").write_text(json.dumps(config))
    mode = LocalMode(data_dir=data_dir, base_port=0, start_ticks=False, reuse={"tryton": tryton_server},
                     config_path=data_dir / "config.json")
    mode.start()
    mode.pause_pumps()  # the packaged functions take the queues' messages, not the in-process handlers
    try:
        yield mode
    finally:
        mode.stop()


@pytest.fixture(scope="module")
def invoke(artifact, local, tmp_path_factory):
    runtime = runtime_site()
    workdir = tmp_path_factory.mktemp("lambda")

    def run(flow: str, events: list[dict]) -> Run:
        resources = local.resources
        environment = topology.function_environment(
            stage=local.config.stage, flow=flow, state_table=resources.state_table,
            idempotency_table=resources.idempotency_table, bus_name=resources.bus_name,
            dlq_url=resources.ingest_dlq_url if flow == topology.INGEST else resources.dlq_urls[flow],
            config_parameter=resources.config_parameter,
            payload_bucket=resources.payload_bucket if flow in resources.payload_readers else None)
        environment.update({"AWS_ENDPOINT_URL": local.aws_endpoint, "AWS_REGION": "us-east-1",
                            "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local",
                            "AWS_SECRET_ACCESS_KEY": "local"})
        done = run_packaged(artifact[flow], events, runtime=runtime, environment=environment, workdir=workdir)
        assert done.returncode == 0, f"{flow} failed in the packaged artifact:\n{done.stderr[-4000:]}"
        assert done.foreign == [], f"{flow} loaded modules from outside its artifact: {done.foreign}"
        return done

    return run


def test_the_stack_packages_every_function_of_the_catalogue(artifact):
    assert sorted(artifact) == FUNCTIONS
    assert set(FUNCTIONS) == {topology.INGEST, *(flow.name for flow in FLOWS), *(job.name for job in SCHEDULES)}
    for function in artifact.values():
        assert (function.code / "handler.py").is_file() and not list(function.code.rglob("__pycache__"))
        assert [sorted(path.name for path in (layer / "python").iterdir())[:1] for layer in function.layers]
        assert any((layer / "python" / "synchub").is_dir() for layer in function.layers)


def _webhook(local: LocalMode, sample: str, **changes) -> dict:
    body, headers = load_event(f"shopify/{sample}")
    payload = {**json.loads(body), **changes}
    raw = json.dumps(payload).encode()
    secret = local.info["stores"]["main"]["webhook_secret"]
    template = json.loads((ROOT / "events/apigw/webhook_request.json").read_text())
    return {**template, "headers": {**template["headers"], **headers, "X-Shopify-Hmac-Sha256": sign_shopify(raw, secret),
                                    "X-Shopify-Event-Id": str(uuid.uuid4())},
            "body": raw.decode(), "isBase64Encoded": False}


def _queued(local: LocalMode, flow: str, limit: int = 10) -> dict:
    """What the event source mapping would hand `flow`: the messages on its queue, as an SQS event."""
    url = local.resources.queue_urls[flow]
    arn = local.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    messages = local.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=limit, WaitTimeSeconds=1,
                                         AttributeNames=["All"]).get("Messages", [])
    return {"Records": [{
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": message.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1",
    } for message in messages]}


def logged_errors(stdout: str) -> str:
    """The function's WARNING and ERROR log lines (Powertools JSON) with their errors: why a record failed."""
    lines = []
    for line in stdout.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("level") in {"WARNING", "ERROR"}:
            lines.append(f"{record.get('level')} {record.get('message')}: error={record.get('error')} "
                         f"reason={record.get('reason')} {record.get('exception', '')}".strip())
    return "\n".join(lines[-5:]) or stdout[-2000:]


def _dlq_depth(local: LocalMode, flow: str) -> int:
    attributes = local.sqs.get_queue_attributes(QueueUrl=local.resources.dlq_urls[flow],
                                                AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def test_every_packaged_function_runs_its_representative_event_in_a_clean_interpreter(artifact, local, invoke,
                                                                                     tryton_erp):
    def run_queued(flow: str) -> None:
        event = _queued(local, flow, limit=min(10, next(spec.batch_size for spec in FLOWS if spec.name == flow)))
        assert event["Records"], f"nothing reached {flow}'s queue to run it on"
        done = invoke(flow, [event])
        answer = done.results[0]
        assert answer == {"batchItemFailures": []}, f"{flow}: {answer}; its log says:\n{logged_errors(done.stdout)}"
        assert _dlq_depth(local, flow) == 0, f"{flow} parked its representative event"

    order_id, customer_id = 8_100_000_000_000 + int(time.time()) % 10**6, 8_200_000_000_000 + int(time.time()) % 10**6
    placed, _ = load_event("shopify/orders_create")
    local.shopify.add_order({**json.loads(placed), "id": order_id, "name": f"#A{order_id}"})  # the store has it
    webhooks = [_webhook(local, "orders_create", id=order_id, name=f"#A{order_id}"),
                _webhook(local, "customers_create", id=customer_id, email=f"artifact.{customer_id}@example.com"),
                _webhook(local, "inventory_levels_update")]
    ingest = invoke("ingest", webhooks)
    assert [(answer["statusCode"], json.loads(answer["body"])["outcome"]) for answer in ingest.results] == \
        [(200, "accepted")] * 3

    ran = {"ingest"}
    invoke("poll_erp_stock", [{}])  # publishes the ERP's stock, which inventory_push takes
    ran.add("poll_erp_stock")
    for flow in ("customer_to_crm", "customer_to_erp", "order_to_erp", "order_to_crm", "store_stock_watch",
                 "inventory_push", "payment_to_erp"):  # payment_to_erp: order.created, nothing captured yet
        run_queued(flow)
        ran.add(flow)

    # The warehouse ships the sale in Tryton; the packaged poll publishes it and shipment_to_store fulfils it.
    from infra.local.vendors.tryton_warehouse import ship

    [sale_id] = tryton_erp.client.model("sale.sale", "search", [("reference", "=", f"main:{order_id}")], 0, 1, None)
    # The shared test ERP holds other tests' recent shipments: a first poll takes them past the watermark, and
    # what it queued (orders this store never had) is dropped, so the next poll carries this order's alone.
    invoke("poll_erp_shipments", [{}])
    local.sqs.purge_queue(QueueUrl=local.resources.queue_urls["shipment_to_store"])
    ship(tryton_erp.client, sale_id, carrier="UPS", reference=f"1ZART{order_id % 10**8}")
    invoke("poll_erp_shipments", [{}])
    run_queued("shipment_to_store")
    assert local.shopify.order(order_id)["fulfillment_status"] == "fulfilled"
    # The store's fulfilment webhook (ERP master: an echo the flow skips) and a refund (a posted credit note).
    assert [answer["statusCode"] for answer in invoke("ingest", [
        _webhook(local, "fulfillments_create", order_id=order_id),
        _webhook(local, "refunds_create", order_id=order_id, id=order_id + 7)]).results] == [200, 200]
    for flow in ("fulfilment_to_erp", "refund_to_erp"):
        run_queued(flow)
    ran |= {"poll_erp_shipments", "shipment_to_store", "fulfilment_to_erp", "refund_to_erp"}

    location = local.config.stores[0].settings.locations["WH"]
    drifted = local.shopify.available("MUG-CER-01", location) + 7
    local.shopify.set_available("MUG-CER-01", location, drifted)  # drift behind SyncHub's back
    plan = invoke("reconcile_inventory", [{}]).results[0]
    assert plan["drifted"] >= 1 and not plan["dry_run"]
    run_queued("reconcile_inventory_chunk")
    ran |= {"reconcile_inventory", "reconcile_inventory_chunk"}
    assert local.shopify.available("MUG-CER-01", location) != drifted  # the packaged chunk repaired it
    assert ran == set(artifact), f"packaged but never run here: {sorted(set(artifact) - ran)}; give each a " \
        "representative event in this test (a function nobody runs is an artifact nobody tested)"

    # The packaged order_to_erp really reached the real ERP: the order is a confirmed Tryton sale.
    assert tryton_erp.client.model("sale.sale", "search_count", [("description", "=", f"#A{order_id}"),
                                                                 ("state", "in", ["confirmed", "processing"])]) == 1
