"""Contacts and deals: every provider (HubSpot through its sandbox, and the fake) keeps one contract."""
from __future__ import annotations

from decimal import Decimal

import pytest
from synchub.errors import PermanentError, TransientError
from synchub.models import Customer, Deal, DealWrite, Money


def _customer(email: str, first: str = "Ada") -> Customer:
    return Customer(source_id=email, email=email, first_name=first, last_name="Lovelace")


def _deal(reference: str, amount: str = "10.00") -> Deal:
    return Deal(reference=reference, name=f"Order {reference}", amount=Money(amount=Decimal(amount), currency="USD"),
                pipeline="default", stage="appointmentscheduled", contact_email=None)


def test_upserting_a_contact_twice_keeps_one_contact(contacts) -> None:
    [first] = contacts.adapter.upsert_contacts([_customer("ada@example.com")])
    [again] = contacts.adapter.upsert_contacts([_customer("ada@example.com")])
    assert first.id and again.id == first.id


def test_an_updated_contact_converges_on_the_same_record(contacts) -> None:
    [first] = contacts.adapter.upsert_contacts([_customer("grace@example.com", "Grace")])
    [renamed] = contacts.adapter.upsert_contacts([_customer("grace@example.com", "Grace B.")])
    assert renamed.id == first.id and not renamed.error


def test_one_outcome_per_contact_keyed_by_email(contacts) -> None:
    outcomes = contacts.adapter.upsert_contacts([_customer("a1@example.com"), _customer("b2@example.com")])
    assert [outcome.key for outcome in outcomes] == ["a1@example.com", "b2@example.com"]
    assert len({outcome.id for outcome in outcomes}) == 2


def test_upserting_a_deal_twice_keeps_one_deal_and_an_update_converges(deals) -> None:
    first = deals.adapter.upsert_deal(_deal("shop:1001"), contact_id=None)
    again = deals.adapter.upsert_deal(_deal("shop:1001", "12.50"), contact_id=None)
    other = deals.adapter.upsert_deal(_deal("shop:1002"), contact_id=None)
    assert first == again and other != first


@pytest.mark.parametrize(("faults", "status"), [(1, 503), (2, 429)], ids=["transient_fault", "throttled"])
def test_a_transient_fault_or_throttling_is_retried_or_raised_as_transient(contacts, faults, status) -> None:
    if contacts.fail_next is None:
        pytest.skip("no fault injection")
    contacts.fail_next(faults, status)
    try:
        [outcome] = contacts.adapter.upsert_contacts([_customer(f"retry-{status}@example.com")])
    except TransientError:
        return  # surfaced as transient: the flow retries it with backoff
    assert outcome.id  # or retried inside the adapter, honouring Retry-After


def test_a_refusal_is_a_permanent_error_not_a_retry(deals) -> None:
    if deals.fail_next is None:
        pytest.skip("no fault injection")
    deals.fail_next(1, 400)
    with pytest.raises(PermanentError):
        deals.adapter.upsert_deal(_deal("shop:bad"), contact_id=None)


def test_deals_upserted_in_one_batch_get_one_outcome_each_in_order_and_their_contacts(deals) -> None:
    ada, grace = (deals.extra["new_contact"](email) for email in ("ada@example.com", "grace@example.com"))
    writes = [DealWrite(deal=_deal("shop:2001"), contact_id=ada), DealWrite(deal=_deal("shop:2002"), contact_id=grace),
              DealWrite(deal=_deal("shop:2003"), contact_id=None)]

    outcomes = deals.adapter.upsert_deals(writes)
    again = deals.adapter.upsert_deals(writes)

    assert [o.key for o in outcomes] == ["shop:2001", "shop:2002", "shop:2003"]
    assert all(o.id and not o.error for o in outcomes) and len({o.id for o in outcomes}) == 3
    assert [o.id for o in again] == [o.id for o in outcomes]  # upserted, not created twice
    contacts_of = deals.extra["deal_contacts"]
    assert [contacts_of(o.id) for o in outcomes] == [[ada], [grace], []]


def test_a_refused_deal_in_a_batch_fails_alone(deals) -> None:
    deals.extra["refuse_deal"]("shop:3002")

    outcomes = deals.adapter.upsert_deals([DealWrite(deal=_deal(f"shop:300{n}")) for n in (1, 2, 3)])

    assert [bool(o.error) for o in outcomes] == [False, True, False]
    assert outcomes[1].key == "shop:3002" and not outcomes[1].transient and outcomes[1].id is None
    assert outcomes[0].id and outcomes[2].id
