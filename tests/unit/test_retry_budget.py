"""Transient failures are retried for a budget in time, not in receives, then parked with the last error."""
from __future__ import annotations

import json

import pytest
from synchub.errors import TransientError, UnknownSku
from synchub.runtime.config import DeploymentConfig, FlowSettings, RetrySettings
from synchub.runtime.queue_flow import run_queue_flow
from synchub.runtime.retry import RetryPolicy, receive_backstop, retry_policy, waited_seconds

from tests.fakes import FakeLambdaContext
from tests.unit.test_order_flows import envelope

HOUR = 3600.0
FIRST_RECEIVED = 1_700_000_000.0  # epoch seconds of the record's first receive
DEFAULT = RetryPolicy.of(RetrySettings())
pytestmark = pytest.mark.filterwarnings("ignore:Disabling idempotency")


class ParkedMessages:
    """The flow's DLQ: what was parked, with its reason and detail."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, dict]] = []

    def park(self, body: str, reason: str, detail: dict | None = None) -> None:
        self.messages.append((body, reason, detail or {}))


class RetryDelays:
    """Stands in for QueueBackoff: the delay the flow set on each record it handed back."""

    def __init__(self) -> None:
        self.seconds: dict[str, int] = {}

    def delay(self, record: dict, seconds: int) -> None:
        self.seconds[record["messageId"]] = seconds


def sqs_record(receives: int, message_id: str = "m-1") -> dict:
    env = envelope("orders_create")
    body = json.dumps({"source": "synchub", "detail-type": env.detail_type, "detail": json.loads(env.model_dump_json())})
    return {"messageId": message_id, "receiptHandle": f"rh-{message_id}", "body": body,
            "attributes": {"ApproximateReceiveCount": str(receives),
                           "ApproximateFirstReceiveTimestamp": str(int(FIRST_RECEIVED * 1000)),
                           "SentTimestamp": str(int(FIRST_RECEIVED * 1000) - 200)},
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:synchub-test-order_to_crm"}


def crm_down(_envelope):
    raise TransientError("hubspot: HTTP 503", reason="vendor_unavailable", status=503)


def run(record: dict, *, hours_after_first_receive: float, apply=crm_down, policy: RetryPolicy = DEFAULT):
    parked, delays = ParkedMessages(), RetryDelays()
    response = run_queue_flow({"Records": [record]}, FakeLambdaContext(), flow="order_to_crm", apply=apply,
                              dead_letters=parked, idempotency_store=None, backoff=delays, retry=policy,
                              clock=lambda: FIRST_RECEIVED + hours_after_first_receive * HOUR)
    return response, parked.messages, delays.seconds


@pytest.fixture(autouse=True)
def no_idempotency_table(monkeypatch):
    # Idempotency is pinned against DynamoDB in the integration tests; here only the retry decision counts.
    monkeypatch.setenv("POWERTOOLS_IDEMPOTENCY_DISABLED", "true")


def test_backoff_doubles_from_ten_seconds_to_a_fifteen_minute_cap():
    assert [DEFAULT.delay(RuntimeError("boom"), receives=n) for n in range(1, 10)] == [
        10, 20, 40, 80, 160, 320, 640, 900, 900]


def test_the_vendors_retry_after_is_honoured_within_the_cap():
    assert DEFAULT.delay(TransientError("429", retry_after=2.2), receives=30) == 3
    assert DEFAULT.delay(TransientError("429", retry_after=7200), receives=1) == 900


def test_a_time_scale_shrinks_every_delay_and_the_budget_but_never_below_one_second():
    scaled = RetryPolicy.of(RetrySettings(time_scale=0.001))
    assert [scaled.delay(RuntimeError("boom"), receives=n) for n in (1, 8)] == [1, 1]
    assert scaled.delay(TransientError("429", retry_after=0.01), receives=1) == 1
    assert scaled.budget_seconds == pytest.approx(43.2)


def test_an_outage_just_inside_the_budget_is_still_retried_at_the_receive_sqs_would_have_parked_before():
    response, parked, delays = run(sqs_record(receives=6), hours_after_first_receive=11.9)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert parked == []
    assert delays == {"m-1": 320}


def test_a_failure_after_the_budget_is_parked_as_retries_exhausted_with_the_last_error():
    record = sqs_record(receives=54)
    response, parked, delays = run(record, hours_after_first_receive=12.0)

    assert response == {"batchItemFailures": []}  # acknowledged: the DLQ holds it now
    [(body, reason, detail)] = parked
    assert body == record["body"]  # the whole event, ready for redrive
    assert reason == "retries_exhausted"
    assert (detail["error"], detail["error_reason"]) == ("TransientError", "vendor_unavailable")
    assert detail["waited_seconds"] == 12 * 3600 and detail["receives"] == 54
    assert delays == {}


def test_the_last_receive_parks_with_a_reason_before_sqs_moves_it_without_one():
    policy = RetryPolicy(settings=RetrySettings(), max_receives=8)
    _, parked, _ = run(sqs_record(receives=8), hours_after_first_receive=0.5, policy=policy)
    assert [reason for _, reason, _ in parked] == ["retries_exhausted"]

    _, parked, _ = run(sqs_record(receives=7), hours_after_first_receive=0.5, policy=policy)
    assert parked == []


def test_a_permanent_failure_is_parked_at_once_with_its_reason():
    def unknown_sku(_envelope):
        raise UnknownSku(["TEE-PNK-XS"])

    response, parked, _ = run(sqs_record(receives=1), hours_after_first_receive=0, apply=unknown_sku)

    assert response == {"batchItemFailures": []}
    [(_, reason, detail)] = parked
    assert (reason, detail["skus"]) == ("unknown_sku", ["TEE-PNK-XS"])


def test_age_counts_from_the_first_receive_else_from_sending():
    assert waited_seconds({"ApproximateFirstReceiveTimestamp": "1000000", "SentTimestamp": "900000"}, 1060) == 60
    assert waited_seconds({"SentTimestamp": "900000"}, 1000) == 100
    assert waited_seconds({}, 1000) == 0


def test_the_receive_backstop_grows_with_the_budget_within_the_sqs_limit():
    assert receive_backstop(RetrySettings()) == 110  # 55 receives of backoff in 12 h, doubled
    assert receive_backstop(RetrySettings(budget_hours=24)) > receive_backstop(RetrySettings())
    assert receive_backstop(RetrySettings(first_delay_seconds=1, max_delay_seconds=1, budget_hours=168)) == 1000


def test_a_flow_overrides_only_the_retry_fields_it_sets():
    config = DeploymentConfig(stage="test", connections=(), retry=RetrySettings(budget_hours=6, time_scale=0.5),
                              flows={"order_to_crm": FlowSettings(retry=RetrySettings(budget_hours=24)),
                                     "order_to_erp": FlowSettings(max_receive_count=8)})

    crm = retry_policy(config, "order_to_crm")
    assert (crm.settings.budget_hours, crm.settings.time_scale) == (24, 0.5)
    assert retry_policy(config, "customer_to_crm").settings.budget_hours == 6
    assert retry_policy(config, "order_to_erp").max_receives == 8


def test_the_queue_age_alarm_fires_well_before_the_budget_parks_anything():
    assert DEFAULT.stuck_after_seconds == 2170  # the cap reached after 21 min, waited out once
    assert DEFAULT.stuck_after_seconds < DEFAULT.budget_seconds / 10


def test_a_max_delay_below_the_first_delay_is_refused():
    with pytest.raises(ValueError, match="max_delay_seconds"):
        RetrySettings(first_delay_seconds=60, max_delay_seconds=30)
