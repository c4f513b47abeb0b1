"""HubSpotCrm: the Crm port over HubSpot. Contacts upsert by e-mail, deals by our order reference.

Both writes are batch upserts keyed by a unique property (up to 100 inputs a call), so repeating them
(SQS redelivery, replays, a crash before our mapping was written) never creates a second record; deal to
contact associations go in one v4 batch call per chunk of deals.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx
from aws_lambda_powertools import Logger

from synchub.connectors.http import RetryPolicy
from synchub.connectors.hubspot.client import (
    BATCH_LIMIT,
    TRANSIENT_CATEGORIES,
    VENDOR,
    BatchResult,
    HubSpotApiError,
    HubSpotClient,
    SearchPage,
    hubspot_http_client,
)
from synchub.connectors.hubspot.mapping import (
    ORDER_REF_PROPERTY,
    contact_key,
    contact_properties,
    deal_properties,
    order_ref_property_definition,
)
from synchub.connectors.hubspot.settings import HubSpotSettings
from synchub.errors import PermanentError, TransientError, VendorRejected
from synchub.models import Customer, Deal, DealWrite, UpsertOutcome, normalise_email

logger = Logger(service="synchub")

# Statuses where HubSpot judged the inputs, not the request: the answer belongs to the inputs.
INPUT_REJECTED = frozenset({400, 404, 409, 422})


def _reason(category: str | None, codes: Sequence[str] = ()) -> str:
    """A machine-readable reason such as `validation_error:invalid_email` (never HubSpot's prose)."""
    reason = (category or "error").lower()
    return f"{reason}:{codes[0].lower()}" if codes else reason


def _error_codes(error: dict[str, Any]) -> list[str]:
    return [str(e["code"]) for e in error.get("errors") or [] if isinstance(e, dict) and e.get("code")]


class HubSpotCrm:
    """Implements synchub.ports.Crm."""

    def __init__(self, client: HubSpotClient, *, batch_size: int = BATCH_LIMIT) -> None:
        self.client = client
        self.batch_size = max(1, min(batch_size, BATCH_LIMIT))
        self._order_ref_ready = False

    # ----- contacts -----------------------------------------------------------------------------
    def upsert_contacts(self, customers: Sequence[Customer]) -> list[UpsertOutcome]:
        outcomes: list[UpsertOutcome | None] = [None] * len(customers)
        properties: dict[str, dict[str, str]] = {}  # by e-mail; a later customer with the same e-mail wins
        positions: dict[str, list[int]] = {}
        for index, customer in enumerate(customers):
            key = contact_key(customer)
            if key is None:
                outcomes[index] = UpsertOutcome(key=customer.source_id, error="missing_email")
                continue
            properties[key] = contact_properties(customer)
            positions.setdefault(key, []).append(index)
        resolved = self._upsert_all("contacts", "email", properties, normalise_email)
        for key, indexes in positions.items():
            for index in indexes:
                outcomes[index] = resolved[key]
        done = [o for o in outcomes if o is not None]
        logger.info("hubspot contacts upserted", extra={
            "customers": len(customers), "contacts_created": sum(o.created for o in done),
            "failed": sum(o.error is not None for o in done), "transient": sum(o.transient for o in done)})
        return done

    def _upsert_all(self, object_type: str, id_property: str, properties: dict[str, dict[str, str]],
                    normalise: Callable[[str | None], str | None],
                    after_chunk: Callable[[dict[str, UpsertOutcome]], None] | None = None) -> dict[str, UpsertOutcome]:
        """Batch upserts of every key, `batch_size` a call; `after_chunk` sees (and may amend) each chunk's
        outcomes. Once a whole chunk failed transiently (HubSpot down or throttling us even after the retry
        policy), the rest are not sent: they are returned transient, for the queue to bring back later."""
        keys = list(properties)
        resolved: dict[str, UpsertOutcome] = {}
        down: str | None = None
        for start in range(0, len(keys), self.batch_size):
            chunk = keys[start:start + self.batch_size]
            if down is not None:
                resolved.update({k: UpsertOutcome(key=k, error=down, transient=True) for k in chunk})
                continue
            answer = self._upsert(object_type, id_property, chunk, properties, normalise)
            if all(o.transient for o in answer.values()):
                down = next(iter(answer.values())).error
            elif after_chunk is not None:
                after_chunk(answer)
            resolved.update(answer)
        return resolved

    def _upsert(self, object_type: str, id_property: str, keys: list[str], properties: dict[str, dict[str, str]],
                normalise: Callable[[str | None], str | None], *, retry_transient: bool = True,
                ) -> dict[str, UpsertOutcome]:
        """One batch upsert: one outcome per key, failed transient inputs retried once in a smaller batch."""
        inputs = [{"idProperty": id_property, "id": key, "objectWriteTraceId": str(i), "properties": properties[key]}
                  for i, key in enumerate(keys)]
        try:
            batch = self.client.batch_upsert(object_type, inputs)
        except TransientError as exc:
            return {k: UpsertOutcome(key=k, error=exc.reason, transient=True) for k in keys}
        except HubSpotApiError as exc:
            if exc.status not in INPUT_REJECTED:
                raise  # 401/403 and the like: the configuration is wrong for every input alike
            if len(keys) > 1:
                # The whole batch was refused for what some input holds: halve it to find the culprit,
                # so one bad record does not hold back the other 99.
                half = len(keys) // 2
                return {**self._upsert(object_type, id_property, keys[:half], properties, normalise,
                                       retry_transient=retry_transient),
                        **self._upsert(object_type, id_property, keys[half:], properties, normalise,
                                       retry_transient=retry_transient)}
            return {keys[0]: UpsertOutcome(key=keys[0], error=_reason(exc.category, exc.codes))}
        outcomes, retry = self._read_batch(batch, keys, id_property, normalise)
        if retry and retry_transient:
            outcomes.update(self._upsert(object_type, id_property, list(retry), properties, normalise,
                                         retry_transient=False))
        else:
            outcomes.update({k: UpsertOutcome(key=k, error=reason, transient=True) for k, reason in retry.items()})
        return outcomes

    @staticmethod
    def _read_batch(batch: BatchResult, keys: list[str], id_property: str,
                    normalise: Callable[[str | None], str | None]) -> tuple[dict[str, UpsertOutcome], dict[str, str]]:
        """Match results and errors back to inputs (by objectWriteTraceId, else by the id property)."""
        by_trace = {str(i): key for i, key in enumerate(keys)}
        wanted = set(keys)
        outcomes: dict[str, UpsertOutcome] = {}
        retry: dict[str, str] = {}
        for result in batch.results:
            key = by_trace.get(str(result.get("objectWriteTraceId"))) or \
                normalise((result.get("properties") or {}).get(id_property))
            if key in wanted:
                outcomes[key] = UpsertOutcome(key=key, id=str(result["id"]), created=bool(result.get("new")))
        for error in batch.errors:
            context = error.get("context") or {}
            owners: list[str] = [by_trace[t] for t in context.get("objectWriteTraceId") or [] if t in by_trace] or \
                [key for key in (normalise(i) for i in context.get("ids") or []) if key]
            reason = _reason(error.get("category"), _error_codes(error))
            for key in owners:
                if key not in wanted or key in outcomes:
                    continue
                if error.get("category") in TRANSIENT_CATEGORIES:
                    retry[key] = reason
                else:
                    outcomes[key] = UpsertOutcome(key=key, error=reason)
        for key in keys:  # an input HubSpot did not account for is retried, never silently dropped
            if key not in outcomes and key not in retry:
                retry[key] = "missing_from_response"
        return outcomes, retry

    # ----- deals --------------------------------------------------------------------------------
    def upsert_deal(self, deal: Deal, *, contact_id: str | None) -> str:
        if contact_id is None and deal.contact_email:
            contact_id = self.find_contact_by_email(deal.contact_email)
        [outcome] = self.upsert_deals([DealWrite(deal=deal, contact_id=contact_id)])
        if outcome.error or outcome.id is None:
            if outcome.transient:
                raise TransientError(f"{VENDOR}: deal upsert failed ({outcome.error})", reason=outcome.error)
            raise VendorRejected(f"{VENDOR}: deal rejected ({outcome.error})", vendor=VENDOR, category=outcome.error)
        return outcome.id

    def upsert_deals(self, deals: Sequence[DealWrite]) -> list[UpsertOutcome]:
        """Deals upserted by synchub_order_ref up to 100 a call, then their default contact associations
        in one v4 batch call per chunk. A deal whose association failed reports that failure: its retry
        repeats the upsert (harmless, keyed) and the association (harmless, default)."""
        if not deals:
            return []
        self._ensure_order_ref_property()
        properties: dict[str, dict[str, str]] = {}  # a later input for one reference wins: HubSpot refuses
        contact_of: dict[str, str | None] = {}  # the same id twice in one batch
        for write in deals:
            properties[write.deal.reference] = deal_properties(write.deal)
            contact_of[write.deal.reference] = write.contact_id

        def associate(chunk: dict[str, UpsertOutcome]) -> None:
            pairs = [(key, (deal_id, contact_id)) for key, outcome in chunk.items()
                     if (deal_id := outcome.id) and not outcome.error and (contact_id := contact_of[key])]
            for key, (reason, transient) in self._associate_deals(pairs).items():
                chunk[key] = chunk[key].model_copy(update={"error": reason, "transient": transient})

        resolved = self._upsert_all("deals", ORDER_REF_PROPERTY, properties, lambda value: value, associate)
        outcomes = [resolved[write.deal.reference] for write in deals]
        logger.info("hubspot deals upserted", extra={
            "deals": len(deals), "deals_created": sum(o.created for o in outcomes),
            "associated": sum(1 for w, o in zip(deals, outcomes, strict=True) if w.contact_id and not o.error),
            "failed": sum(o.error is not None for o in outcomes), "transient": sum(o.transient for o in outcomes)})
        return outcomes

    def _associate_deals(self, pairs: list[tuple[str, tuple[str, str]]]) -> dict[str, tuple[str, bool]]:
        """Default deal->contact associations for (reference, (deal id, contact id)); the failed ones as
        reference -> (reason, transient). A refused call is halved to find the input HubSpot objects to."""
        if not pairs:
            return {}
        try:
            batch = self.client.batch_associate_default("deals", "contacts", [pair for _, pair in pairs])
        except TransientError as exc:
            return {key: (f"association:{exc.reason}", True) for key, _ in pairs}
        except HubSpotApiError as exc:
            if exc.status not in INPUT_REJECTED:
                raise
            if len(pairs) > 1:
                half = len(pairs) // 2
                return {**self._associate_deals(pairs[:half]), **self._associate_deals(pairs[half:])}
            return {pairs[0][0]: (f"association:{_reason(exc.category, exc.codes)}", False)}
        linked = {(str((r.get("from") or {}).get("id")), str((r.get("to") or {}).get("id"))) for r in batch.results}
        by_deal = {deal_id: key for key, (deal_id, _) in pairs}
        failed: dict[str, tuple[str, bool]] = {}
        for error in batch.errors:
            context = error.get("context") or {}
            reason = f"association:{_reason(error.get('category'), _error_codes(error))}"
            for deal_id in [str(i) for i in context.get("fromId") or context.get("ids") or []]:
                if deal_id in by_deal:
                    failed[by_deal[deal_id]] = (reason, error.get("category") in TRANSIENT_CATEGORIES)
        for key, pair in pairs:  # a pair HubSpot did not account for is retried, never taken as linked
            if key not in failed and pair not in linked:
                failed[key] = ("association:missing_from_response", True)
        return failed

    def _ensure_order_ref_property(self) -> None:
        """Once per client lifetime: the unique deal property the deal upsert is keyed on."""
        if self._order_ref_ready:
            return
        existing = self.client.get_property("deals", ORDER_REF_PROPERTY)
        if existing is None:
            self.client.create_property("deals", order_ref_property_definition())
        elif not existing.get("hasUniqueValue"):
            raise PermanentError(f"{VENDOR}: deal property {ORDER_REF_PROPERTY} exists without hasUniqueValue; "
                                 "deals cannot be upserted by it", reason="crm_misconfigured")
        self._order_ref_ready = True

    # ----- search helpers -----------------------------------------------------------------------
    def search(self, object_type: str, filter_groups: Sequence[dict[str, Any]], properties: Sequence[str] = (),
               limit: int = 100, after: str | None = None) -> SearchPage:
        return self.client.search(object_type, filter_groups, properties, limit, after)

    def find_contact_by_email(self, email: str) -> str | None:
        """The HubSpot id of the contact with this e-mail, if there is one."""
        wanted = normalise_email(email)
        if not wanted:
            return None
        page = self.search("contacts", [{"filters": [{"propertyName": "email", "operator": "EQ", "value": wanted}]}],
                           ["email"], limit=1)
        return str(page.results[0]["id"]) if page.results else None


def hubspot_crm_from_config(config: HubSpotSettings, secret: dict, http_client: httpx.Client | None = None, *,
                            policy: RetryPolicy | None = None) -> HubSpotCrm:
    """HubSpotCrm for a deployment: base URL from config.api_url, bearer from secret["access_token"].

    A given `http_client` (tests pass one over a WSGI or mock transport) is configured in place.
    """
    client = hubspot_http_client(config.base_url, secret["access_token"], client=http_client)
    return HubSpotCrm(HubSpotClient.over(client, policy=policy), batch_size=config.batch_size)
