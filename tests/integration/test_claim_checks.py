"""Claim checks against moto: a flow gets back the payload ingest stored, and a payload that is gone
parks the event with `payload_missing` instead of retrying it forever."""
from __future__ import annotations

import json

from synchub.models import EventEnvelope
from synchub.runtime.bus import EventBridgePublisher
from synchub.state.payloads import S3PayloadStore

from tests.eventdata import load_event
from tests.handlers import load_handler


def large_order() -> EventEnvelope:
    payload = json.loads(load_event("shopify/orders_create")[0])
    return EventEnvelope(event_id="e-large", source="shopify", store="main", topic="order.created", entity="order",
                         entity_id=str(payload["id"]), occurred_at="2026-11-23T10:00:00Z",
                         payload={**payload, "note": "x" * 400_000})


def publish(aws, envelope: EventEnvelope) -> None:
    store = S3PayloadStore(aws.s3, aws.resources.payload_bucket)
    EventBridgePublisher(aws.events, aws.resources.bus_name, payloads=store).publish([envelope])


def test_flow_receives_the_claim_checked_payload_intact(aws, lambda_context):
    from synchub.runtime.bus import envelope_from_bus_event

    envelope = large_order()
    publish(aws, envelope)
    [message] = aws.drain(aws.resources.queue_urls["order_to_erp"])
    assert json.loads(message["Body"])["detail"]["payload"] == {}

    loaded = envelope_from_bus_event(message["Body"], S3PayloadStore(aws.s3, aws.resources.payload_bucket))

    assert loaded.payload == envelope.payload and loaded.payload_ref is None


def test_expired_payload_parks_the_event_with_payload_missing(aws, lambda_context):
    publish(aws, large_order())
    messages = aws.drain(aws.resources.queue_urls["order_to_erp"])
    bucket = aws.resources.payload_bucket
    for item in aws.s3.list_objects_v2(Bucket=bucket)["Contents"]:
        aws.s3.delete_object(Bucket=bucket, Key=item["Key"])

    response = load_handler("order_to_erp").lambda_handler(aws.sqs_event(messages, "order_to_erp"), lambda_context,
                                                           wiring=aws.wiring("order_to_erp"))

    assert response == {"batchItemFailures": []}
    [parked] = aws.drain(aws.resources.dlq_urls["order_to_erp"])
    assert parked["MessageAttributes"]["reason"]["StringValue"] == "payload_missing"
