"""Timestamps that parse but leave datetime's range in UTC: decoders give no time, mappings raise
InvalidPayload (a permanent failure, parked with its reason) instead of crashing the flow."""
from __future__ import annotations

import json

import pytest
from synchub.connectors.shopify.mapping import ShopifyPayloads
from synchub.connectors.shopify.webhooks import parse_timestamp
from synchub.connectors.woocommerce.mapping import WooCommercePayloads
from synchub.connectors.woocommerce.webhooks import parse_gmt
from synchub.errors import InvalidPayload

from tests.eventdata import load_event

OUT_OF_RANGE = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_out_of_range_timestamps_are_not_timestamps(value):
    assert parse_timestamp(value) is None
    assert parse_gmt(value) is None


@pytest.mark.parametrize("value", OUT_OF_RANGE)
@pytest.mark.parametrize("field", ["created_at", "updated_at", "cancelled_at"])
def test_shopify_order_with_out_of_range_time_is_an_invalid_payload(value, field):
    payload = json.loads(load_event("shopify/orders_create")[0])
    with pytest.raises(InvalidPayload):
        ShopifyPayloads().order("main", {**payload, field: value})


@pytest.mark.parametrize("value", OUT_OF_RANGE)
@pytest.mark.parametrize("field", ["date_created_gmt", "date_modified_gmt"])
def test_woocommerce_order_with_out_of_range_time_is_an_invalid_payload(value, field):
    payload = json.loads(load_event("woocommerce/order_created")[0])
    with pytest.raises(InvalidPayload):
        WooCommercePayloads().order("eu", {**payload, field: value})
