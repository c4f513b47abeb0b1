"""The laptop's Lambda event source mappings and EventBridge Scheduler.

A pump receives a flow queue's messages in batches, invokes the flow handler with an SQS event,
deletes what succeeded and leaves the reported failures on the queue untouched, exactly as on AWS:
a failure comes back after the retry delay the flow set on it (change_message_visibility), else
after the queue's visibility timeout, and SQS's redrive policy moves it to the DLQ after
maxReceiveCount receives. Local mode retries quickly only when its config scales the retry delays.
"""
from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service="synchub-local")
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class LocalContext:
    """The parts of a Lambda context that Powertools reads."""

    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 512
    aws_request_id: str = ""

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_seconds * 1000


class QueuePump:
    def __init__(self, *, sqs: Any, queue_url: str, queue_arn: str, handler: Handler, context: LocalContext,
                 batch_size: int) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.handler = handler
        self.context = context
        self.batch_size = batch_size  # gathered from several receives: ReceiveMessage returns at most 10
        self._stop = threading.Event()
        self.paused = threading.Event()
        self.holding = threading.Event()  # set while paused and not inside an invocation
        self._thread = threading.Thread(target=self._run, name=f"pump-{context.function_name}", daemon=True)
        self.invocations = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.paused.is_set():
                self.holding.set()
                self._stop.wait(0.05)
                continue
            self.holding.clear()
            try:
                self.pump_once(wait_seconds=1)
            except Exception:  # keep pumping; the message stays on the queue
                logger.exception("pump failed", extra={"function": self.context.function_name})
                self._stop.wait(1)

    def pump_once(self, wait_seconds: int = 0) -> int:
        messages = self._receive(wait_seconds)
        if not messages:
            return 0
        event = {"Records": [{
            "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": message.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs", "eventSourceARN": self.queue_arn, "awsRegion": "us-east-1",
        } for message in messages]}
        self.context.aws_request_id = str(uuid.uuid4())
        self.invocations += 1
        try:
            response = self.handler(event, self.context)
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        except Exception:
            logger.exception("function failed", extra={"function": self.context.function_name})
            failed = {message["MessageId"] for message in messages}
        # Delete what succeeded. Like the event source mapping, never touch a failure's visibility:
        # the flow has set its retry delay, and overriding it would retry (and park) too early.
        for message in messages:
            if message["MessageId"] in failed:
                continue
            try:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            except self.sqs.exceptions.ReceiptHandleIsInvalid:
                pass  # someone else received it meanwhile (an operator, a test): it stays on the queue
        return len(messages)


    def _receive(self, wait_seconds: int) -> list[dict[str, Any]]:
        """Up to batch_size messages, as the mapping gathers them: receives of at most 10 until the batch is
        full or the queue has no more visible messages (the batching window, without waiting it out)."""
        messages: list[dict[str, Any]] = []
        while len(messages) < self.batch_size:
            answer = self.sqs.receive_message(QueueUrl=self.queue_url,
                                              MaxNumberOfMessages=min(10, self.batch_size - len(messages)),
                                              WaitTimeSeconds=0 if messages else wait_seconds,
                                              AttributeNames=["All"], MessageAttributeNames=["All"])
            received = answer.get("Messages", [])
            messages.extend(received)
            if not received:
                break
        return messages


RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int | None:
    """Seconds between runs of a rate() expression; None for cron(), which local mode runs on demand."""
    match = RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * UNIT_SECONDS[match.group(2).rstrip("s")]


class ScheduleTick:
    def __init__(self, name: str, every_seconds: int, run: Callable[[], Any]) -> None:
        self.name = name
        self.every_seconds = every_seconds
        self.run = run
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"tick-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.every_seconds):
            try:
                self.run()
            except Exception:
                logger.exception("scheduled run failed", extra={"schedule": self.name})
