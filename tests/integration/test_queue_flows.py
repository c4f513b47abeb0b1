"""Flow functions against moto: idempotency table, DLQ routing with reasons, partial batch failures."""
from __future__ import annotations

import json

from tests.eventdata import load_event, sign_shopify
from tests.fakes import FakeCrm, FakeErp
from tests.handlers import load_handler
from tests.integration.conftest import SHOPIFY_SECRET
from tests.integration.test_ingest_handler import api_event, invoke
from tests.unit.test_order_flows import DEMO_PRODUCTS


def deliver(aws, lambda_context, name: str, times: int = 1) -> None:
    body, headers = load_event(f"shopify/{name}")
    for _ in range(times):
        signed = {**headers, "X-Shopify-Hmac-Sha256": sign_shopify(body, SHOPIFY_SECRET)}
        assert invoke(aws, api_event("main", "shopify", body, signed), lambda_context)["statusCode"] == 200


def run_flow(aws, lambda_context, flow: str, **ports) -> dict:
    messages = aws.drain(aws.resources.queue_urls[flow])
    handler = load_handler(flow).lambda_handler
    return handler(aws.sqs_event(messages, flow), lambda_context, wiring=aws.wiring(flow, **ports))


def test_three_deliveries_of_one_webhook_give_one_sales_order(aws, lambda_context):
    erp = FakeErp(products=DEMO_PRODUCTS)
    deliver(aws, lambda_context, "orders_create", times=3)

    response = run_flow(aws, lambda_context, "order_to_erp", erp=erp)

    assert response == {"batchItemFailures": []}
    assert len(erp.sales) == 1
    assert erp.calls.count("create_sales_order") == 1


def test_unknown_sku_lands_in_the_flow_dlq_with_reason_and_sku(aws, lambda_context):
    deliver(aws, lambda_context, "orders_create_unknown_sku")

    response = run_flow(aws, lambda_context, "order_to_erp", erp=FakeErp(products=DEMO_PRODUCTS))

    assert response == {"batchItemFailures": []}  # parked, not retried in a loop
    [parked] = aws.drain(aws.resources.dlq_urls["order_to_erp"])
    assert parked["MessageAttributes"]["reason"]["StringValue"] == "unknown_sku"
    detail = json.loads(parked["MessageAttributes"]["detail"]["StringValue"])
    assert detail["skus"] and not set(detail["skus"]) & set(DEMO_PRODUCTS)
    assert json.loads(parked["Body"])["detail-type"] == "order.created"  # the whole event, ready for redrive


def test_crm_outage_fails_only_crm_records_and_the_erp_order_goes_through(aws, lambda_context):
    erp, crm = FakeErp(products=DEMO_PRODUCTS), FakeCrm()
    crm.down = True
    deliver(aws, lambda_context, "orders_create")

    crm_response = run_flow(aws, lambda_context, "order_to_crm", crm=crm)
    erp_response = run_flow(aws, lambda_context, "order_to_erp", erp=erp)

    assert len(crm_response["batchItemFailures"]) == 1
    assert erp_response == {"batchItemFailures": []}
    assert len(erp.sales) == 1
    assert aws.drain(aws.resources.dlq_urls["order_to_crm"]) == []  # transient: back to the queue, not parked


def test_garbage_on_a_flow_queue_is_parked_as_invalid_envelope(aws, lambda_context):
    aws.sqs.send_message(QueueUrl=aws.resources.queue_urls["order_to_erp"], MessageBody="not an event")

    response = run_flow(aws, lambda_context, "order_to_erp", erp=FakeErp())

    assert response == {"batchItemFailures": []}
    [parked] = aws.drain(aws.resources.dlq_urls["order_to_erp"])
    assert parked["MessageAttributes"]["reason"]["StringValue"] == "invalid_envelope"


class ThrottledCrm(FakeCrm):
    """A CRM answering 429 with Retry-After: 1."""

    def upsert_contacts(self, customers):
        from synchub.errors import TransientError

        raise TransientError("HTTP 429", retry_after=1, reason="throttled")


def test_a_throttled_record_comes_back_when_the_vendor_said_not_after_the_visibility_timeout(aws, lambda_context):
    import time

    deliver(aws, lambda_context, "orders_create")
    url = aws.resources.queue_urls["order_to_crm"]
    messages = aws.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]

    response = load_handler("order_to_crm").lambda_handler(
        aws.sqs_event(messages, "order_to_crm"), lambda_context, wiring=aws.wiring("order_to_crm", crm=ThrottledCrm()))

    assert len(response["batchItemFailures"]) == 1
    assert aws.sqs.receive_message(QueueUrl=url).get("Messages") is None  # not before Retry-After
    time.sleep(1.5)
    [again] = aws.sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]  # the queue's own
    assert again["Body"] == messages[0]["Body"]  # visibility timeout is 181 s: this is the vendor's 1 s
