"""Fuzzing ingest: whole API Gateway requests drawn by hypothesis, through the ingest function, against moto.

test_ingest_hostile_inputs.py pins named hostile bodies and fuzzes one field of a signed sample; this file
draws the whole request: the signature (right, missing, garbage, over another body, under another secret,
over a tampered body, in the other vendor's header), the body (the samples, any JSON, any bytes, invalid
UTF-8, lone surrogates in the event text, nesting around the limit, sizes around max_body_bytes), the
headers (case, duplicates, junk, none at all), the topic, the store and vendor in the path, and the method.

Properties, checked on every example against what the deployment really holds (a catch-all rule on the
bus feeding a tap queue, the ingest DLQ, the payload bucket):
- no answer is 5xx (AWS works here; test_aws_failure_* show the 503 when it does not);
- a forgery gets 401 and leaves nothing on the bus, in the DLQ or in the bucket;
- a correctly signed request is accepted (exactly its event on the bus), skipped (nothing) or parked
  (exactly one DLQ record carrying the answer's reason, and nothing on the bus).

Examples per test: SYNCHUB_FUZZ_EXAMPLES (default 150); the outcome counts are printed after the module.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from collections import Counter
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.eventdata import load_event
from tests.handlers import load_handler
from tests.integration.conftest import SHOPIFY_SECRET, WOO_SECRET
from tests.integration.test_ingest_handler import APIGW

EXAMPLES = int(os.environ.get("SYNCHUB_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False, print_blob=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])
MAX_BODY = 1_048_576  # the default ingest.max_body_bytes of the integration config
TALLY: Counter[str] = Counter()  # outcomes over every example of this module, printed after it


@dataclass(frozen=True)
class Vendor:
    store: str
    signature_header: str
    topic_header: str
    secret: str
    samples: tuple[str, ...]
    topics: tuple[str, ...]


VENDORS = {
    "shopify": Vendor("main", "X-Shopify-Hmac-Sha256", "X-Shopify-Topic", SHOPIFY_SECRET,
                      ("shopify/orders_create", "shopify/customers_update", "shopify/refunds_create",
                       "shopify/orders_create_unicode", "shopify/customers_redact"),
                      ("orders/create", "orders/updated", "customers/create", "refunds/create",
                       "inventory_levels/update", "shop/redact", "carts/update")),
    "woocommerce": Vendor("eu", "X-WC-Webhook-Signature", "X-WC-Webhook-Topic", WOO_SECRET,
                          ("woocommerce/order_created", "woocommerce/customer_updated",
                           "woocommerce/product_updated", "woocommerce/order_cancelled"),
                          ("order.created", "order.updated", "order.deleted", "customer.created",
                           "product.updated", "coupon.created")),
}
WOO_PING = re.compile(rb"^webhook_id=\d+$")


def sign(body: bytes, secret: str) -> str:
    # Written out, not imported from synchub: the vendors' algorithm, pinned independently.
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


# -- bodies ---------------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=16,
)
EXTREME_RAW = ["9" * 4301, "-" + "9" * 400, "1e999", "-1e-999", "NaN", "Infinity", "1.7976931348623157e308",
               '"0001-01-01T00:00:00+14:00"', '"9999-12-31T23:59:59-12:00"', '"-999999-01-01T00:00:00Z"',
               '"2025-02-30T25:61:61Z"', "253402300800", "-62135596801", '"\\ud800"', '"\\udfff\\ud800"',
               '"\\u0000"', "[" * 63 + "]" * 63, "[" * 65 + "]" * 65, '{"a":' * 64 + "1" + "}" * 64]


def nested(depth: int, opener: str) -> bytes:
    closer = {"[": "]", '{"k":': "}"}[opener]
    return ("{\"id\": 1, \"x\": " + opener * depth + "0" + closer * depth + "}").encode()


def sample_with(name: str, field_name: str, raw_json: str) -> bytes:
    payload = json.loads(load_event(name)[0])
    marker = "__synchub_fuzz__"
    return json.dumps({**payload, field_name: marker}).replace(f'"{marker}"', raw_json).encode("utf-8")


@st.composite
def bodies(draw: st.DrawFn, vendor: Vendor) -> bytes:
    kind = draw(st.sampled_from(["sample", "sample", "sample", "sample_field", "sample_field", "json", "bytes", "invalid_utf8", "nested", "huge",
                                 "empty", "ping"]))
    event(f"body: {kind}")
    sample = draw(st.sampled_from(vendor.samples))
    if kind == "sample":
        return load_event(sample)[0]
    if kind == "sample_field":
        field_name = draw(st.sampled_from(sorted(json.loads(load_event(sample)[0]))))
        raw = draw(st.sampled_from(EXTREME_RAW) | json_values.map(json.dumps))
        return sample_with(sample, field_name, raw)
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "invalid_utf8":
        text = load_event(sample)[0]
        cut = draw(st.integers(0, len(text)))
        return text[:cut] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                                                  b"\x80"])) + text[cut:]
    if kind == "nested":
        return nested(draw(st.sampled_from([62, 63, 64, 65, 500, 50_000])), draw(st.sampled_from(["[", '{"k":'])))
    if kind == "huge":
        size = draw(st.sampled_from([MAX_BODY - 1, MAX_BODY, MAX_BODY + 1, 3 * MAX_BODY]))
        base = load_event(sample)[0]
        return base[:-1] + b', "zz": "' + b"n" * max(0, size - len(base) - 9) + b'"}'
    if kind == "empty":
        return b""
    return f"webhook_id={draw(st.integers(0, 10**6))}".encode()


# -- requests -------------------------------------------------------------------------------------------------

FORGERIES = ("missing", "empty", "garbage", "random_digest", "over_another_body", "wrong_secret",
             "other_stores_secret", "tampered", "truncated", "hex_digest", "in_the_other_vendors_header")
METHODS = ["POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "post", "BREW"]


@dataclass
class Request:
    event: dict
    vendor: str
    signing: str  # "signed" or one of FORGERIES
    body: bytes  # the bytes the handler will see
    known_route: bool


def event_text(body: bytes) -> str:
    """The body as a proxy event's text. Undecodable bytes can only reach a handler as lone surrogates in
    that text (how Python reads a JSON string holding them); bytes already in that form keep it."""
    for errors in ("strict", "surrogatepass"):
        try:
            return body.decode("utf-8", errors)
        except UnicodeDecodeError:
            continue
    return body.decode("utf-8", "surrogateescape")


def seen_bytes(body: bytes) -> bytes:
    """The bytes the handler reads from that text (what a store's signature must cover)."""
    return event_text(body).encode("utf-8", "surrogatepass")


def _spell(name: str, style: str) -> str:
    return {"as_sent": name, "lower": name.lower(), "upper": name.upper(), "title": name.title()}[style]


@st.composite
def requests(draw: st.DrawFn) -> Request:
    vendor_name = draw(st.sampled_from(sorted(VENDORS)))
    vendor = VENDORS[vendor_name]
    other = VENDORS[next(name for name in VENDORS if name != vendor_name)]
    body = draw(bodies(vendor))
    as_text = draw(st.sampled_from([False, True, True]))
    if as_text:
        body = seen_bytes(body)
    event(f"encoding: {'text' if as_text else 'base64'}")
    _, sample_headers = load_event(vendor.samples[0])
    headers = {name: value for name, value in sample_headers.items() if name != vendor.topic_header}

    topic = draw(st.sampled_from(["sample", "sample", "sample", "known", "unknown", "missing", "other_vendor"]))
    event(f"topic: {topic}")
    topic_value = {"sample": sample_headers.get(vendor.topic_header), "known": draw(st.sampled_from(vendor.topics)),
                   "unknown": draw(st.text(max_size=30)), "missing": None,
                   "other_vendor": draw(st.sampled_from(other.topics))}[topic]
    if topic_value is not None:
        headers[vendor.topic_header] = topic_value

    signing = draw(st.sampled_from(("signed",) * 6 + FORGERIES))
    event(f"signing: {signing}")
    signature_header = vendor.signature_header
    signature: str | None
    if signing == "signed":
        signature = sign(body, vendor.secret)
    elif signing == "missing":
        signature = None
    elif signing == "empty":
        signature = draw(st.sampled_from(["", " ", "\t"]))
    elif signing == "garbage":
        signature = draw(st.text(max_size=64))
    elif signing == "random_digest":
        signature = base64.b64encode(draw(st.binary(min_size=32, max_size=32))).decode()
    elif signing == "over_another_body":
        another = draw(bodies(vendor).filter(lambda other_body: other_body != body))
        signature = sign(another, vendor.secret)
    elif signing == "wrong_secret":
        signature = sign(body, draw(st.text(min_size=1, max_size=40).filter(lambda s: s != vendor.secret)))
    elif signing == "other_stores_secret":
        signature = sign(body, other.secret)
    elif signing == "tampered":
        signature = sign(body, vendor.secret)
        body = draw(st.sampled_from([body + b" ", body + b"\n", b" " + body, body[:-1], body.replace(b"1", b"2", 1),
                                     body.upper()]).filter(lambda tampered: tampered != body))
    elif signing == "truncated":
        signature = sign(body, vendor.secret)[: draw(st.integers(0, 43))]
    elif signing == "hex_digest":
        signature = hmac.new(vendor.secret.encode(), body, hashlib.sha256).hexdigest()
    else:  # a valid signature, but under the other vendor's header name: this vendor's header is absent
        signature_header = other.signature_header
        signature = sign(body, vendor.secret)
    if signature is not None:
        headers[signature_header] = signature

    style = draw(st.sampled_from(["as_sent", "lower", "upper", "title"]))
    event(f"header case: {style}")
    headers = {_spell(name, style): value for name, value in headers.items()}
    multi: dict[str, list[str]] = {name: [value] for name, value in headers.items()}
    duplicate = draw(st.sampled_from(["none", "same_value_other_case", "multi_value"]))
    event(f"duplicates: {duplicate}")
    if duplicate == "same_value_other_case" and signature is not None:
        headers[_spell(signature_header, "lower" if style != "lower" else "upper")] = signature
    elif duplicate == "multi_value" and signature is not None:
        # REST API proxy events keep the last value in `headers`, every value in `multiValueHeaders`.
        name = _spell(signature_header, style)
        multi[name] = [draw(st.text(max_size=20)), headers[name]]
    junk = draw(st.dictionaries(st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,20}\Z"), st.text(max_size=40),
                                max_size=4))
    headers = {**{name: value for name, value in junk.items() if name.lower() not in {h.lower() for h in headers}},
               **headers}

    route = draw(st.sampled_from(["right"] * 12 + ["other_vendor", "unknown_store", "empty", "no_path_parameters"]))
    event(f"route: {route}")
    path_parameters: dict[str, str] | None = {
        "right": {"store": vendor.store, "platform": vendor_name},
        "other_vendor": {"store": vendor.store, "platform": next(n for n in VENDORS if n != vendor_name)},
        "unknown_store": {"store": draw(st.text(max_size=12).filter(lambda s: s not in {"main", "eu"})),
                          "platform": vendor_name},
        "empty": {"store": "", "platform": ""},
        "no_path_parameters": None,
    }[route]

    text_body = event_text(body) if as_text else None
    body = seen_bytes(body) if as_text else body

    method = draw(st.sampled_from(METHODS))
    api_event = {**APIGW, "httpMethod": method, "path": f"/webhooks/{vendor.store}/{vendor_name}",
                 "pathParameters": path_parameters, "headers": headers or None, "multiValueHeaders": multi,
                 "body": base64.b64encode(body).decode() if text_body is None else text_body,
                 "isBase64Encoded": text_body is None}
    return Request(api_event, vendor_name, signing, body, known_route=route == "right")


def expected_status(request: Request) -> set[int]:
    """What the answer must be, worked out from how the request was made (not from the decoder)."""
    if not request.known_route:
        return {404}
    if len(request.body) > MAX_BODY:
        return {413}
    signature_header = VENDORS[request.vendor].signature_header.lower()
    unsigned = not any(name.lower() == signature_header and value.strip()
                       for name, value in (request.event["headers"] or {}).items())
    if request.vendor == "woocommerce" and unsigned and WOO_PING.match(request.body.strip()):
        return {200}  # WooCommerce's creation ping: unsigned by design, answered and dropped
    return {200} if request.signing == "signed" else {401}


# -- what the deployment holds --------------------------------------------------------------------------------

class Observed:
    """A tap on the bus (a catch-all rule into a queue of its own), the ingest DLQ and the payload bucket."""

    def __init__(self, aws) -> None:
        self.aws = aws
        tap = aws.sqs.create_queue(QueueName="fuzz-bus-tap")["QueueUrl"]
        arn = aws.sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        aws.events.put_rule(Name="fuzz-tap", EventBusName=aws.resources.bus_name,
                            EventPattern=json.dumps({"source": ["synchub"]}))
        aws.events.put_targets(Rule="fuzz-tap", EventBusName=aws.resources.bus_name,
                               Targets=[{"Id": "tap", "Arn": arn}])
        self.tap = tap

    def objects(self) -> int:
        return self.aws.s3.list_objects_v2(Bucket=self.aws.resources.payload_bucket).get("KeyCount", 0)

    def bus_events(self) -> list[dict]:
        return [json.loads(message["Body"]) for message in self.aws.drain(self.tap)]

    def parked(self) -> list[tuple[str, dict]]:
        return [(message["MessageAttributes"]["reason"]["StringValue"], json.loads(message["Body"]))
                for message in self.aws.drain(self.aws.resources.ingest_dlq_url)]

    def flush_flow_queues(self) -> None:
        for url in self.aws.resources.queue_urls.values():
            self.aws.drain(url)


@pytest.fixture(scope="module", autouse=True)
def print_tally(request):
    yield
    if TALLY:
        line = ", ".join(f"{name} {count}" for name, count in sorted(TALLY.items()))
        with request.config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
            print(f"\ningest fuzz ({EXAMPLES} examples): {line}")


def invoke(aws, api_event: dict, lambda_context) -> tuple[int, dict]:
    response = load_handler("ingest").lambda_handler(api_event, lambda_context, wiring=aws.wiring("ingest"))
    return response["statusCode"], json.loads(response["body"])


@FUZZ
@given(request=requests())
def test_any_request_gets_its_answer_and_only_signed_events_reach_the_bus(aws, lambda_context, request):
    if not hasattr(aws, "fuzz_observed"):  # one tap per moto world; examples share the function's fixture
        aws.fuzz_observed = Observed(aws)
    observed = aws.fuzz_observed
    objects_before = observed.objects()

    status, answer = invoke(aws, request.event, lambda_context)

    TALLY[f"{status} {answer['outcome']}"] += 1
    TALLY["examples"] += 1
    event(f"answer: {status} {answer['outcome']}")
    assert status < 500, answer
    assert status in expected_status(request), (request.signing, status, answer)
    on_bus, parked = observed.bus_events(), observed.parked()
    if status != 200 or answer["outcome"] not in {"accepted", "parked"}:
        assert on_bus == [] and parked == [] and observed.objects() == objects_before, answer
    elif answer["outcome"] == "accepted":
        [bus_event] = on_bus
        assert bus_event["detail"]["topic"] == answer["reason"] and parked == []
        TALLY["events on the bus"] += 1
    else:
        [(reason, record)] = parked
        assert reason == answer["reason"] and on_bus == []
        assert record["store"] == VENDORS[request.vendor].store and record["platform"] == request.vendor
        kept = base64.b64decode(record["body_base64"]) if "body_base64" in record else None
        assert kept is None or kept == request.body  # parked with its original bytes (or by claim check)
        TALLY[f"parked: {reason.split(':')[0]}"] += 1
    if TALLY["examples"] % 25 == 0:
        observed.flush_flow_queues()


def test_a_lone_surrogate_in_the_event_text_is_parked_not_a_crash(aws, lambda_context):
    """Found by the fuzzer: a proxy event whose body text holds a lone surrogate (undecodable bytes) made
    `str.encode("utf-8")` raise, and the function failed (API Gateway answers 502, the store retries forever)."""
    body = load_event("shopify/orders_create")[0].replace(b'"note": null', b'"note": "caf\xe9"')
    assert b"\xe9" in body
    text = body.decode("utf-8", "surrogateescape")
    raw = text.encode("utf-8", "surrogatepass")
    _, headers = load_event("shopify/orders_create")
    observed = Observed(aws)
    for signature, expected in ((sign(raw, SHOPIFY_SECRET), (200, "parked")), ("Zm9yZ2Vk", (401, "rejected"))):
        api_event = {**APIGW, "headers": {**headers, "X-Shopify-Hmac-Sha256": signature}, "body": text,
                     "isBase64Encoded": False}
        status, answer = invoke(aws, api_event, lambda_context)
        assert (status, answer["outcome"]) == expected
    assert [reason for reason, _ in observed.parked()] == ["invalid_text"]
    assert observed.bus_events() == []


def test_a_body_that_is_not_base64_gets_401_not_a_crash(aws, lambda_context):
    body, headers = load_event("shopify/orders_create")
    api_event = {**APIGW, "headers": {**headers, "X-Shopify-Hmac-Sha256": sign(body, SHOPIFY_SECRET)},
                 "body": "not base64 at all!", "isBase64Encoded": True}
    observed = Observed(aws)

    status, _ = invoke(aws, api_event, lambda_context)

    assert status == 401
    assert observed.bus_events() == [] and observed.parked() == []


@pytest.mark.parametrize("broken", ["bus", "dlq"])
def test_aws_failure_is_the_only_5xx_and_the_store_retries(aws, lambda_context, broken):
    """The other side of `no 5xx`: when the bus (or, for a parked body, the DLQ) is gone, the answer is 503."""
    body, headers = load_event("shopify/orders_create")
    if broken == "bus":
        aws.events.delete_event_bus(Name=aws.resources.bus_name)
    else:
        aws.sqs.delete_queue(QueueUrl=aws.resources.ingest_dlq_url)
        body = b'{"note": "no id"}'
    api_event = {**APIGW, "headers": {**headers, "X-Shopify-Hmac-Sha256": sign(body, SHOPIFY_SECRET)},
                 "body": body.decode(), "isBase64Encoded": False}

    status, answer = invoke(aws, api_event, lambda_context)
    forged_status, _ = invoke(aws, {**api_event, "headers": {**headers, "X-Shopify-Hmac-Sha256": "Zm9yZ2Vk"}},
                              lambda_context)

    assert (status, answer["outcome"]) == (503, "unavailable")
    assert forged_status == 401
