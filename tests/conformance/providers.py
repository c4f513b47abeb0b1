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

from tests.conformance import money_providers as money
from tests.fakes import FakeCrm, FakeErp, FakeStoreFeed, FakeStorefront, InMemoryMappingStore
from tests.fakes_shipments import FakeFulfillmentPayloads, FakeFulfillmentStore, FakeShipmentErp

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
    def new_contact(email: str) -> str:  # a contact in the same portal, made through HubSpot's own API
        client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://hubspot.test",
                              headers={"Authorization": "Bearer pat-conformance"})
        return str(client.post("/crm/v3/objects/contacts", json={"properties": {"email": email}}).json()["id"])

    yield Provider("hubspot", _build("hubspot", capability, context),
                   fail_next=lambda n, status: app.fail_next(n, status, retry_after=0.05),
                   extra={"refuse_deal": lambda reference: app.refuse_input("deals", reference),
                          "new_contact": new_contact,
                          "deal_contacts": lambda deal_id: app.associated_ids("deals", deal_id, "contacts")})


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

    def new_order(lines: dict[str, int]) -> str:
        from tests.eventdata import load_json

        payload = load_json("shopify/orders_create")
        payload["id"] = 9_100_000_000_000_000 + len(app.shop.orders.orders)
        template = payload["line_items"][0]
        payload["line_items"] = [{**template, "id": payload["id"] * 10 + n, "sku": sku, "quantity": quantity,
                                  "current_quantity": quantity}
                                 for n, (sku, quantity) in enumerate(lines.items())]
        app.add_order(payload)
        return str(payload["id"])

    yield Provider("shopify", _build("shopify", capability, context), location=location, create_record=create_order,
                   extra={"read": lambda sku: app.available(sku, location), "new_order": new_order,
                          "fulfilments": lambda order_id: len(app.order(order_id)["fulfillments"]),
                          "sample": ("fulfillment", "shopify/fulfillments_create", "450789469", ("123456789",)),
                          **money.shopify_extras(app)})


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

    def new_order(lines: dict[str, int]) -> str:
        answer = client.post("orders", json={"status": "processing", "billing": {"email": "ship@example.com"},
                                             "line_items": [{"sku": sku, "quantity": quantity}
                                                            for sku, quantity in lines.items()]})
        answer.raise_for_status()
        return str(answer.json()["id"])

    def tracked(order_id: str) -> int:
        from synchub.connectors.woocommerce.fulfillments import meta_items

        return len(meta_items(app.order(int(order_id))))

    yield Provider("woocommerce", _build("woocommerce", capability, context), location="default",
                   fail_next=lambda n, status: app.fail_next(n, status, retry_after=0.05),
                   create_record=create_order, touch_record=touch,
                   extra={"read": app.stock, "new_order": new_order, "fulfilments": tracked,
                          "sample": ("order", "woocommerce/order_completed_shipment_tracking", "727",
                                     ("9400111899560000000000",)),
                          **money.woocommerce_extras(client)})


@contextmanager
def tryton(capability: str, *, request: Any = None, **_: Any) -> Iterator[Provider]:
    server = request.getfixturevalue("tryton_server")
    spec = vendor_spec("tryton")
    context = ConnectionContext(connection_id="tryton-conformance",
                                settings=spec.settings.model_validate({"url": server.url, "database": server.database}),
                                load_secret=lambda: {"username": server.username, "password": server.password})
    adapter = _build("tryton", capability, context)
    erp = _build("tryton", "sales_orders", context)  # the same connection: places the orders shipped here
    try:
        yield Provider("tryton", adapter, extra={"erp": getattr(adapter, "erp", adapter),
                                                 "place_order": lambda: _place_tryton_order(erp),
                                                 "ship": lambda sale_id: _ship_tryton_sale(erp, sale_id)})
    finally:
        adapter.client.http.client.close()


def _odoo(api: str, version: int) -> Callable[..., Any]:
    @contextmanager
    def harness(capability: str, **_: Any) -> Iterator[Provider]:
        from infra.local.sandboxes.odoo import create_app

        app = create_app("odoo-conformance-key", version=version, catalog=DEMO_CATALOG)
        context = _context("odoo", {"url": "http://odoo.test", "database": "synchub", "api": api, "login": "admin"},
                           {"api_key": "odoo-conformance-key"}, app)
        adapter = _build("odoo", capability, context)
        adapter.client.http.policy.sleep = lambda seconds: None
        yield Provider(f"odoo-{api}", adapter, fail_next=lambda n, status: app.fail_next(n, status, retry_after=0.05),
                       extra={"sandbox": app})

    return harness


def _place_tryton_order(erp: Any) -> tuple[str, str]:
    """A confirmed sale of a new store order: (its store reference, the sale id)."""
    from tests.e2e.test_tryton_erp import new_order, place

    order = new_order()
    return order.store_reference, place(erp, order).id


def _ship_tryton_sale(erp: Any, sale_id: str) -> None:
    from infra.local.vendors.tryton_warehouse import ship

    ship(erp.client, int(sale_id), carrier="UPS", reference=f"CONF-{sale_id}")


def _netsuite(auth: str) -> Callable[..., Any]:
    @contextmanager
    def harness(capability: str, **_: Any) -> Iterator[Provider]:
        from infra.local.sandboxes.netsuite import create_app
        from tests.netsuite_keys import TBA, m2m, m2m_secret

        app = create_app("123456_SB1", tba=TBA, m2m=m2m(), catalog=DEMO_CATALOG)
        secret = TBA if auth == "tba" else m2m_secret()
        context = _context("netsuite", {"account_id": "123456_SB1", "auth": auth, "jwt_algorithm": "ES256",
                                        "api_url": "https://123456-sb1.suitetalk.api.netsuite.com/services/rest"},
                           secret, app)
        adapter = _build("netsuite", capability, context)
        adapter.client.http.policy.sleep = lambda seconds: None
        yield Provider(f"netsuite-{auth}", adapter,
                       fail_next=lambda n, status: app.fail_next(n, status, retry_after=0.05), extra={"sandbox": app})

    return harness


@contextmanager
def business_central(capability: str, **_: Any) -> Iterator[Provider]:
    from infra.local.sandboxes.business_central import create_app

    app = create_app("bc-conformance-client", "bc-conformance-secret", catalog=DEMO_CATALOG)
    context = _context("business_central", {"tenant": "synchub.onmicrosoft.com", "company_id": app.company_id,
                                            "api_url": "http://bc.test", "authority_url": "http://login.bc.test",
                                            "tax_code": "NONTAXABLE"},
                       {"client_id": "bc-conformance-client", "client_secret": "bc-conformance-secret"}, app)
    adapter = _build("business_central", capability, context)
    adapter.client.http.policy.sleep = lambda seconds: None
    yield Provider("business_central", adapter, fail_next=lambda n, status: app.fail_next(n, status, retry_after=0.05),
                   extra={"sandbox": app})


HARNESSES: dict[str, Callable[..., Any]] = {"hubspot": hubspot, "shopify": shopify, "woocommerce": woocommerce,
                                            "tryton": tryton, "odoo": _odoo("json2", 19),
                                            "netsuite": _netsuite("m2m"),
                                            "business_central": business_central}
# More harnesses of a registered vendor (another API flavour): the suites run them too.
VARIANTS: dict[str, dict[str, Callable[..., Any]]] = {"odoo": {"odoo-jsonrpc": _odoo("jsonrpc", 17)},
                                                       "netsuite": {"netsuite-tba": _netsuite("tba")}}
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
    "payments": lambda: money.fake_ledger(_fake_erp()),
    "returns": lambda: money.fake_ledger(_fake_erp()),
    "order_transactions": lambda: money.fake_store(),
    "refund_reader": lambda: money.fake_store(),
    "shipment_source": lambda: _fake_shipping_erp(),
    "shipment_sink": lambda: _fake_shipping_erp(),
    "fulfillments": lambda: _fake_fulfilment_store(),
    "fulfillment_payloads": lambda: Provider("fake", FakeFulfillmentPayloads(), extra={"sample": (
        "fulfillment", {"order_id": 77, "id": 5, "tracking": ["T-1"]}, "77", ("T-1",))}),
}


def _fake_shipping_erp() -> Provider:
    from datetime import UTC, datetime

    from synchub.models import Shipment, ShippedLine, Tracking

    erp = FakeShipmentErp()

    def place() -> tuple[str, str]:
        reference, sale_id = f"fake:{len(erp.open_orders) + len(erp.done) + 1}", str(len(erp.open_orders) + 1)
        erp.open_orders[reference] = [f"s-{sale_id}"]
        return reference, reference

    def ship(sale: str) -> None:
        [shipment_id] = erp.open_orders.pop(sale)
        erp.ship(Shipment(source_id=shipment_id, order_reference=sale, carrier="UPS",
                          tracking=(Tracking(number=f"CONF-{shipment_id}"),),
                          lines=(ShippedLine(sku="MUG-CER-01", quantity=1),), shipped_at=datetime.now(UTC)))

    return Provider("fake", erp, extra={"place_order": place, "ship": ship})


def _fake_fulfilment_store() -> Provider:
    store = FakeFulfillmentStore()

    def new_order(lines: dict[str, int]) -> str:
        order_id = str(len(store.orders) + 1)
        store.add_order(order_id, lines)
        return order_id

    return Provider("fake", store, extra={"new_order": new_order,
                                          "fulfilments": lambda order_id: len(store.orders[order_id].fulfillments)})


def _fake_crm() -> Provider:
    crm = FakeCrm()

    def deal_contacts(deal_id: str) -> list[str]:
        contact = next(c for position, (_, c) in enumerate(crm.deals.values()) if f"d-{position + 1}" == deal_id)
        return [contact] if contact else []

    def new_contact(email: str) -> str:
        from synchub.models import Customer

        return str(crm.upsert_contacts([Customer(source_id=email, email=email)])[0].id)

    return Provider("fake", crm, fail_next=crm.fail_next,
                    extra={"refuse_deal": crm.refuse.add, "new_contact": new_contact, "deal_contacts": deal_contacts})


def _fake_sink() -> Provider:
    sink = FakeStorefront({("MUG-CER-01", "loc-1"): 4})
    return Provider("fake", sink, location="loc-1", extra={"read": lambda sku: sink.available.get((sku, "loc-1"))})


def _fake_feed() -> Provider:
    feed = FakeStoreFeed()
    return Provider("fake", feed, create_record=feed.create, touch_record=feed.touch)


def provider_ids(capability: str) -> list[str]:
    """`fake` (when there is one) and every registered vendor that claims `capability`."""
    vendors = [vendor for vendor in VENDORS if vendor_spec(vendor).provides_capability(capability)]
    variants = [name for vendor in vendors for name in VARIANTS.get(vendor, {})]
    return (["fake"] if capability in FAKES else []) + vendors + variants


@contextmanager
def provide(capability: str, name: str, request: Any) -> Iterator[Provider]:
    if name == "fake":
        yield FAKES[capability]()
        return
    harness = HARNESSES.get(name) or next(found[name] for found in VARIANTS.values() if name in found)
    with harness(capability, request=request) as provider:
        yield provider
