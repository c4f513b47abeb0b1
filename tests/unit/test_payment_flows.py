"""payment_to_erp and refund_to_erp over in-memory ports: one ERP payment per store transaction, one credit per
store refund, whatever the deliveries do; early events wait; unmapped gateways park; deals net of refunds."""
from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
from synchub.connectors.hubspot.settings import HubSpotSettings
from synchub.connectors.shopify.mapping import ShopifyPayloads
from synchub.connectors.shopify.refunds import ShopifyRefunds
from synchub.connectors.shopify.webhooks import ShopifyWebhooks
from synchub.errors import TransientError, UnknownPaymentMethod
from synchub.flows.orders import deal_for, sync_order_to_erp
from synchub.flows.payments import sync_payment_to_erp
from synchub.flows.refunds import sync_refund_to_erp
from synchub.models import EventEnvelope, Money, Payment

from tests.eventdata import load_event, load_json
from tests.fakes import FakeErp, InMemoryMappingStore
from tests.fakes_money import FakeLedger, FakeStoreMoney

STORE = "main"
ORDER_ID = "820982911946154521"  # events/shopify/orders_*.json
PRODUCTS = {"TEE-BLK-M": "1", "HOOD-GRY-M": "3", "MUG-CER-01": "4"}
METHODS = {"bogus": "Card", "shopify_payments": "Card"}
LOCATIONS = {"WH": "1", "OUTLET": "48752903"}  # ERP warehouse -> store location (the refund restocks at 48752903)


def envelope(name: str, **changes) -> EventEnvelope:
    body, headers = load_event(f"shopify/{name}")
    decision = ShopifyWebhooks().decode(STORE, headers, body)
    assert decision.kind == "event", decision
    return decision.envelope.model_copy(update={"payload": {**decision.envelope.payload, **changes}})


@pytest.fixture
def erp() -> FakeErp:
    return FakeErp(products=PRODUCTS)


@pytest.fixture
def ledger(erp: FakeErp) -> FakeLedger:
    return FakeLedger(erp)


@pytest.fixture
def mappings() -> InMemoryMappingStore:
    return InMemoryMappingStore()


@pytest.fixture
def store() -> FakeStoreMoney:
    money = FakeStoreMoney()
    money.payments[ORDER_ID] = [Payment(store=STORE, order_id=ORDER_ID, transaction_id="389404469178261502",
                                        gateway="bogus", amount=Money(amount=Decimal("127.61"), currency="USD"))]
    return money


def place(erp: FakeErp, mappings: InMemoryMappingStore) -> None:
    sync_order_to_erp(envelope("orders_create"), payloads=ShopifyPayloads(), sales_orders=erp, products=erp,
                      customers=erp, mappings=mappings)


def pay(name: str, *, erp, ledger, store, mappings, methods=METHODS):
    return sync_payment_to_erp(envelope(name), payloads=ShopifyPayloads(), transactions=store, sales_orders=erp,
                               payments=ledger, mappings=mappings, methods=methods)


def refund(event: EventEnvelope, *, erp, ledger, mappings, reader=None):
    return sync_refund_to_erp(event, refunds=reader or ShopifyRefunds(), sales_orders=erp, products=erp,
                              returns=ledger, mappings=mappings, locations=LOCATIONS, default_warehouse="WH")


def test_a_payment_delivered_twice_is_recorded_once(erp, ledger, store, mappings) -> None:
    place(erp, mappings)
    first = pay("orders_paid", erp=erp, ledger=ledger, store=store, mappings=mappings)
    again = pay("orders_paid", erp=erp, ledger=ledger, store=store, mappings=mappings)

    assert first.action == "applied" and again.reason == "duplicate"
    assert len(ledger.payments) == 1 and ledger.paid("1") == Decimal("127.61")


def test_a_crash_after_the_erp_recorded_the_payment_does_not_pay_twice(erp, ledger, store, mappings) -> None:
    place(erp, mappings)
    ledger.fail_after_write = True
    with pytest.raises(TransientError):
        pay("orders_paid", erp=erp, ledger=ledger, store=store, mappings=mappings)
    assert pay("orders_paid", erp=erp, ledger=ledger, store=store, mappings=mappings).action == "applied"
    assert len(ledger.payments) == 1


def test_a_payment_before_its_sale_or_invoice_waits_then_applies(erp, ledger, store, mappings) -> None:
    with pytest.raises(TransientError) as early:
        pay("orders_paid", erp=erp, ledger=ledger, store=store, mappings=mappings)
    assert early.value.reason == "sale_not_yet_created"
    place(erp, mappings)
    ledger.invoice_pending.add("1")
    with pytest.raises(TransientError):
        pay("orders_paid", erp=erp, ledger=ledger, store=store, mappings=mappings)
    ledger.invoice_pending.clear()

    assert pay("orders_paid", erp=erp, ledger=ledger, store=store, mappings=mappings).action == "applied"
    assert ledger.paid("1") == Decimal("127.61")


def test_an_unmapped_gateway_is_parked_and_writes_nothing(erp, ledger, store, mappings) -> None:
    place(erp, mappings)
    with pytest.raises(UnknownPaymentMethod) as parked:
        pay("orders_paid", erp=erp, ledger=ledger, store=store, mappings=mappings, methods={"manual": "Bank"})
    assert parked.value.reason == "unknown_payment_method" and parked.value.detail["gateway"] == "bogus"
    assert ledger.payments == {}


def test_partial_payments_are_each_recorded(erp, ledger, store, mappings) -> None:
    place(erp, mappings)
    usd = lambda amount: Money(amount=Decimal(amount), currency="USD")
    store.payments[ORDER_ID] = [Payment(store=STORE, order_id=ORDER_ID, transaction_id="1", gateway="bogus",
                                        amount=usd("100.00"))]
    partly = envelope("orders_updated", financial_status="partially_paid")
    sync_payment_to_erp(partly, payloads=ShopifyPayloads(), transactions=store, sales_orders=erp, payments=ledger,
                        mappings=mappings, methods=METHODS)
    store.payments[ORDER_ID].append(Payment(store=STORE, order_id=ORDER_ID, transaction_id="2", gateway="bogus",
                                            amount=usd("27.61")))
    pay("orders_paid", erp=erp, ledger=ledger, store=store, mappings=mappings)

    assert sorted(p.amount for p in ledger.payments.values()) == [Decimal("27.61"), Decimal("100.00")]


def test_an_unpaid_order_reads_no_transactions(erp, ledger, store, mappings) -> None:
    outcome = pay("orders_create", erp=erp, ledger=ledger, store=store, mappings=mappings)
    assert outcome.reason == "filtered:not_paid" and store.calls == []


def test_a_refund_delivered_twice_is_credited_once_and_restocks_at_the_mapped_warehouse(erp, ledger,
                                                                                       mappings) -> None:
    place(erp, mappings)
    event = envelope("refunds_create")
    event.payload["refund_line_items"][0]["restock_type"] = "return"

    first = refund(event, erp=erp, ledger=ledger, mappings=mappings)
    again = refund(event, erp=erp, ledger=ledger, mappings=mappings)

    assert first.action == "applied" and again.reason == "duplicate"
    assert len(ledger.returns) == 1
    _, credited, warehouse = ledger.returns[f"{STORE}:refund:509562969137858201"]
    assert credited.total.amount == Decimal("14.09") and warehouse == "OUTLET"
    assert erp.stock[("MUG-CER-01", "OUTLET")].on_hand == 1


def test_a_refund_before_its_order_waits_then_applies(erp, ledger, mappings) -> None:
    event = envelope("refunds_create")
    with pytest.raises(TransientError) as early:
        refund(event, erp=erp, ledger=ledger, mappings=mappings)
    assert early.value.reason == "sale_not_yet_created" and ledger.returns == {}
    place(erp, mappings)
    assert refund(event, erp=erp, ledger=ledger, mappings=mappings).action == "applied"


def test_woocommerce_style_refunds_are_read_once_each(erp, ledger, mappings) -> None:
    place(erp, mappings)
    reader = FakeStoreMoney()
    reader.refunds["726"] = ShopifyRefunds().read_refund(STORE, "refund.created", load_json("shopify/refunds_create"),
                                                         "509562969137858201").model_copy(update={"source_id": "726"})
    order = EventEnvelope(event_id="e1", source="fake", store=STORE, topic="order.updated", entity="order",
                          entity_id=ORDER_ID, occurred_at=dt.datetime.now(dt.UTC),
                          payload={"id": int(ORDER_ID), "refunds": [{"id": 726, "total": "-14.09"}]})
    refund(order, erp=erp, ledger=ledger, mappings=mappings, reader=reader)
    refund(order.model_copy(update={"event_id": "e2"}), erp=erp, ledger=ledger, mappings=mappings, reader=reader)

    assert reader.calls == ["read_refund"] and len(ledger.returns) == 1


def test_the_deal_is_worth_the_order_net_of_refunds_and_a_full_refund_is_refunded() -> None:
    stages = HubSpotSettings().stages
    payload = load_json("shopify/orders_paid")
    partial = copy.deepcopy(payload)
    partial["financial_status"] = "partially_refunded"
    partial["refunds"] = [load_json("shopify/refunds_create")]
    deal = deal_for(ShopifyPayloads().order(STORE, partial), pipeline="default", stages=stages)
    assert deal.amount.amount == Decimal("127.61") - Decimal("14.09") and deal.stage == stages["paid"]

    full = copy.deepcopy(partial)
    full["financial_status"] = "refunded"
    full["refunds"][0]["transactions"][0]["amount"] = "127.61"
    deal = deal_for(ShopifyPayloads().order(STORE, full), pipeline="default", stages=stages)
    assert deal.amount.amount == 0 and deal.stage == stages["refunded"]
