"""Issue 2 end to end: local mode up, signed webhooks reach the subscribed queues, forged ones nothing."""
from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import sample

pytestmark = pytest.mark.e2e


def arrived(local, flow: str) -> list[dict]:
    """Messages waiting on a flow queue (left in place: visibility 0)."""
    return local.sqs.receive_message(QueueUrl=local.resources.queue_urls[flow], MaxNumberOfMessages=10,
                                     VisibilityTimeout=0, WaitTimeSeconds=1).get("Messages", [])


@pytest.fixture
def held(local_mode):
    local_mode.pause_pumps()
    local_mode.wait_idle(30)
    yield local_mode
    for url in local_mode.resources.queue_urls.values():  # what a test left behind is not for the flows
        while messages := local_mode.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                local_mode.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    local_mode.resume_pumps()


def test_local_json_tells_a_client_how_to_reach_everything(local_mode):
    info = local_mode.info
    assert info["stores"]["main"]["webhook_secret"] and info["stores"]["eu"]["webhook_secret"]
    assert info["erp"]["url"].startswith("http://127.0.0.1:") and info["hubspot"]["access_token"]
    assert (local_mode.data_dir / "local.json").stat().st_mode & 0o077 == 0  # secrets: owner only


def test_signed_shopify_order_arrives_on_both_order_flow_queues(held, shopify_store, new_order_id):
    payload, headers = sample("shopify/orders_create", id=new_order_id())
    assert shopify_store.send(payload, headers) == [200]

    for flow in ("order_to_erp", "order_to_crm"):
        [message] = arrived(held, flow)
        assert json.loads(message["Body"])["detail"]["entity_id"] == str(payload["id"])
    assert arrived(held, "customer_to_crm") == [] and arrived(held, "inventory_push") == []


def test_signed_woocommerce_customer_arrives_on_both_customer_flow_queues(held, woo_store):
    payload, headers = sample("woocommerce/customer_created", id=987654)
    assert woo_store.send(payload, headers) == [200]

    for flow in ("customer_to_crm", "customer_to_erp"):
        [message] = arrived(held, flow)
        assert json.loads(message["Body"])["detail"]["entity_id"] == "987654"
    assert arrived(held, "order_to_erp") == []


def test_forged_webhook_is_rejected_and_absent_everywhere(held, shopify_store, new_order_id):
    payload, headers = sample("shopify/orders_create", id=new_order_id())
    assert shopify_store.send(payload, headers, secret="forged-secret") == [401]

    assert all(arrived(held, flow) == [] for flow in held.resources.queue_urls)
    assert held.status()["ingest_dlq"] == 0
