"""moto in-process with the deployment's resources provisioned from infra.topology."""
from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from synchub.runtime.config import DeploymentConfig
from synchub.runtime.wiring import Wiring

from infra.local.provision import LocalResources, provision

SHOPIFY_SECRET = "shpss_integration_secret"
WOO_SECRET = "wc_integration_secret"

CONFIG = DeploymentConfig.model_validate({
    "stage": "test",
    "connections": [
        {"id": "main", "vendor": "shopify", "secret_name": "test/store/main",
         "settings": {"domain": "synchub-demo.myshopify.com", "locations": {"WH": "gid://shopify/Location/1"}}},
        {"id": "eu", "vendor": "woocommerce", "secret_name": "test/store/eu",
         "settings": {"domain": "https://eu.shop.example", "locations": {"WH": "default"}}},
        {"id": "crm", "vendor": "hubspot", "secret_name": "test/crm"},
        {"id": "erp", "vendor": "tryton", "secret_name": "test/erp",
         "settings": {"url": "http://127.0.0.1:1", "database": "synchub"}},
    ],
})


class Aws:
    def __init__(self) -> None:
        self.dynamodb = boto3.resource("dynamodb")
        self.sqs = boto3.client("sqs")
        self.events = boto3.client("events")
        self.s3 = boto3.client("s3")
        self.resources: LocalResources = provision(
            CONFIG, dynamodb=self.dynamodb, sqs=self.sqs, events=self.events,
            secretsmanager=boto3.client("secretsmanager"), ssm=boto3.client("ssm"), s3=self.s3,
            secrets={"test/store/main": {"webhook_secret": SHOPIFY_SECRET, "access_token": "shpat_test"},
                     "test/store/eu": {"webhook_secret": WOO_SECRET, "consumer_key": "ck", "consumer_secret": "cs"},
                     "test/crm": {"access_token": "pat-test"}, "test/erp": {"username": "admin", "password": "x"}})

    def wiring(self, flow: str, **ports) -> Wiring:
        return Wiring(settings_=self.resources.settings(flow, CONFIG), config=CONFIG, dynamodb=self.dynamodb,
                      events=self.events, sqs=self.sqs, s3=self.s3, **ports)

    def drain(self, queue_url: str) -> list[dict]:
        """Every message on a queue (received and deleted), with attributes."""
        messages: list[dict] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                             MessageAttributeNames=["All"], AttributeNames=["All"]).get("Messages", [])
            if not batch:
                return messages
            messages.extend(batch)
            for message in batch:
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def sqs_event(self, messages: list[dict], flow: str) -> dict:
        """What Lambda's event source mapping hands the function for these messages."""
        arn = self.sqs.get_queue_attributes(QueueUrl=self.resources.queue_urls[flow],
                                            AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return {"Records": [{
            "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": message.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "eu-west-1",
        } for message in messages]}


@pytest.fixture
def aws():
    with mock_aws():
        yield Aws()
