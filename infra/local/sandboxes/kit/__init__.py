"""The sandbox kit: what every sandbox vendor API shares, written once.

A vendor sandbox is a subclass of `Sandbox` that provides only what is its own:

- `ROUTES`: werkzeug `Rule`s whose endpoint `name` is served by the method `_on_<name>(request, **args)`
  returning a `Response` (built with `self.json(...)`). Paths under `/_sandbox/` are the sandbox's own
  control surface: never logged, never faulted or rate limited. The kit adds `/_sandbox/state`
  (the vendor's `state()`), `/_sandbox/requests` (the request log) and `/_sandbox/faults` (POST to inject,
  DELETE to clear).
- its state, created in `__init__` after `super().__init__(clock=..., sleep=...)`, and a `state()`
  summary for tests and the demo.
- its wire conventions: `JSON_CONTENT_TYPE` / `JSON_OPTIONS` (how it encodes JSON), `no_route(exc)` (its
  answer to an unknown path or method), `fault_response(fault)` (its error body for an injected status),
  and an error class deriving from `VendorError` whose `body()` is the vendor's documented error shape;
  raise it anywhere in a handler or gate and the kit answers with it.
- its limiter settings: `self.limiter = RateLimiter(clock, [RollingWindow(...), FixedWindow(...)])`, each
  policy naming the vendor's own rate-limit headers (`RateHeaders`), which the kit adds to every answer
  that passed the gate; or a `LeakyBucket` for cost-based APIs, driven from the vendor's handler.
- `gate(request, endpoint)`: the checks before a handler, in the vendor's order, built from
  `self.fault_answer()` (the next injected fault), its own auth check and `self.limiter.admit(endpoint)`.
  It returns a refusal `Response`, or None to go on. The default gate only answers injected faults.
- optionally `serve(request, endpoint, args)`, to adapt arguments (parse the body, normalise a path
  segment) before calling `_on_<endpoint>`.

Each API request then runs: match route -> log (method, path) -> optional latency -> gate -> serve, all
under one lock (local mode serves the sandboxes threaded). Tests drive a sandbox in-process with
`httpx.Client(transport=httpx.WSGITransport(app=sandbox))` and inject faults with `fail_next(count, status)`
or `outage(status)` until `restore()`.
"""
from infra.local.sandboxes.kit.app import RequestLog, Sandbox, VendorError, json_object
from infra.local.sandboxes.kit.faults import Fault, Faults
from infra.local.sandboxes.kit.limits import FixedWindow, LeakyBucket, Policy, RateHeaders, RateLimiter, RollingWindow

__all__ = ["Fault", "Faults", "FixedWindow", "LeakyBucket", "Policy", "RateHeaders", "RateLimiter", "RequestLog",
           "RollingWindow", "Sandbox", "VendorError", "json_object"]
