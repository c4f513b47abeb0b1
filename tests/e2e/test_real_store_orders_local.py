"""Issue 9, the orders real stores send, against the real Tryton: blank-SKU catalogue lines and test orders."""
from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import sample
from tests.e2e.test_orders_local import deals, erp

pytestmark = pytest.mark.e2e

SHOPIFY_SAMPLE = "shopify/orders_create_test_notification"  # Shopify's published test notification body


def parked(local, flow: str, order_id: int) -> list[dict]:
    messages = local.sqs.receive_message(QueueUrl=local.resources.dlq_urls[flow], MaxNumberOfMessages=10,
                                         MessageAttributeNames=["All"], VisibilityTimeout=0).get("Messages", [])
    return [m for m in messages if str(order_id) in m["Body"]]


def test_a_live_order_of_blank_sku_catalogue_lines_is_parked_as_missing_sku(local_mode, shopify_store,
                                                                            new_order_id):
    order_id = new_order_id()
    payload, headers = sample(SHOPIFY_SAMPLE, id=order_id, test=False, cancelled_at=None, cancel_reason=None)
    shopify_store.send(payload, headers)
    assert local_mode.wait_idle(60)

    [message] = parked(local_mode, "order_to_erp", order_id)
    attributes = message["MessageAttributes"]
    assert attributes["reason"]["StringValue"] == "missing_sku"
    assert json.loads(attributes["detail"]["StringValue"])["lines"] == [
        str(line["id"]) for line in payload["line_items"]]
    assert erp(local_mode).find_sales_order(f"main:{order_id}") is None  # never booked on the fee service


def test_test_orders_create_no_sale_and_no_deal(local_mode, shopify_store, new_order_id):
    with_skus = new_order_id()
    payload, headers = sample("shopify/orders_create", id=with_skus, test=True)
    shopify_store.send(payload, headers)
    published = new_order_id()
    payload, headers = sample(SHOPIFY_SAMPLE, id=published, cancelled_at=None, cancel_reason=None)
    shopify_store.send(payload, headers)
    assert local_mode.wait_idle(60)

    for order_id in (with_skus, published):
        assert erp(local_mode).find_sales_order(f"main:{order_id}") is None
        assert deals(local_mode, f"main:{order_id}") == []
        assert parked(local_mode, "order_to_erp", order_id) == []  # skipped, not failed
