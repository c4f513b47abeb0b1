"""order_to_crm over one SQS batch through its Lambda handler, against moto and the HubSpot sandbox: a batch
of orders costs a handful of HubSpot calls, and a HubSpot 207 that refuses one input fails that record only."""
from __future__ import annotations

import json

import httpx
import pytest

from infra.local.sandboxes.hubspot import create_app
from tests.burst import OrderBurst, bus_body
from tests.handlers import load_handler

TOKEN = "pat-test"  # the integration config's CRM secret


class Portal:
    """The HubSpot sandbox with the API calls SyncHub made to it."""

    def __init__(self) -> None:
        self.app = create_app(TOKEN)
        self.calls: list[str] = []

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.WSGITransport(app=self.app),
                            event_hooks={"request": [lambda request: self.calls.append(
                                f"{request.method} {request.url.path}")]})


def queue_batch(aws, burst: OrderBurst, count: int) -> dict:
    """`count` orders put on the order_to_crm queue and received as one batch of the event source mapping."""
    url = aws.resources.queue_urls["order_to_crm"]
    envelopes = list(burst.envelopes(count))
    for start in range(0, count, 10):
        aws.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": bus_body(e)} for i, e in enumerate(envelopes[start:start + 10])])
    messages = aws.drain(url)
    assert len(messages) == count
    return aws.sqs_event(messages, "order_to_crm")


def run(aws, lambda_context, event: dict, portal: Portal) -> dict:
    handler = load_handler("order_to_crm").lambda_handler
    return handler(event, lambda_context, wiring=aws.wiring("order_to_crm", http_clients={"crm": portal.client()}))


@pytest.fixture
def burst() -> OrderBurst:
    return OrderBurst(orders_per_customer=2)


def test_fifty_orders_in_one_sqs_batch_cost_at_most_five_hubspot_calls_and_make_fifty_associated_deals(
        aws, lambda_context, burst):
    portal = Portal()

    response = run(aws, lambda_context, queue_batch(aws, burst, 50), portal)

    assert response == {"batchItemFailures": []}
    assert len(portal.calls) <= 5, portal.calls  # contacts, deals, associations (+ the deal property, once)
    contacts = {c["properties"]["email"]: c["id"] for c in portal.app.objects("contacts")}
    deals = {d["properties"]["synchub_order_ref"]: d["id"] for d in portal.app.objects("deals")}
    assert len(contacts) == 25 and len(deals) == 50
    for index in range(50):
        deal_id = deals[burst.reference(index)]
        assert portal.app.associated_ids("deals", deal_id, "contacts") == [contacts[burst.email(index)]]
    assert aws.drain(aws.resources.dlq_urls["order_to_crm"]) == []


def test_the_same_batch_delivered_again_makes_no_hubspot_call(aws, lambda_context, burst):
    portal = Portal()
    event = queue_batch(aws, burst, 20)
    run(aws, lambda_context, event, portal)
    calls = len(portal.calls)

    assert run(aws, lambda_context, event, portal) == {"batchItemFailures": []}
    assert len(portal.calls) == calls  # every record recognised as a duplicate (idempotency table)
    assert len(portal.app.objects("deals")) == 20


def test_hubspot_refusing_one_deal_parks_that_record_alone_and_a_retryable_refusal_retries_it_alone(
        aws, lambda_context, burst):
    portal = Portal()
    portal.app.refuse_input("deals", burst.reference(2))
    portal.app.refuse_input("deals", burst.reference(5), category="INTERNAL_ERROR", code="INTERNAL_ERROR")
    event = queue_batch(aws, burst, 10)

    response = run(aws, lambda_context, event, portal)

    retried = [event["Records"][5]["messageId"]]
    assert response == {"batchItemFailures": [{"itemIdentifier": m} for m in retried]}
    [parked] = aws.drain(aws.resources.dlq_urls["order_to_crm"])
    assert parked["MessageAttributes"]["reason"]["StringValue"] == "crm_deal_rejected"
    assert json.loads(parked["Body"])["detail"]["entity_id"] == str(burst.base + 2)
    written = {d["properties"]["synchub_order_ref"] for d in portal.app.objects("deals")}
    assert written == {burst.reference(i) for i in range(10)} - {burst.reference(2), burst.reference(5)}

    portal.app.accept_input("deals", burst.reference(5))  # HubSpot recovered: the retried record goes through
    again = run(aws, lambda_context, {"Records": [event["Records"][5]]}, portal)
    assert again == {"batchItemFailures": []}
    assert burst.reference(5) in {d["properties"]["synchub_order_ref"] for d in portal.app.objects("deals")}
