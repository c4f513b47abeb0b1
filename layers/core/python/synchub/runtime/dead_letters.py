"""Parks a message that cannot succeed in its flow's DLQ, with a machine-readable reason."""
from __future__ import annotations

import json
from typing import Any


class DeadLetterParking:
    def __init__(self, client: Any, queue_url: str, flow: str) -> None:
        self.client = client
        self.queue_url = queue_url
        self.flow = flow

    def park(self, body: str, reason: str, detail: dict[str, Any] | None = None) -> None:
        attributes = {
            "reason": {"DataType": "String", "StringValue": reason},
            "flow": {"DataType": "String", "StringValue": self.flow},
        }
        if detail:
            attributes["detail"] = {"DataType": "String", "StringValue": json.dumps(detail, default=str)[:4000]}
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=body, MessageAttributes=attributes)
