"""A burst of distinct store orders made from the published Shopify orders/create sample (events/shopify):
new order ids, names and totals, and customers placing one or more orders each. Used by the CRM batching
tests and the flash-sale benchmark."""
from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from synchub.connectors.shopify.webhooks import ShopifyWebhooks
from synchub.models import EventEnvelope

from tests.eventdata import load_event


class OrderBurst:
    """Order `index` belongs to customer `index // orders_per_customer`; every run makes new ids."""

    def __init__(self, store: str = "main", *, orders_per_customer: int = 1, run: str | None = None,
                 base: int = 8_000_000_000_000) -> None:
        body, self.headers = load_event("shopify/orders_create")
        self.template = json.loads(body)
        self.store = store
        self.run = run or uuid.uuid4().hex[:6]
        self.base = base + int(self.run, 16) % 100_000 * 100_000
        self.orders_per_customer = orders_per_customer

    def email(self, index: int) -> str:
        return f"buyer.{self.run}.{index // self.orders_per_customer}@example.com"

    def payload(self, index: int) -> dict[str, Any]:
        order = copy.deepcopy(self.template)
        customer_id = self.base + 50_000 + index // self.orders_per_customer
        total = Decimal(order["total_price"]) + index % 7
        email = self.email(index)
        order.update({"id": self.base + index, "admin_graphql_api_id": f"gid://shopify/Order/{self.base + index}",
                      "name": f"#F{self.run}-{index}", "order_number": 200_000 + index, "number": 200_000 + index,
                      "email": email, "contact_email": email, "total_price": str(total),
                      "current_total_price": str(total)})
        order["customer"] = {**order["customer"], "id": customer_id, "email": email,
                             "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}"}
        return order

    def webhook(self, index: int) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(self.payload(index)).encode()
        headers = {**self.headers, "X-Shopify-Webhook-Id": str(uuid.uuid4()), "X-Shopify-Event-Id": str(uuid.uuid4()),
                   "X-Shopify-Order-Id": str(self.base + index)}
        return body, headers

    def envelope(self, index: int) -> EventEnvelope:
        body, headers = self.webhook(index)
        decision = ShopifyWebhooks().decode(self.store, headers, body)
        assert decision.envelope is not None, decision.reason
        return decision.envelope

    def envelopes(self, count: int, start: int = 0) -> Iterator[EventEnvelope]:
        return (self.envelope(index) for index in range(start, start + count))

    def reference(self, index: int) -> str:
        return f"{self.store}:{self.base + index}"


def bus_body(envelope: EventEnvelope) -> str:
    """The body an SQS flow queue carries: the EventBridge event whose detail is the envelope."""
    return json.dumps({"version": "0", "id": str(uuid.uuid4()), "detail-type": envelope.topic, "source": "synchub",
                       "account": "000000000000", "time": "2025-11-20T14:14:03Z", "region": "eu-west-1",
                       "resources": [], "detail": json.loads(envelope.model_dump_json())})
