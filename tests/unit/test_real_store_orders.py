"""The orders real stores send: catalogue lines with a blank SKU, and test orders, on published bodies."""
from __future__ import annotations

import json

import pytest
from synchub.connectors.hubspot.settings import HubSpotSettings
from synchub.connectors.shopify.mapping import ShopifyPayloads
from synchub.connectors.shopify.webhooks import ShopifyWebhooks
from synchub.connectors.woocommerce.mapping import WooCommercePayloads
from synchub.connectors.woocommerce.webhooks import WooCommerceWebhooks
from synchub.errors import MissingSku
from synchub.flows.order_lines import STORE_ITEM, store_item_key
from synchub.flows.orders import sync_order_to_crm, sync_order_to_erp
from synchub.runtime.queue_flow import run_queue_flow

from tests.eventdata import load_event
from tests.fakes import FakeCrm, FakeErp, FakeLambdaContext, InMemoryMappingStore

SHOPIFY_SAMPLE = "shopify/orders_create_test_notification"  # Shopify's own test notification, lines with sku null
WOO_SAMPLE = "woocommerce/order_created_rest_docs"  # the REST docs' order 727, line 315 with sku ""
SHOPIFY_LINES = ["866550311766439020", "141249953214522974"]
SHOPIFY_VARIANTS = ["49121760117052", "49121760182588"]


def shopify_envelope(**changes):
    body, headers = load_event(SHOPIFY_SAMPLE)
    if changes:
        body = json.dumps({**json.loads(body), **changes}).encode()
    decision = ShopifyWebhooks().decode("main", headers, body)
    assert decision.kind == "event", decision
    return decision.envelope


def live_shopify_envelope():
    """The published body as a real (not test) order that was not cancelled: what a live shop sends."""
    return shopify_envelope(test=False, cancelled_at=None, cancel_reason=None)


def woo_envelope():
    body, headers = load_event(WOO_SAMPLE)
    decision = WooCommerceWebhooks().decode("wc", headers, body)
    assert decision.kind == "event", decision
    return decision.envelope


def to_erp(env, erp: FakeErp, mappings: InMemoryMappingStore, **settings):
    payloads = WooCommercePayloads() if env.store == "wc" else ShopifyPayloads()
    return sync_order_to_erp(env, payloads=payloads, sales_orders=erp, products=erp, customers=erp,
                             mappings=mappings, **settings)


def link_store_item(mappings: InMemoryMappingStore, store: str, item: str, erp_product: str) -> None:
    mappings.link(STORE_ITEM, store_item_key(store, item), "erp", erp_product)


@pytest.fixture
def erp() -> FakeErp:
    return FakeErp(products={"Bar3": "22"})


@pytest.fixture
def mappings() -> InMemoryMappingStore:
    return InMemoryMappingStore()


# Test orders --------------------------------------------------------------------------------------
def test_a_test_order_makes_no_erp_sale_and_no_crm_deal(erp, mappings):
    crm = FakeCrm()

    to_erp_outcome = to_erp(shopify_envelope(), erp, mappings)
    to_crm_outcome = sync_order_to_crm(shopify_envelope(), payloads=ShopifyPayloads(), contacts=crm, deals=crm,
                                       mappings=mappings, pipeline="default", stages=HubSpotSettings().stages)

    assert (to_erp_outcome.action, to_erp_outcome.reason) == ("skipped", "filtered:test_order")
    assert (to_crm_outcome.action, to_crm_outcome.reason) == ("skipped", "filtered:test_order")
    assert erp.sales == {} and erp.calls == [] and crm.deals == {}


def test_a_store_that_syncs_test_orders_gets_them_like_any_other(erp, mappings):
    env = shopify_envelope(cancelled_at=None, cancel_reason=None)
    for line, variant in zip(SHOPIFY_LINES, SHOPIFY_VARIANTS, strict=True):
        link_store_item(mappings, "main", variant, f"erp-{line[-4:]}")

    outcome = to_erp(env, erp, mappings, sync_test_orders=True, missing_sku_lookup="store_item_mapping")

    assert outcome.action == "applied" and len(erp.sales) == 1


# Catalogue lines with a blank SKU ----------------------------------------------------------------
def test_a_blank_sku_catalogue_line_is_parked_as_missing_sku_with_the_store_line_ids(erp, mappings):
    with pytest.raises(MissingSku) as raised:
        to_erp(live_shopify_envelope(), erp, mappings)

    assert raised.value.reason == "missing_sku"
    assert raised.value.detail == {"lines": SHOPIFY_LINES, "store_items": SHOPIFY_VARIANTS}
    assert erp.sales == {}


def test_without_a_configured_lookup_a_linked_variant_is_not_used(erp, mappings):
    link_store_item(mappings, "main", SHOPIFY_VARIANTS[0], "erp-7")

    with pytest.raises(MissingSku):
        to_erp(live_shopify_envelope(), erp, mappings)  # missing_sku_lookup defaults to "none"


def test_the_store_item_lookup_books_each_line_on_its_mapped_erp_product(erp, mappings):
    link_store_item(mappings, "main", SHOPIFY_VARIANTS[0], "erp-7")
    link_store_item(mappings, "main", SHOPIFY_VARIANTS[1], "erp-9")

    outcome = to_erp(live_shopify_envelope(), erp, mappings, missing_sku_lookup="store_item_mapping")

    assert outcome.action == "applied"
    [sale] = erp.sales.values()
    assert sale.erp_products == ["erp-7", "erp-9"]  # never the fee service


def test_only_the_lines_the_lookup_cannot_place_are_reported(erp, mappings):
    link_store_item(mappings, "main", SHOPIFY_VARIANTS[0], "erp-7")

    with pytest.raises(MissingSku) as raised:
        to_erp(live_shopify_envelope(), erp, mappings, missing_sku_lookup="store_item_mapping")

    assert raised.value.detail == {"lines": SHOPIFY_LINES[1:], "store_items": SHOPIFY_VARIANTS[1:]}


def test_a_woocommerce_simple_product_with_a_blank_sku_is_found_by_its_product_id(erp, mappings):
    with pytest.raises(MissingSku) as raised:
        to_erp(woo_envelope(), erp, mappings)
    assert raised.value.detail == {"lines": ["315"], "store_items": ["93"]}

    link_store_item(mappings, "wc", "93", "erp-93")
    outcome = to_erp(woo_envelope(), erp, mappings, missing_sku_lookup="store_item_mapping")

    assert outcome.action == "applied"
    [sale] = erp.sales.values()
    assert sale.erp_products == ["erp-93", "22"]  # line 316 still by its SKU Bar3


def test_fee_lines_stay_fees(erp, mappings):
    body, headers = load_event("woocommerce/order_created")  # a "Gift wrap" fee line beside SKU lines
    env = WooCommerceWebhooks().decode("wc", headers, body).envelope
    erp.products.update({"TEE-BLK-L": "2", "CAP-NVY-OS": "5"})

    to_erp(env, erp, mappings)

    [sale] = erp.sales.values()
    assert sale.erp_products[-1] is None and None not in sale.erp_products[:-1]


# Through the queue runner: parked with its reason and detail, counted skips -----------------------
class ParkedMessages:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str, dict]] = []

    def park(self, body: str, reason: str, detail: dict | None = None) -> None:
        self.messages.append((body, reason, detail or {}))


def run_order_to_erp(env, erp, mappings):
    body = json.dumps({"source": "synchub", "detail-type": env.detail_type, "detail": json.loads(env.model_dump_json())})
    record = {"messageId": "m-1", "receiptHandle": "rh-1", "body": body,
              "attributes": {"ApproximateReceiveCount": "1", "ApproximateFirstReceiveTimestamp": "1700000000000",
                             "SentTimestamp": "1699999999800"},
              "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:synchub-test-order_to_erp"}
    parked = ParkedMessages()
    response = run_queue_flow({"Records": [record]}, FakeLambdaContext(), flow="order_to_erp",
                              apply=lambda envelope: to_erp(envelope, erp, mappings), dead_letters=parked,
                              idempotency_store=None, backoff=None, clock=lambda: 1_700_000_000.0)
    return response, parked.messages


@pytest.mark.filterwarnings("ignore:Disabling idempotency")
def test_the_runner_parks_a_blank_sku_order_with_its_reason_and_lines(erp, mappings, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_IDEMPOTENCY_DISABLED", "true")

    response, parked = run_order_to_erp(live_shopify_envelope(), erp, mappings)

    assert response == {"batchItemFailures": []}
    [(_, reason, detail)] = parked
    assert (reason, detail["lines"]) == ("missing_sku", SHOPIFY_LINES)
