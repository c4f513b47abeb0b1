"""Moves a flow's parked messages back to its queue once the cause is fixed (operators, `synchub redrive`).

Each parked message is the original bus event, so the flow handles it again as it first would; the
idempotency record of a failed attempt is gone and the version claim allows the same version, so
a redriven event is applied once and a redrive run twice changes nothing more.

A message SQS itself moved after maxReceiveCount receives carries no `reason` attribute: the flow
never got to park it, so it kept failing until it ran out of receives. It counts as
`retries_exhausted`, the reason the flow gives when it parks a message at the end of its budget.
"""
from __future__ import annotations

from typing import Any

MOVED_BY_SQS = "retries_exhausted"  # the reason of a parked message that has none of its own


def parked_reason(message: dict[str, Any]) -> str:
    return str(message.get("MessageAttributes", {}).get("reason", {}).get("StringValue") or MOVED_BY_SQS)


def redrive(sqs: Any, *, dlq_url: str, queue_url: str, reason: str | None = None, limit: int = 10_000) -> int:
    """Move up to `limit` messages (only those parked with `reason`, when given); returns how many moved."""
    moved = 0
    skipped: list[str] = []
    while moved < limit:
        messages = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       MessageAttributeNames=["All"], VisibilityTimeout=30).get("Messages", [])
        if not messages:
            break
        for message in messages:
            if reason is not None and parked_reason(message) != reason:
                skipped.append(message["ReceiptHandle"])
                continue
            sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
        if len(skipped) >= limit:
            break
    for handle in skipped:  # what we did not move is visible again at once, still parked
        sqs.change_message_visibility(QueueUrl=dlq_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return moved
