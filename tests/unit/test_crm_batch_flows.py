"""CRM flows over a whole queue batch (flows/crm_batch.py) against in-memory ports: a batch of orders costs one
contacts call and one deals call, and every record keeps its own outcome and guarantees."""
from __future__ import annotations

import pytest
from synchub.connectors.hubspot.settings import HubSpotSettings
from synchub.connectors.shopify.mapping import ShopifyPayloads
from synchub.errors import PermanentError, TransientError
from synchub.flows.crm_batch import sync_customers_to_crm, sync_orders_to_crm
from synchub.models.outcome import Outcome

from tests.burst import OrderBurst
from tests.eventdata import load_event
from tests.fakes import FakeCrm, InMemoryMappingStore
from tests.unit.test_order_flows import envelope as sample_envelope

STAGES = HubSpotSettings().stages


def orders_to_crm(envelopes, crm: FakeCrm, mappings: InMemoryMappingStore):
    return sync_orders_to_crm(list(envelopes), payloads=lambda store: ShopifyPayloads(), contacts=crm, deals=crm,
                              mappings=mappings, pipeline="default", stages=STAGES)


@pytest.fixture
def burst() -> OrderBurst:
    return OrderBurst(orders_per_customer=2)  # 50 orders from 25 customers


def test_fifty_orders_in_one_batch_make_two_crm_calls_and_fifty_deals_on_the_right_contacts(burst):
    crm, mappings = FakeCrm(), InMemoryMappingStore()

    results = orders_to_crm(burst.envelopes(50), crm, mappings)

    assert [r.action for r in results] == ["applied"] * 50  # type: ignore[union-attr]
    assert crm.calls == ["upsert_contacts", "upsert_deals"]
    assert len(crm.deals) == 50 and len(crm.contacts) == 25
    contact_ids = {email: f"c-{position + 1}" for position, email in enumerate(crm.contacts)}
    for index in range(50):
        deal, contact_id = crm.deals[burst.reference(index)]
        assert deal.reference == burst.reference(index) and deal.contact_email == burst.email(index)
        assert contact_id == contact_ids[burst.email(index)]
        assert mappings.get("order", burst.reference(index)).ids == {"crm": results[index].ids["crm"]}  # type: ignore[union-attr]


def test_a_deal_the_crm_refuses_fails_alone_and_a_retryable_one_alone_is_retried(burst):
    crm, mappings = FakeCrm(), InMemoryMappingStore()
    crm.refuse.add(burst.reference(3))
    crm.refuse_for_now.add(burst.reference(7))

    results = orders_to_crm(burst.envelopes(10), crm, mappings)

    assert isinstance(results[3], PermanentError) and results[3].reason == "crm_deal_rejected"
    assert isinstance(results[7], TransientError) and results[7].reason == "internal_error"  # the vendor's reason
    assert all(isinstance(r, Outcome) and r.action == "applied" for i, r in enumerate(results) if i not in (3, 7))
    assert set(crm.deals) == {burst.reference(i) for i in range(10)} - {burst.reference(3), burst.reference(7)}
    assert mappings.get("order", burst.reference(7)).ids == {}  # nothing linked: its retry writes it

    crm.refuse_for_now.clear()
    [retried] = orders_to_crm([burst.envelope(7)], crm, mappings)
    assert retried.action == "applied" and burst.reference(7) in crm.deals  # type: ignore[union-attr]


def test_a_contact_failing_transiently_fails_only_its_customers_orders(burst):
    crm, mappings = FakeCrm(), InMemoryMappingStore()
    crm.refuse_for_now.add(burst.email(4))  # customer 2: orders 4 and 5

    results = orders_to_crm(burst.envelopes(8), crm, mappings)

    assert [i for i, r in enumerate(results) if isinstance(r, TransientError)] == [4, 5]
    assert len(crm.deals) == 6


def test_a_contact_the_crm_refuses_does_not_block_its_deal(burst):
    crm, mappings = FakeCrm(), InMemoryMappingStore()
    crm.refuse.add(burst.email(0))

    results = orders_to_crm(burst.envelopes(2), crm, mappings)

    assert [r.action for r in results] == ["applied", "applied"]  # type: ignore[union-attr]
    assert crm.deals[burst.reference(0)][1] is None  # written without an association


def test_a_whole_call_failing_fails_every_record_of_the_batch_transiently(burst):
    crm, mappings = FakeCrm(), InMemoryMappingStore()
    crm.down = True

    results = orders_to_crm(burst.envelopes(5), crm, mappings)

    assert all(isinstance(r, TransientError) for r in results)
    assert crm.deals == {} and all(mappings.get("order", burst.reference(i)).ids == {} for i in range(5))


def test_a_repeated_batch_is_unchanged_and_makes_no_deal_call(burst):
    crm, mappings = FakeCrm(), InMemoryMappingStore()
    orders_to_crm(burst.envelopes(6), crm, mappings)

    again = orders_to_crm(burst.envelopes(6), crm, mappings)

    assert {(r.action, r.reason) for r in again} == {("skipped", "unchanged")}  # type: ignore[union-attr]
    assert crm.calls == ["upsert_contacts", "upsert_deals"]


def test_an_update_and_its_create_in_one_batch_write_the_newest_once_whatever_their_order(burst):
    crm, mappings = FakeCrm(), InMemoryMappingStore()
    created, updated = sample_envelope("orders_create"), sample_envelope("orders_updated")

    results = orders_to_crm([updated, created], crm, mappings)

    assert [(r.action, r.reason) for r in results] == [("applied", None), ("skipped", "stale")]  # type: ignore[union-attr]
    [(deal, _)] = crm.deals.values()
    newest = ShopifyPayloads().order("main", updated.payload)
    assert deal.amount == newest.total and crm.calls.count("upsert_deals") == 1
    # and a later batch bringing the older version again skips it as stale against what was applied
    [late] = orders_to_crm([created], crm, mappings)
    assert (late.action, late.reason) == ("skipped", "stale")  # type: ignore[union-attr]


def test_an_unreadable_record_fails_alone(burst):
    crm, mappings = FakeCrm(), InMemoryMappingStore()
    broken = burst.envelope(1).model_copy(update={"payload": {"id": "not an order"}})

    results = orders_to_crm([burst.envelope(0), broken, burst.envelope(2)], crm, mappings)

    assert isinstance(results[1], Exception) and not isinstance(results[1], TransientError)
    assert results[0].action == results[2].action == "applied"  # type: ignore[union-attr]


def test_customers_in_one_batch_are_one_contacts_call_and_a_refused_one_fails_alone():
    from synchub.connectors.shopify.webhooks import ShopifyWebhooks

    body, headers = load_event("shopify/customers_create")
    created = ShopifyWebhooks().decode("main", headers, body).envelope
    body, headers = load_event("shopify/customers_update")
    updated = ShopifyWebhooks().decode("main", headers, body).envelope
    crm, mappings = FakeCrm(), InMemoryMappingStore()

    results = sync_customers_to_crm([created, updated], payloads=lambda store: ShopifyPayloads(), contacts=crm,
                                    mappings=mappings)

    assert crm.calls == ["upsert_contacts"]
    assert sorted((r.action, r.reason) for r in results) == [("applied", None), ("skipped", "stale")]  # type: ignore[union-attr]
    crm.refuse.add(next(iter(crm.contacts)))
    changed = updated.model_copy(update={"payload": {**updated.payload, "updated_at": "2030-01-01T00:00:00Z",
                                                     "first_name": "Renamed"}})
    [refused] = sync_customers_to_crm([changed], payloads=lambda store: ShopifyPayloads(), contacts=crm,
                                      mappings=mappings)
    assert isinstance(refused, PermanentError) and refused.reason == "crm_contact_rejected"
