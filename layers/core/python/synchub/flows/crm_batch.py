"""order_to_crm and customer_to_crm over a whole queue batch: the batch's contacts are upserted in one
call, then its deals with their contact associations, so a burst costs a few CRM calls per hundred orders
instead of two or three per order.

Each record keeps the guarantees and the outcome of the single-record flows (`sync_order_to_crm`,
`sync_customer_to_crm`): test orders filtered, stale versions skipped, unchanged content skipped, ids
linked and content remembered per record, and a failure (a vendor's per-input rejection or transient
error, an unreadable payload) belongs to the records concerned only. Vendor-neutral: the batching
itself (how many inputs a call) is the connector's.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from collections.abc import Mapping as MappingType
from typing import TypeVar

from synchub.errors import PermanentError, TransientError
from synchub.flows.batch_guard import Candidate, Claimed, RecordResult, Results, claim_batch, decided, settle
from synchub.flows.customers import ENTITY as CUSTOMER
from synchub.flows.customers import _content, customer_key
from synchub.flows.orders import ENTITY as ORDER
from synchub.flows.orders import TEST_ORDER, deal_for, order_customer, store_order
from synchub.models import Customer, Deal, DealWrite, EventEnvelope, Order, UpsertOutcome
from synchub.models.outcome import Outcome
from synchub.ports import Contacts, Deals, MappingStore, RecordFetcher, StorePayloads

T = TypeVar("T")
PayloadsFor = Callable[[str], StorePayloads]  # the store's payload decoder, by store id
RecordsFor = Callable[[str], RecordFetcher | None]  # the store's record fetcher, by store id


def _never(store: str) -> bool:
    return False


def sync_orders_to_crm(envelopes: Sequence[EventEnvelope], *, payloads: PayloadsFor, contacts: Contacts,
                       deals: Deals, mappings: MappingStore, pipeline: str, stages: MappingType[str, str],
                       sync_test_orders: Callable[[str], bool] = _never,
                       records: RecordsFor | None = None) -> list[RecordResult]:
    """One result per envelope, in order: an Outcome, or the exception that record failed with. A thin event
    (an order edit) is completed from the store's record fetcher (`records`, by store id), as order_to_erp does."""
    results: Results = [None] * len(envelopes)
    candidates: list[Candidate[Order]] = []
    for index, envelope in enumerate(envelopes):
        try:
            order = store_order(envelope, payloads(envelope.store), records(envelope.store) if records else None)
            if order.test and not sync_test_orders(envelope.store):
                results[index] = Outcome.skipped(TEST_ORDER)
                continue
            deal = deal_for(order, pipeline=pipeline, stages=stages)
        except Exception as error:  # noqa: BLE001 - an unreadable record fails alone; the runner classifies it
            results[index] = error
            continue
        candidates.append(Candidate(index, order.store_reference, order.updated_at, deal, order))

    writes = claim_batch(mappings, candidates, results, entity=ORDER, system="crm")
    contact_ids = _contacts_of(writes, contacts, mappings, results)
    pending = [write for write in writes if results[write.index] is None]
    if pending:
        try:
            outcomes: Sequence[UpsertOutcome | Exception] = deals.upsert_deals(
                [DealWrite(deal=_deal(write), contact_id=contact_ids.get(write.index)) for write in pending])
        except Exception as error:  # noqa: BLE001 - the whole call failed: each of its records with it
            outcomes = [error] * len(pending)
        for write, outcome in zip(pending, outcomes, strict=True):
            _settle(mappings, write, outcome, results, entity=ORDER, kind="deal", transient_reason=None)
    return decided(results)


def sync_customers_to_crm(envelopes: Sequence[EventEnvelope], *, payloads: PayloadsFor, contacts: Contacts,
                          mappings: MappingStore) -> list[RecordResult]:
    """One result per envelope, in order: an Outcome, or the exception that record failed with."""
    results: Results = [None] * len(envelopes)
    candidates: list[Candidate[Customer]] = []
    for index, envelope in enumerate(envelopes):
        try:
            customer = payloads(envelope.store).customer(envelope.payload)
        except Exception as error:  # noqa: BLE001 - an unreadable record fails alone; the runner classifies it
            results[index] = error
            continue
        if not customer.email:
            results[index] = Outcome.skipped("filtered:no_email")
            continue
        candidates.append(Candidate(index, customer_key(envelope.store, customer),
                                    customer.updated_at or envelope.occurred_at, _content(customer), customer))

    writes = claim_batch(mappings, candidates, results, entity=CUSTOMER, system="crm")
    if writes:
        try:
            outcomes: Sequence[UpsertOutcome | Exception] = contacts.upsert_contacts(
                [write.candidate.item for write in writes])
        except Exception as error:  # noqa: BLE001 - the whole call failed: each of its records with it
            outcomes = [error] * len(writes)
        for write, outcome in zip(writes, outcomes, strict=True):
            _settle(mappings, write, outcome, results, entity=CUSTOMER, kind="contact",
                    transient_reason="crm_contact")
    return decided(results)


def _deal(write: Claimed[Order]) -> Deal:
    content = write.candidate.content
    assert isinstance(content, Deal)
    return content


def _contacts_of(writes: Sequence[Claimed[Order]], contacts: Contacts, mappings: MappingStore,
                 results: Results) -> dict[int, str]:
    """The CRM contact id per record index: known from the mapping store, else upserted in one call for
    the whole batch and linked. A contact the CRM refuses (an invalid e-mail, say) must not block the
    deal, which is then written without an association; a transient failure fails its records."""
    ids: dict[int, str] = {}
    wanted: dict[str, Customer] = {}
    owners: dict[str, list[int]] = {}
    for write in writes:
        if not _deal(write).contact_email:
            continue
        key, customer = order_customer(write.candidate.item)
        try:
            known = mappings.get(CUSTOMER, key)
        except Exception as error:  # noqa: BLE001 - this record's state could not be read
            results[write.index] = error
            continue
        if known is not None and "crm" in known.ids:
            ids[write.index] = known.ids["crm"]
            continue
        wanted[key] = customer  # the batch's latest data for a customer
        owners.setdefault(key, []).append(write.index)
    if not wanted:
        return ids
    keys = list(wanted)
    try:
        outcomes: Sequence[UpsertOutcome | Exception] = contacts.upsert_contacts([wanted[key] for key in keys])
    except Exception as error:  # noqa: BLE001 - the whole call failed: each of its records with it
        outcomes = [error] * len(keys)
    for key, outcome in zip(keys, outcomes, strict=True):
        failure: Exception | None = outcome if isinstance(outcome, Exception) else None
        if isinstance(outcome, UpsertOutcome) and outcome.id and not outcome.error:
            try:
                mappings.link(CUSTOMER, key, "crm", outcome.id)
            except Exception as error:  # noqa: BLE001 - retried; the contact upsert is keyed, safe to repeat
                failure = error
            else:
                ids.update((index, outcome.id) for index in owners[key])
        elif isinstance(outcome, UpsertOutcome) and outcome.transient:
            failure = TransientError(f"CRM contact upsert failed: {outcome.error}", reason="crm_contact")
        for index in owners[key] if failure is not None else ():
            results[index] = failure
    return ids


def _settle(mappings: MappingStore, write: Claimed[T], outcome: UpsertOutcome | Exception, results: Results, *,
            entity: str, kind: str, transient_reason: str | None) -> None:
    """Link and remember a written record; or its failure, transient with `transient_reason` (None: the
    vendor's own, as the single-record flows report them), else permanent."""
    if isinstance(outcome, Exception):
        results[write.index] = outcome
    elif outcome.error or not outcome.id:
        if outcome.transient:
            results[write.index] = TransientError(f"CRM {kind} upsert failed: {outcome.error}",
                                                  reason=transient_reason or outcome.error or f"crm_{kind}")
        else:
            results[write.index] = PermanentError(f"CRM refused the {kind}: {outcome.error}",
                                                  reason=f"crm_{kind}_rejected", error=outcome.error)
    else:
        settle(mappings, write, outcome.id, results, entity=entity, system="crm")
