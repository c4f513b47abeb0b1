"""One fixture per capability, parametrised over every provider of it (fakes and registered vendors)."""
from __future__ import annotations

import pytest

from tests.conformance.providers import NEEDS_LOCAL_SERVER, provide, provider_ids


def _params(capability: str) -> list:
    return [pytest.param(name, id=name, marks=[pytest.mark.e2e] if name in NEEDS_LOCAL_SERVER else [])
            for name in provider_ids(capability)]


def _fixture(capability: str):
    @pytest.fixture(params=_params(capability))
    def provider(request):
        with provide(capability, request.param, request) as value:
            yield value

    return provider


contacts = _fixture("contacts")
deals = _fixture("deals")
customer_accounts = _fixture("customer_accounts")
sales_orders = _fixture("sales_orders")
product_lookup = _fixture("product_lookup")
stock_source = _fixture("stock_source")
stock_sink = _fixture("stock_sink")
change_feed = _fixture("change_feed")
record_fetcher = _fixture("record_fetcher")
shipment_source = _fixture("shipment_source")
shipment_sink = _fixture("shipment_sink")
fulfillments = _fixture("fulfillments")
fulfillment_payloads = _fixture("fulfillment_payloads")
