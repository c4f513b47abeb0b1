"""The sandbox kit on its own: a toy vendor written the way the kit's docstring says (routes, state, its
limiter settings and wire conventions), driven in-process over WSGI, with a fake clock and sleep."""
from __future__ import annotations

from typing import Any, ClassVar

import httpx
import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from infra.local.sandboxes.kit import (
    Fault,
    FixedWindow,
    LeakyBucket,
    RateHeaders,
    RateLimiter,
    RollingWindow,
    Sandbox,
    VendorError,
    json_object,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class ToyError(VendorError):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status, self.code = status, code

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code}}


class ToySandbox(Sandbox):
    """Notes keyed by id; a key header; 3 requests per 10 s, 5 a day, 1 search a second."""

    ROUTES: ClassVar[list[Rule]] = [
        Rule("/v1/notes", endpoint="notes", methods=["GET", "POST"]),
        Rule("/v1/notes/search", endpoint="search", methods=["POST"]),
    ]

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock, sleep=clock.sleep)
        self.limiter = RateLimiter(clock, [
            FixedWindow("DAY", 5, 86_400, headers=RateHeaders("X-Day-Limit", "X-Day-Left")),
            RollingWindow("BURST", 3, 10.0, headers=RateHeaders("X-Limit", "X-Left", "X-Window-Ms")),
            RollingWindow("SEARCH", 1, 1.0, endpoints={"search"}),
        ])
        self.notes: list[dict[str, Any]] = []

    def state(self) -> dict[str, Any]:
        return {**super().state(), "notes": len(self.notes)}

    def no_route(self, exc: HTTPException) -> Response:
        return self.json({"error": {"code": "no_route"}}, 404)

    def fault_response(self, fault: Fault) -> Response:
        return self.json({"error": {"code": f"injected_{fault.status}"}}, fault.status, fault.headers())

    def gate(self, request: Request, endpoint: str) -> Response | None:
        if (fault := self.fault_answer()) is not None:
            return fault
        if request.headers.get("X-Key") != "secret":
            raise ToyError(401, "bad_key")
        assert self.limiter is not None
        if (refused := self.limiter.admit(endpoint)) is not None:
            return self.json({"error": {"code": refused.name}}, 429, self.limiter.headers())
        return None

    def _on_notes(self, request: Request) -> Response:
        if request.method == "POST":
            body = json_object(request)
            if body is None:
                raise ToyError(400, "not_an_object")
            self.notes.append(body)
            return self.json(body, 201)
        return self.json(self.notes)

    def _on_search(self, request: Request) -> Response:
        return self.json({"total": len(self.notes)})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def toy(clock: FakeClock) -> ToySandbox:
    return ToySandbox(clock)


def client(app: Sandbox, key: str | None = "secret") -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://toy.test",
                        headers={"X-Key": key} if key else {})


def test_routes_dispatch_to_handlers_and_vendor_errors_answer_in_the_vendor_shape(toy):
    api = client(toy)

    created = api.post("/v1/notes", json={"text": "hello"})
    not_object = api.post("/v1/notes", json=["a list"])
    unknown = api.get("/v2/nothing")
    wrong_method = api.delete("/v1/notes")

    assert (created.status_code, created.json()) == (201, {"text": "hello"})
    assert created.headers["content-type"] == "application/json"
    assert (not_object.status_code, not_object.json()) == (400, {"error": {"code": "not_an_object"}})
    assert (unknown.status_code, unknown.json()) == (404, {"error": {"code": "no_route"}})
    assert wrong_method.json() == {"error": {"code": "no_route"}}
    assert client(toy, key="wrong").get("/v1/notes").json() == {"error": {"code": "bad_key"}}


def test_the_rolling_window_refuses_past_its_limit_and_slides_with_the_clock(toy, clock):
    api = client(toy)

    answers = [api.get("/v1/notes") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-Left"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0].headers["X-Limit"] == "3" and answers[0].headers["X-Window-Ms"] == "10000"
    assert answers[3].json() == {"error": {"code": "BURST"}}
    clock.now += 9.9
    assert api.get("/v1/notes").status_code == 429
    clock.now += 0.1
    assert api.get("/v1/notes").status_code == 200


def test_a_fixed_window_counts_refused_requests_out_and_starts_afresh_after_its_period(toy, clock):
    api = client(toy)
    statuses = []
    for _ in range(7):
        statuses.append(api.get("/v1/notes").status_code)
        clock.now += 10  # past the burst window each time

    assert statuses == [200] * 5 + [429] * 2
    assert api.get("/v1/notes").headers["X-Day-Left"] == "0"
    clock.now += 86_400
    fresh = api.get("/v1/notes")
    assert (fresh.status_code, fresh.headers["X-Day-Left"]) == (200, "4")


def test_a_policy_scoped_to_an_endpoint_limits_only_that_endpoint(toy, clock):
    api = client(toy)

    assert [api.post("/v1/notes/search").status_code for _ in range(2)] == [200, 429]
    assert api.get("/v1/notes").status_code == 200
    clock.now += 1
    assert api.post("/v1/notes/search").status_code == 200


def test_the_leaky_bucket_spends_refills_at_its_rate_and_takes_refunds(clock):
    bucket = LeakyBucket(maximum=50, rate=10, clock=clock)

    assert bucket.take(45) is True
    assert bucket.take(10) is False and bucket.available == 5  # refused: nothing spent
    clock.now += 0.5
    assert bucket.take(10) is True and bucket.available == 0
    bucket.give_back(4)
    clock.now += 100
    bucket.refill()
    assert bucket.available == 50  # never above the maximum


def test_fail_next_fails_exactly_that_many_requests_then_answers_normally(toy, clock):
    api = client(toy)
    toy.fail_next(2, 502, retry_after=1.5)

    answers = [api.get("/v1/notes") for _ in range(3)]

    assert [a.status_code for a in answers] == [502, 502, 200]
    assert answers[0].json() == {"error": {"code": "injected_502"}}
    assert answers[0].headers["Retry-After"] == "1.5"
    assert toy.faults.pending == 0


def test_an_outage_lasts_until_restore_and_drops_pending_faults(toy):
    api = client(toy)
    toy.fail_next(5, 500)
    toy.outage(503)

    assert [api.get("/v1/notes").status_code for _ in range(3)] == [503, 503, 503]
    toy.restore()
    assert api.get("/v1/notes").status_code == 200
    assert toy.faults.pending == 0 and not toy.faults.in_outage


def test_a_fault_can_carry_its_own_body_and_latency(toy, clock):
    api = client(toy)
    toy.fail_next(1, 429, body={"custom": True}, latency=2.5)

    answer = api.get("/v1/notes")

    assert (answer.status_code, answer.json()) == (429, {"custom": True})
    assert clock.slept == [2.5]


def test_faults_and_limits_leave_the_sandbox_surface_alone(toy):
    api = client(toy, key=None)
    toy.outage(503)

    state = api.get("/_sandbox/state")

    assert (state.status_code, state.json()) == (200, {"requests": 0, "notes": 0})


def test_the_request_log_records_api_requests_but_not_inspection(toy):
    api = client(toy)
    api.post("/v1/notes", json={"text": "a"})
    api.get("/v1/notes", params={"page": 2})
    api.get("/_sandbox/state")

    assert toy.requests == [("POST", "/v1/notes"), ("GET", "/v1/notes")]
    assert api.get("/_sandbox/requests").json() == {"requests": [{"method": "POST", "path": "/v1/notes"},
                                                                 {"method": "GET", "path": "/v1/notes"}]}
    assert api.get("/_sandbox/state").json() == {"requests": 2, "notes": 1}


def test_the_request_log_keeps_only_the_most_recent_requests(toy):
    toy.requests.maxlen = 3
    api = client(toy)
    for n in range(5):
        api.get("/nowhere" if n < 2 else "/v1/notes")  # an unknown route is not an API request
    toy.restore()

    assert toy.requests == [("GET", "/v1/notes")] * 3


def test_faults_can_be_injected_and_cleared_over_http(toy):
    api = client(toy)

    ordered = api.post("/_sandbox/faults", json={"status": 500, "count": 1})
    assert ordered.json() == {"outage": False, "pending": 1}
    assert [api.get("/v1/notes").status_code for _ in range(2)] == [500, 200]

    api.post("/_sandbox/faults", json={"status": 503})
    assert api.get("/v1/notes").status_code == 503
    assert api.delete("/_sandbox/faults").json() == {"outage": False, "pending": 0}
    assert api.get("/v1/notes").status_code == 200


def test_two_sandboxes_of_one_kind_keep_separate_state(clock):
    first, second = ToySandbox(clock), ToySandbox(clock)
    first.outage()

    assert client(first).get("/v1/notes").status_code == 503
    assert client(second).get("/v1/notes").status_code == 200
    assert (len(first.requests), len(second.requests)) == (1, 1)
