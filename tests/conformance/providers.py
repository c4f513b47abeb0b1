"""Who provides each capability, built the way production builds it: each vendor through the factory its
spec registers, against its sandbox (or a real local server), and the in-memory fakes of tests/fakes.py.

A vendor that claims a capability without a harness here fails `test_every_claimed_capability_is_tested`,
so a new vendor gets the whole battery by adding its harness (the Singer SDK's standard tests, for us).
"""
from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from synchub.connectors.registry import VENDORS, vendor_spec
from synchub.ports import ConnectionContext

from tests.fakes import FakeCrm, FakeErp, FakeStoreFeed, FakeStorefront, InMemoryMappingStore

ROOT = Path(__file__).resolve().parents[2]
DEMO_CATALOG = ROOT / "infra" / "local" / "demo_catalog.json"


@dataclass
class Provider:
    """One adapter under test, with the few handles the suites need to provoke what they check."""

    name: str
    adapter: Any
    location: str = ""  # a store location that exists (stock sinks)
    known_sku: str = "MUG-CER-01"  # an SKU the system knows (demo catalogue)
    fail_next: Callable[[int, int], None] | None = None  # (count, HTTP status): fault injection
    create_record: Callable[[], str] | None = None  # makes a new record a change feed must report
    touch_record: Callable[[str], None] | None = None  # changes that record
    extra: dict[str, Any] = field(default_factory=dict)


def _context(vendor: str, settings: dict[str, Any], secret: dict[str, Any], app: Any) -> ConnectionContext:
    spec = vendor_spec(vendor)
    return ConnectionContext(connection_id=f"{vendor}-conformance", settings=spec.settings.model_validate(settings),
                             load_secret=lambda: secret, http_client=httpx.Client(transport=httpx.WSGITransport(app=app)),
                             mappings=InMemoryMappingStore())


def _build(vendor: str, capability: str, context: ConnectionContext) -> Any:
    return vendor_spec(vendor).factory(capability)(context)


# Harnesses: vendor -> capability -> a context manager yielding a Provider --------------------------
@contextmanager
def hubspot(capability: str, **_: Any) -> Iterator[Provider]:
    from infra.local.sandboxes.hubspot import create_app

    app = create_app("pat-conformance")
    context = _context("hubspot", {"api_url": "http://hubspot.test"}, {"access_token": "pat-conformance"}, app)
    yield Provider("hubspot", _build("hubspot", capability, context),
                   fail_next=lambda n, status: app.fail_next(n, status, retry_after=0.05))


@contextmanager
def shopify(capability: str, **_: Any) -> Iterator[Provider]:
    from infra.local.sandboxes.shopify import create_app

    app = create_app("shpat_conformance", "conformance.myshopify.com", catalog=DEMO_CATALOG)
    location = app.locations()[0]["id"]
    context = _context("shopify", {"domain": "conformance.myshopify.com", "api_url": "http://shop.test",
                                   "locations": {"WH": location}},
                       {"access_token": "shpat_conformance", "webhook_secret": "x"}, app)
    order = json.loads((ROOT / "events" / "shopify" / "orders_create.json").read_text(encoding="utf-8"))
    numbers = itertools.count(order["id"] + 1)

    def create_order() -> str:  # an order placed in the shop (the record fetcher's subject)
        return str(app.add_order({**order, "id": next(numbers)})["id"])

    yield Provider("shopify", _build("shopify", capability, context), location=location, create_record=create_order,
                   extra={"read": lambda sku: app.available(sku, location)})


@contextmanager
def woocommerce(capability: str, **_: Any) -> Iterator[Provider]:
    from infra.local.sandboxes.woocommerce import create_app

    app = create_app("ck_conformance", "cs_conformance", DEMO_CATALOG)
    context = _context("woocommerce", {"domain": "https://woo.test", "locations": {"WH": "default"}},
                       {"consumer_key": "ck_conformance", "consumer_secret": "cs_conformance", "webhook_secret": "x"},
                       app)
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="https://woo.test/wp-json/wc/v3/",
                          auth=("ck_conformance", "cs_conformance"))

    def create_order() -> str:
        answer = client.post("orders", json={"status": "processing", "billing": {"email": "feed@example.com"},
                                             "line_items": [{"sku": "MUG-CER-01", "quantity": 1}]})
        answer.raise_for_status()
        return str(answer.json()["id"])

    def touch(order_id: str) -> None:
        client.put(f"orders/{order_id}", json={"status": "completed"}).raise_for_status()

    yield Provider("woocommerce", _build("woocommerce", capability, context), location="default",
                   fail_next=lambda n, status: app.fail_next(n, status, retry_after=0.05),
                   create_record=create_order, touch_record=touch, extra={"read": app.stock})


@contextmanager
def tryton(capability: str, *, request: Any = None, **_: Any) -> Iterator[Provider]:
    server = request.getfixturevalue("tryton_server")
    spec = vendor_spec("tryton")
    context = ConnectionContext(connection_id="tryton-conformance",
                                settings=spec.settings.model_validate({"url": server.url, "database": server.database}),
                                load_secret=lambda: {"username": server.username, "password": server.password})
    adapter = _build("tryton", capability, context)
    try:
        yield Provider("tryton", adapter)
    finally:
        adapter.client.http.client.close()


HARNESSES: dict[str, Callable[..., Any]] = {"hubspot": hubspot, "shopify": shopify, "woocommerce": woocommerce,
                                            "tryton": tryton}
NEEDS_LOCAL_SERVER = {"tryton"}  # real servers, started once per session: these run with the e2e tests


# Fakes -------------------------------------------------------------------------------------------
def _fake_erp() -> FakeErp:
    from synchub.models import StockLevel

    return FakeErp(products={"MUG-CER-01": "p-1", "TEE-BLK-L": "p-2", "TEE-BLK-M": "p-3", "HOOD-GRY-M": "p-4"},
                   stock=[StockLevel(sku="MUG-CER-01", warehouse="WH", on_hand=5, reserved=1)])


FAKES: dict[str, Callable[[], Provider]] = {
    "contacts": lambda: _fake_crm(),
    "deals": lambda: _fake_crm(),
    "customer_accounts": lambda: Provider("fake", _fake_erp()),
    "sales_orders": lambda: Provider("fake", _fake_erp()),
    "product_lookup": lambda: Provider("fake", _fake_erp()),
    "stock_source": lambda: Provider("fake", _fake_erp()),
    "stock_sink": lambda: _fake_sink(),
    "change_feed": lambda: _fake_feed(),
    "record_fetcher": lambda: _fake_feed(),
}


def _fake_crm() -> Provider:
    crm = FakeCrm()
    return Provider("fake", crm, fail_next=crm.fail_next)


def _fake_sink() -> Provider:
    sink = FakeStorefront({("MUG-CER-01", "loc-1"): 4})
    return Provider("fake", sink, location="loc-1", extra={"read": lambda sku: sink.available.get((sku, "loc-1"))})


def _fake_feed() -> Provider:
    feed = FakeStoreFeed()
    return Provider("fake", feed, create_record=feed.create, touch_record=feed.touch)


def provider_ids(capability: str) -> list[str]:
    """`fake` (when there is one) and every registered vendor that claims `capability`."""
    vendors = [vendor for vendor in VENDORS if vendor_spec(vendor).provides_capability(capability)]
    return (["fake"] if capability in FAKES else []) + vendors


@contextmanager
def provide(capability: str, name: str, request: Any) -> Iterator[Provider]:
    if name == "fake":
        yield FAKES[capability]()
        return
    with HARNESSES[name](capability, request=request) as provider:
        yield provider
