"""Order edits after checkout: current quantities and totals, removed lines, the thin orders/edited event, and
the flows that follow an edit (ERP sale brought to the edited lines, CRM deal to the edited total)."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from synchub.connectors.hubspot.settings import HubSpotSettings
from synchub.connectors.shopify.mapping import ShopifyPayloads
from synchub.connectors.shopify.webhooks import ShopifyWebhooks, shopify_signature
from synchub.connectors.woocommerce.mapping import WooCommercePayloads
from synchub.errors import PermanentError
from synchub.flows.orders import sync_order_to_crm, sync_order_to_erp
from synchub.models import Money

from tests.eventdata import load_event, load_json
from tests.fakes import FakeCrm, FakeErp, InMemoryMappingStore

STORE = "main"
ORDER_ID = "820982911946154521"
PRODUCTS = {"TEE-BLK-M": "1", "HOOD-GRY-M": "3", "MUG-CER-01": "4", "CAP-NVY-OS": "5"}


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


def shopify_order(payload: dict):
    return ShopifyPayloads().order(STORE, payload)


class Records:
    """A record fetcher holding the store's current orders (the Shopify one reads them over GraphQL)."""

    def __init__(self, *orders: dict) -> None:
        self.orders = {str(order["id"]): order for order in orders}
        self.fetched: list[tuple[str, str]] = []

    def fetch(self, entity: str, record_id: str) -> dict | None:
        self.fetched.append((entity, record_id))
        order = self.orders.get(record_id)
        return json.loads(json.dumps(order)) if order else None


def decoded(name: str):
    body, headers = load_event(f"shopify/{name}")
    decision = ShopifyWebhooks().decode(STORE, headers, body)
    assert decision.kind == "event", decision
    return decision.envelope


# -- mapping ---------------------------------------------------------------------------------------
def test_an_edited_order_maps_with_current_quantities_and_without_its_removed_line():
    order = shopify_order(load_json("shopify/orders_updated_edited"))

    assert [(line.sku, line.quantity) for line in order.lines] == [("TEE-BLK-M", 3), ("HOOD-GRY-M", 1),
                                                                   ("CAP-NVY-OS", 1)]
    assert (order.subtotal, order.total_discount, order.total_tax, order.total) == (
        usd("136.70"), usd("15.19"), usd("11.57"), usd("156.27"))


def test_an_edited_order_takes_its_current_totals_even_where_the_plain_ones_are_stale():
    payload = load_json("shopify/orders_updated_edited")
    original = load_json("shopify/orders_create")
    for field in ("total_price", "subtotal_price", "total_tax", "total_discounts"):
        payload[field] = original[field]  # as first ordered

    order = shopify_order(payload)

    assert order.total == usd("156.27") and order.total_tax == usd("11.57") and order.subtotal == usd("136.70")


def test_refunded_units_stay_sold_and_refunds_do_not_lower_the_sale_twice():
    payload = load_json("shopify/orders_create")
    mug = next(line for line in payload["line_items"] if line["sku"] == "MUG-CER-01")
    mug["current_quantity"] = 0  # Shopify's current quantity drops refunded units too
    payload["refunds"] = [{"id": 509562969, "refund_line_items": [{"line_item_id": mug["id"], "quantity": 1}]}]
    payload["current_total_price"] = "111.95"  # after the refund; the credit note carries the refund itself

    order = shopify_order(payload)

    assert ("MUG-CER-01", 1) in [(line.sku, line.quantity) for line in order.lines]
    assert order.total == usd("127.61")


def test_an_unedited_order_keeps_its_totals_of_record():
    # Shopify's own test notification carries current_* figures that disagree with its totals; nothing was edited.
    order = shopify_order(load_json("shopify/orders_create_test_notification"))
    assert order.total == usd("1575.90")


def test_a_woocommerce_edit_arrives_as_an_update_with_the_lines_as_they_now_are():
    before = WooCommercePayloads().order("eu", load_json("woocommerce/order_created_rest_docs"))
    after = WooCommercePayloads().order("eu", load_json("woocommerce/order_updated_edited_rest_docs"))

    assert [(line.sku, line.quantity) for line in before.lines] == [(None, 2), ("Bar3", 1)]
    assert [(line.sku, line.quantity) for line in after.lines] == [("Bar3", 2)]
    assert after.total == usd("35.80") and after.updated_at > before.updated_at


# -- the orders/edited webhook -----------------------------------------------------------------------
def test_orders_edited_becomes_an_order_edited_event_about_the_order_at_its_commit_time():
    envelope = decoded("orders_edited")

    assert (envelope.topic, envelope.entity, envelope.entity_id) == ("order.edited", "order", ORDER_ID)
    assert envelope.occurred_at.isoformat() == "2025-11-21T15:02:11+00:00"  # committed_at, in UTC
    assert envelope.event_id == "4c8e2a6f-9d1b-4e3a-b7f5-0a2c6e8d1b39"


def test_orders_edited_is_verified_like_every_topic():
    body, headers = load_event("shopify/orders_edited")
    webhooks = ShopifyWebhooks()
    assert webhooks.verify({**headers, "X-Shopify-Hmac-Sha256": shopify_signature(body, "s3cret")}, body, "s3cret")
    assert not webhooks.verify({**headers, "X-Shopify-Hmac-Sha256": shopify_signature(body, "other")}, body,
                               "s3cret")
    assert not webhooks.verify({**headers, "X-Shopify-Hmac-Sha256": shopify_signature(body, "s3cret")},
                               body.replace(b'"delta": 1', b'"delta": 9'), "s3cret")


def test_an_order_edit_without_its_order_id_is_unusable():
    body, headers = load_event("shopify/orders_edited")
    edit = json.loads(body)
    del edit["order_edit"]["order_id"]
    decision = ShopifyWebhooks().decode(STORE, headers, json.dumps(edit).encode())
    assert (decision.kind, decision.reason) == ("unusable", "missing_field:order_edit.order_id")


# -- flows -----------------------------------------------------------------------------------------
def test_an_order_edit_fetches_the_order_and_brings_the_erp_sale_to_the_edited_lines():
    erp, mappings = FakeErp(products=PRODUCTS), InMemoryMappingStore()
    records = Records(load_json("shopify/orders_updated_edited"))
    sync_order_to_erp(decoded("orders_create"), payloads=ShopifyPayloads(), sales_orders=erp, products=erp,
                      customers=erp, mappings=mappings)

    outcome = sync_order_to_erp(decoded("orders_edited"), payloads=ShopifyPayloads(), sales_orders=erp,
                                products=erp, customers=erp, mappings=mappings, records=records)

    assert outcome.action == "applied" and records.fetched == [("order", ORDER_ID)]
    [sale] = erp.sales.values()
    assert [(sku, quantity) for sku, quantity, _ in sale.lines] == [("TEE-BLK-M", 3), ("HOOD-GRY-M", 1),
                                                                    ("CAP-NVY-OS", 1)]
    assert sale.total == Decimal("156.27")


def test_the_crm_deal_follows_the_edited_total():
    crm, mappings = FakeCrm(), InMemoryMappingStore()
    records = Records(load_json("shopify/orders_updated_edited"))
    common = dict(payloads=ShopifyPayloads(), contacts=crm, deals=crm, mappings=mappings, pipeline="default",
                  stages=HubSpotSettings().stages)
    sync_order_to_crm(decoded("orders_create"), **common)

    sync_order_to_crm(decoded("orders_edited"), records=records, **common)

    [(deal, _contact)] = crm.deals.values()
    assert deal.amount == usd("156.27")


def test_full_order_events_are_not_fetched_again():
    erp, records = FakeErp(products=PRODUCTS), Records()
    sync_order_to_erp(decoded("orders_updated_edited"), payloads=ShopifyPayloads(), sales_orders=erp, products=erp,
                      customers=erp, mappings=InMemoryMappingStore(), records=records)
    assert records.fetched == []


def test_an_edit_of_an_order_the_store_no_longer_has_is_parked():
    erp = FakeErp(products=PRODUCTS)
    with pytest.raises(PermanentError) as caught:
        sync_order_to_erp(decoded("orders_edited"), payloads=ShopifyPayloads(), sales_orders=erp, products=erp,
                          customers=erp, mappings=InMemoryMappingStore(), records=Records())
    assert caught.value.reason == "order_not_found" and erp.sales == {}


def test_an_edit_from_a_store_that_fetches_no_records_is_parked_not_mapped_as_an_order():
    erp = FakeErp(products=PRODUCTS)
    with pytest.raises(PermanentError) as caught:
        sync_order_to_erp(decoded("orders_edited"), payloads=ShopifyPayloads(), sales_orders=erp, products=erp,
                          customers=erp, mappings=InMemoryMappingStore(), records=None)
    assert caught.value.reason == "record_fetcher_missing"


def test_an_edited_order_reads_its_duties_from_current_total_duties_set_with_the_current_total() -> None:
    """Placed with two snowboards (duties 200, total 1636), edited down to one: Shopify's current figures say
    duties 100 and total 843. Both come from the current_* side, so the order still adds up."""
    from synchub.flows.order_totals import checked_total_breakdown

    from tests.eventdata import load_json

    payload = load_json("shopify/orders_create_tip_duties")
    [line] = payload["line_items"]
    line.update(quantity=2, current_quantity=1)
    payload.update(subtotal_price="1260", total_tax="126", total_price="1636", current_subtotal_price="630",
                   current_total_tax="63", current_total_price="843", current_total_discounts="0")
    payload["original_total_duties_set"] = {"shop_money": {"amount": "200", "currency_code": "PYG"}}
    payload["current_total_duties_set"] = {"shop_money": {"amount": "100", "currency_code": "PYG"}}

    order = ShopifyPayloads().order("main", payload)

    assert [(item.quantity, item.unit_price.amount) for item in order.lines] == [(1, Decimal(630))]
    assert (order.total.amount, order.total_duties.amount, order.total_tip.amount) == (
        Decimal(843), Decimal(100), Decimal(50))
    checked_total_breakdown(order)  # would raise total_mismatch with the original duties (200)


def test_a_line_lowered_by_an_edit_keeps_its_discount_per_unit_and_the_order_adds_up() -> None:
    """The sandbox's edit (as Shopify's current_total_discounts) keeps the discount per unit; the mapping prorates
    the line's discount_allocations (stated for the units ordered) the same way, so no total_mismatch."""
    from pathlib import Path

    from synchub.flows.order_totals import checked_total_breakdown

    from infra.local.sandboxes.shopify import create_app
    from tests.eventdata import load_json

    app = create_app("shpat_x", "x.myshopify.com",
                     catalog=Path(__file__).resolve().parents[2] / "infra" / "local" / "demo_catalog.json")
    placed = app.add_order(load_json("shopify/orders_create"))
    tee = next(line for line in placed["line_items"] if line["sku"] == "TEE-BLK-M")
    assert tee["quantity"] == 2 and tee["discount_allocations"]  # a discounted line to lower
    _, edited = app.edit_order(placed["id"], quantities={tee["id"]: 1})

    order = ShopifyPayloads().order("main", edited)

    assert order.total_discount.amount == Decimal(edited["current_total_discounts"])
    checked_total_breakdown(order)
