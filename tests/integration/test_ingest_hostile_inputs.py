"""Authentic but hostile webhooks through the ingest function against moto: every one ends 200 as
accepted, skipped or parked with its reason, never 5xx; forged copies of the same bodies stay 401."""
from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.eventdata import load_event, sign_shopify, sign_woocommerce
from tests.integration.conftest import SHOPIFY_SECRET, WOO_SECRET
from tests.integration.test_ingest_handler import api_event, invoke, queue_depths

MAX_BODY = 1_048_576  # the default ingest.max_body_bytes
PLATFORMS = {
    "shopify": ("main", "shopify/orders_create", "X-Shopify-Hmac-Sha256", sign_shopify, SHOPIFY_SECRET,
                "updated_at", "note"),
    "woocommerce": ("eu", "woocommerce/order_created", "X-WC-Webhook-Signature", sign_woocommerce, WOO_SECRET,
                    "date_modified_gmt", "customer_note"),
}


def sample(platform: str) -> tuple[dict, dict[str, str]]:
    body, headers = load_event(PLATFORMS[platform][1])
    return json.loads(body), headers


def send(aws, lambda_context, platform: str, body: bytes, headers: dict[str, str], *, forged: bool = False) -> dict:
    store, _, header, sign, secret, *_ = PLATFORMS[platform]
    signature = "Zm9yZ2Vk" if forged else sign(body, secret)
    response = invoke(aws, api_event(store, platform, body, {**headers, header: signature}, base64_body=True),
                      lambda_context)
    return {"status": response["statusCode"], **json.loads(response["body"])}


def parked_reasons(aws) -> list[str]:
    return [message["MessageAttributes"]["reason"]["StringValue"]
            for message in aws.drain(aws.resources.ingest_dlq_url)]


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def with_raw_field(payload: dict, field: str, raw_json: str) -> bytes:
    """The sample with one field's value replaced by raw JSON text (which json.dumps could not write)."""
    marker = "__synchub_raw__"
    return json.dumps({**payload, field: marker}).replace(f'"{marker}"', raw_json).encode("utf-8")


def padded_to(payload: dict, field: str, size: int) -> bytes:
    """The sample with `field` filled with text until the body is exactly `size` bytes."""
    base = len(json.dumps({**payload, field: ""}).encode("utf-8"))
    return json.dumps({**payload, field: "n" * (size - base)}).encode("utf-8")


HOSTILE = {
    "nested_below_the_parser_limit": (lambda p, t, n: with_raw_field(p, n, nested(200)), "too_deeply_nested"),
    "nested_past_the_parser_limit": (lambda p, t, n: with_raw_field(p, n, nested(100_000)), "too_deeply_nested"),
    "integer_past_the_int_string_limit": (lambda p, t, n: with_raw_field(p, "id", "9" * 5000), "invalid_number"),
    "lone_surrogate": (lambda p, t, n: with_raw_field(p, n, '"gate \\ud800 code"'), "invalid_text"),
    "year_1_east_of_utc": (lambda p, t, n: json.dumps({**p, t: "0001-01-01T00:00:00+01:00"}).encode(), None),
    "year_9999_west_of_utc": (lambda p, t, n: json.dumps({**p, t: "9999-12-31T23:59:59-01:00"}).encode(), None),
}


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("case", HOSTILE)
def test_signed_hostile_body_is_parked_with_its_reason_and_answered_200(aws, lambda_context, platform, case):
    payload, headers = sample(platform)
    *_, time_field, text_field = PLATFORMS[platform]
    build, reason = HOSTILE[case]
    body = build(payload, time_field, text_field)

    result = send(aws, lambda_context, platform, body, headers)

    assert result["status"] == 200 and result["outcome"] == "parked"
    assert parked_reasons(aws) == [reason or f"invalid_field:{time_field}"]
    assert set(queue_depths(aws).values()) == {0}


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("case", HOSTILE)
def test_forged_hostile_body_gets_401_and_leaves_no_trace(aws, lambda_context, platform, case):
    payload, headers = sample(platform)
    *_, time_field, text_field = PLATFORMS[platform]
    body = HOSTILE[case][0](payload, time_field, text_field)

    assert send(aws, lambda_context, platform, body, headers, forged=True)["status"] == 401
    assert set(queue_depths(aws).values()) == {0}
    assert parked_reasons(aws) == []


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("size", [700_000, 800_000, 900_000, MAX_BODY])
def test_large_authentic_order_is_accepted_and_its_payload_travels_by_claim_check(aws, lambda_context, platform,
                                                                                   size):
    payload, headers = sample(platform)
    body = padded_to(payload, PLATFORMS[platform][6], size)

    result = send(aws, lambda_context, platform, body, headers)

    assert result["status"] == 200 and result["outcome"] == "accepted"
    [message] = aws.drain(aws.resources.queue_urls["order_to_erp"])
    ref = json.loads(message["Body"])["detail"]["payload_ref"]
    stored = aws.s3.get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"].read()
    assert json.loads(stored)["payload"] == json.loads(body)
    assert hashlib.sha256(stored).hexdigest() == ref["sha256"]


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("size", [700_000, 900_000, MAX_BODY])
def test_large_authentic_unusable_body_is_parked_by_reference_with_its_original_bytes(aws, lambda_context, platform,
                                                                                       size):
    payload, headers = sample(platform)
    del payload["id"]
    body = padded_to(payload, PLATFORMS[platform][6], size)

    result = send(aws, lambda_context, platform, body, headers)

    assert result["status"] == 200 and result["outcome"] == "parked"
    [parked] = aws.drain(aws.resources.ingest_dlq_url)
    record = json.loads(parked["Body"])
    assert parked["MessageAttributes"]["reason"]["StringValue"] == "missing_field:id"
    assert (record["store"], record["platform"]) == (PLATFORMS[platform][0], platform)
    ref = record["body_ref"]
    assert ref["size"] == size and ref["sha256"] == hashlib.sha256(body).hexdigest()
    assert aws.s3.get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"].read() == body


@pytest.mark.parametrize("platform", PLATFORMS)
def test_large_forged_body_gets_401_and_nothing_is_stored(aws, lambda_context, platform):
    payload, headers = sample(platform)
    body = padded_to(payload, PLATFORMS[platform][6], 900_000)

    assert send(aws, lambda_context, platform, body, headers, forged=True)["status"] == 401
    assert set(queue_depths(aws).values()) == {0}
    assert aws.s3.list_objects_v2(Bucket=aws.resources.payload_bucket).get("KeyCount", 0) == 0


# Any JSON value the stores could put in a field, including the awkward ones json.loads accepts.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
raw_values = json_values.map(lambda value: json.dumps(value)) | st.sampled_from([
    nested(70), nested(5000), "9" * 4301, '"\\udfff"', '"0001-01-01T00:00:00+14:00"', '"9999-12-31T23:59:59-12:00"',
    "NaN", "-Infinity", "1e999"])


@pytest.mark.parametrize("platform", PLATFORMS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_signed_body_never_gets_a_5xx(aws, lambda_context, platform, data):
    payload, headers = sample(platform)
    field = data.draw(st.sampled_from(sorted(payload)))
    body = with_raw_field(payload, field, data.draw(raw_values))

    result = send(aws, lambda_context, platform, body, headers)

    assert result["status"] == 200
    assert result["outcome"] in {"accepted", "skipped", "parked"}
