"""A retry budget in time against moto's SQS: parking at the end of the budget, and redriving what SQS moved."""
from __future__ import annotations

import json
import time

from click.testing import CliRunner
from synchub.runtime.config import RetrySettings
from synchub.runtime.wiring import Wiring

from infra.cli import main
from tests.fakes import FakeCrm
from tests.handlers import load_handler
from tests.integration.conftest import CONFIG
from tests.integration.test_queue_flows import deliver


def crm_flow(aws, config, crm) -> Wiring:
    return Wiring(settings_=aws.resources.settings("order_to_crm", config), config=config, dynamodb=aws.dynamodb,
                  events=aws.events, sqs=aws.sqs, crm=crm)


def receive(aws, queue_url: str, **options) -> list[dict]:
    return aws.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"],
                                   MessageAttributeNames=["All"], **options).get("Messages", [])


def test_an_order_failing_past_its_retry_budget_is_parked_as_retries_exhausted_with_the_last_error(
        aws, lambda_context):
    # A 1-hour budget at 1/10,000 scale: 0.36 s, so the second attempt (1 s later) is past it.
    config = CONFIG.model_copy(update={"retry": RetrySettings(budget_hours=1, time_scale=0.0001)})
    crm = FakeCrm()
    crm.down = True
    deliver(aws, lambda_context, "orders_create")
    queue, dlq = aws.resources.queue_urls["order_to_crm"], aws.resources.dlq_urls["order_to_crm"]
    handler = load_handler("order_to_crm").lambda_handler

    first = receive(aws, queue)
    response = handler(aws.sqs_event(first, "order_to_crm"), lambda_context, wiring=crm_flow(aws, config, crm))
    assert len(response["batchItemFailures"]) == 1  # inside the budget: back to the queue
    assert aws.drain(dlq) == []
    time.sleep(1.2)  # the flow's scaled retry delay, rounded up to SQS's whole second

    second = receive(aws, queue)
    assert len(second) == 1
    response = handler(aws.sqs_event(second, "order_to_crm"), lambda_context, wiring=crm_flow(aws, config, crm))

    assert response == {"batchItemFailures": []}  # parked by the flow, so acknowledged
    [parked] = aws.drain(dlq)
    attributes = {name: value["StringValue"] for name, value in parked["MessageAttributes"].items()}
    assert (attributes["reason"], attributes["flow"]) == ("retries_exhausted", "order_to_crm")
    detail = json.loads(attributes["detail"])
    assert detail["error"] == "TransientError" and detail["receives"] == 2
    assert parked["Body"] == first[0]["Body"]
    assert receive(aws, queue, VisibilityTimeout=0) == []


def test_a_message_sqs_moved_after_max_receives_is_redriven_by_reason_retries_exhausted(aws, lambda_context):
    # The queue's real redrive policy, at two receives; two receives that never reach our code (a crash
    # loop) and SQS moves the message on the third, without any attribute of ours.
    queue, dlq = aws.resources.queue_urls["order_to_crm"], aws.resources.dlq_urls["order_to_crm"]
    dlq_arn = aws.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.sqs.set_queue_attributes(QueueUrl=queue, Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})})
    deliver(aws, lambda_context, "orders_create")
    for _ in range(2):
        assert len(receive(aws, queue, VisibilityTimeout=0)) == 1
    assert receive(aws, queue, VisibilityTimeout=0) == []
    moved = receive(aws, dlq, VisibilityTimeout=0)
    assert len(moved) == 1 and "MessageAttributes" not in moved[0]  # SQS gives it no reason
    aws.sqs.send_message(QueueUrl=dlq, MessageBody='{"parked": "for another reason"}',
                         MessageAttributes={"reason": {"DataType": "String", "StringValue": "unknown_sku"}})

    result = CliRunner().invoke(main, ["redrive", "order_to_crm", "--stage", "test", "--reason", "retries_exhausted"])

    assert result.exit_code == 0, result.output
    assert "moved 1 message(s)" in result.output
    [back] = receive(aws, queue)
    assert back["Body"] == moved[0]["Body"]
    [left] = aws.drain(dlq)
    assert left["MessageAttributes"]["reason"]["StringValue"] == "unknown_sku"  # still parked
