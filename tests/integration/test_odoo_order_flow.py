"""The order flow with Odoo as the ERP, through the wiring of a local config (infra/config/local-odoo.json):
signed Shopify webhooks in, the real ingest and order_to_erp handlers on moto, the Odoo sandbox behind."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import boto3
import httpx
import pytest
from moto import mock_aws
from synchub.connectors.shopify.mapping import ShopifyPayloads
from synchub.runtime.config import DeploymentConfig
from synchub.runtime.wiring import Wiring

from infra.local.provision import provision
from infra.local.sandboxes.odoo import create_app
from tests.eventdata import load_event, load_json, sign_shopify
from tests.handlers import load_handler
from tests.integration.test_ingest_handler import api_event

ROOT = Path(__file__).resolve().parents[2]
CONFIG = DeploymentConfig.from_file(ROOT / "infra" / "config" / "local-odoo.json")
WEBHOOK_SECRET = "shpss_odoo_flow"
API_KEY = "odoo-flow-key"


class OdooStage:
    """moto with the local-odoo config's resources, and an Odoo sandbox in place of the ERP's server."""

    def __init__(self, api: str) -> None:
        self.config = CONFIG.model_copy(update={"connections": tuple(
            c.model_copy(update={"settings": c.settings.model_copy(update={"api": api})}) if c.id == "erp" else c
            for c in CONFIG.connections)})
        self.odoo = create_app(API_KEY, database="synchub", login="admin", version=19 if api == "json2" else 17)
        self.sqs, self.events, self.dynamodb, self.s3 = (boto3.client("sqs"), boto3.client("events"),
                                                         boto3.resource("dynamodb"), boto3.client("s3"))
        self.resources = provision(
            self.config, dynamodb=self.dynamodb, sqs=self.sqs, events=self.events,
            secretsmanager=boto3.client("secretsmanager"), ssm=boto3.client("ssm"), s3=self.s3,
            secrets={"synchub/local/store/main": {"webhook_secret": WEBHOOK_SECRET, "access_token": "shpat_x"},
                     "synchub/local/store/eu": {"webhook_secret": "wc", "consumer_key": "ck", "consumer_secret": "cs"},
                     "synchub/local/crm": {"access_token": "pat-x"}, "synchub/local/erp": {"api_key": API_KEY}})

    def wiring(self, flow: str) -> Wiring:
        erp_http = httpx.Client(base_url="http://127.0.0.1", transport=httpx.WSGITransport(app=self.odoo))
        return Wiring(settings_=self.resources.settings(flow, self.config), config=self.config,
                      dynamodb=self.dynamodb, events=self.events, sqs=self.sqs, s3=self.s3,
                      http_clients={"erp": erp_http})

    def deliver(self, name: str, lambda_context, times: int = 1) -> None:
        body, headers = load_event(f"shopify/{name}")
        signed = {**headers, "X-Shopify-Hmac-Sha256": sign_shopify(body, WEBHOOK_SECRET)}
        for _ in range(times):
            answer = load_handler("ingest").lambda_handler(api_event("main", "shopify", body, signed), lambda_context,
                                                           wiring=self.wiring("ingest"))
            assert answer["statusCode"] == 200

    def run(self, flow: str, lambda_context) -> dict:
        url = self.resources.queue_urls[flow]
        messages = []
        while batch := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                                                WaitTimeSeconds=0).get("Messages", []):
            messages += batch
            for message in batch:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                              "attributes": m.get("Attributes", {}), "messageAttributes": {},
                              "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": arn,
                              "awsRegion": "eu-west-1"} for m in messages]}
        assert event["Records"], f"nothing on the {flow} queue"
        return load_handler(flow).lambda_handler(event, lambda_context, wiring=self.wiring(flow))

    def parked(self, flow: str) -> list[dict]:
        return self.sqs.receive_message(QueueUrl=self.resources.dlq_urls[flow], MaxNumberOfMessages=10,
                                        MessageAttributeNames=["All"]).get("Messages", [])


@pytest.fixture(params=["json2", "jsonrpc"])
def stage(request):
    with mock_aws():
        yield OdooStage(request.param)


def test_the_local_odoo_config_deploys_the_same_flows_as_tryton_s() -> None:
    from infra import topology

    erp = CONFIG.erp
    assert erp is not None and erp.vendor == "odoo"
    tryton = DeploymentConfig.from_file(ROOT / "infra" / "config" / "local.json")
    assert [queue.flow for queue in topology.flow_queues(CONFIG)] == [
        queue.flow for queue in topology.flow_queues(tryton)]
    assert {"order_to_erp", "customer_to_erp"} <= {queue.flow for queue in topology.flow_queues(CONFIG)}
    assert [job.schedule for job in topology.scheduled_jobs(CONFIG)] == [job.schedule for job in topology.scheduled_jobs(tryton)]


def test_two_deliveries_of_a_shopify_order_give_one_confirmed_sale_order_with_the_stores_total(stage, lambda_context):
    stage.deliver("orders_create", lambda_context, times=2)

    assert stage.run("order_to_erp", lambda_context) == {"batchItemFailures": []}

    order = ShopifyPayloads().order("main", load_json("shopify/orders_create"))
    [sale] = stage.odoo.records("sale.order")
    assert sale["client_order_ref"] == order.store_reference and sale["state"] == "sale"
    assert Decimal(str(sale["amount_total"])) == order.total.amount
    [partner] = stage.odoo.records("res.partner")
    assert sale["partner_id"] == partner["id"] and partner["ref"]
    skus = {stage.odoo.records("product.product", [["id", "=", line["product_id"]]])[0]["default_code"]
            for line in stage.odoo.sale_lines(sale["id"])}
    assert set(order.skus) <= skus
    reserved = {q["product_id"]: q["reserved_quantity"] for q in stage.odoo.records("stock.quant")
                if q["reserved_quantity"]}
    assert reserved  # the confirmed sale reserved its goods


def test_an_expired_odoo_key_parks_the_order_with_the_credentials_reason(stage, lambda_context):
    stage.odoo.expire_key(API_KEY)
    stage.deliver("orders_create", lambda_context)

    answer = stage.run("order_to_erp", lambda_context)

    assert answer == {"batchItemFailures": []}  # parked, not retried
    [parked] = stage.parked("order_to_erp")
    assert "erp_credentials_expired" in str(parked["MessageAttributes"])
    assert stage.odoo.records("sale.order") == []


def test_synchub_local_erp_picks_the_local_config_whose_erp_is_that_vendor() -> None:
    from infra.local.runner import DEFAULT_CONFIG, local_config

    assert local_config() == DEFAULT_CONFIG
    assert local_config(DeploymentConfig.from_file(DEFAULT_CONFIG).erp.vendor) == DEFAULT_CONFIG  # type: ignore[union-attr]
    odoo = local_config("odoo")
    assert odoo.name == "local-odoo.json" and DeploymentConfig.from_file(odoo).erp.vendor == "odoo"  # type: ignore[union-attr]
    with pytest.raises(LookupError, match=r"local-no-such-erp\.json"):
        local_config("no-such-erp")
