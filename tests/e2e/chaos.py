"""The chaos replay's parts: a seeded stream of store orders with its ground truth, the faults, the figures.

- `generate(...)` makes orders for Shopify and WooCommerce from fewer people than orders (so customers
  repeat across orders and stores), each order a list of events (create, update, paid, cancel), each event
  a full order snapshot at its version, built from the published sample bodies in `events/`. The ground
  truth (`OrderTruth`) is computed from the generated figures, never from SyncHub's own mapping.
- An event kind is one `EventKind` entry in `EVENT_KINDS`: how it changes the truth, how each store
  shows it (topic and payload), and how often it happens. Adding payments' or refunds' later flows is one
  more entry plus its expectation in `expected_*` (see the module's README note in the test).
- `TcpProxy` stands between SyncHub and Tryton so a test can make the ERP unreachable and back.
- `crash_after(...)` makes a flow process die right after a vendor write returns, before SyncHub's own
  mapping write, as a killed Lambda would (the batch comes back after its visibility timeout).
"""
from __future__ import annotations

import copy
import hashlib
import json
import random
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CENT = Decimal("0.01")
SHOPIFY_TAX = Decimal("0.08")
WOO_TAX = Decimal("0.0725")

FIRST = ["Jane", "Omar", "Mei", "Lukas", "Amara", "Diego", "Sofia", "Kenji", "Zainab", "Pierre", "Ingrid", "Ravi",
         "Chloé", "Tomasz", "Aiyana", "Noor", "Björn", "Lucía", "Kwame", "Yuki"]
LAST = ["Doe", "Haddad", "Chen", "Becker", "Okafor", "Ramírez", "Rossi", "Sato", "Hussain", "Martin", "Larsen",
        "Iyer", "Dubois", "Nowak", "Begay", "Rahimi", "Lund", "García", "Mensah", "Tanaka"]
CITIES = [("New York", "NY", "10118"), ("Austin", "TX", "78701"), ("Seattle", "WA", "98101"),
          ("Denver", "CO", "80202"), ("Boston", "MA", "02108"), ("Chicago", "IL", "60601")]


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    return f"{cents(value):.2f}"


def _sample(name: str) -> tuple[dict[str, Any], dict[str, str]]:
    path = ROOT / "events" / f"{name}.json"
    return json.loads(path.read_text()), json.loads(path.with_name(path.stem + ".headers.json").read_text())


# -- people and orders ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    first: str
    last: str
    email: str  # lower case; stores may show it in another case
    city: tuple[str, str, str]
    shopify_id: int
    woo_id: int
    guest_at_woo: bool  # checks out at the WooCommerce store as a guest (customer_id 0)


@dataclass(frozen=True)
class Line:
    sku: str
    title: str
    price: Decimal
    quantity: int
    discount: Decimal  # the store's discount on this line
    tax: Decimal  # the store's tax on this line after discount


@dataclass
class OrderTruth:
    """One order as the store knows it, and what every system must show for it in the end."""

    store: str  # connection id: "main" (Shopify) or "eu" (WooCommerce)
    order_id: int
    number: int
    person: Person
    lines: list[Line]
    shipping: Decimal
    shipping_tax: Decimal
    created: datetime
    test: bool = False
    poison: str | None = None  # the reason its ERP event must be parked with, if planted
    events: list[Event] = field(default_factory=list)
    # state after the events applied so far (ends as the final state)
    note: str | None = None
    paid: bool = False
    cancelled: bool = False
    refunded: Decimal = Decimal(0)  # for the refund flow to come (see EVENT_KINDS)

    @property
    def platform(self) -> str:
        return "shopify" if self.store == "main" else "woocommerce"

    @property
    def reference(self) -> str:
        return f"{self.store}:{self.order_id}"

    @property
    def subtotal(self) -> Decimal:  # lines before discount
        return sum((line.price * line.quantity for line in self.lines), Decimal(0))

    @property
    def discount(self) -> Decimal:
        return sum((line.discount for line in self.lines), Decimal(0))

    @property
    def tax(self) -> Decimal:
        return sum((line.tax for line in self.lines), Decimal(0)) + self.shipping_tax

    @property
    def total(self) -> Decimal:
        """The ground truth: lines + shipping + tax - discount, as the store reports them."""
        return self.subtotal + self.shipping + self.tax - self.discount

    @property
    def customer_key(self) -> str:
        """SyncHub's key of the ERP customer this order bills (a store's customer, or a guest by e-mail)."""
        if self.store == "main":
            return f"main:{self.person.shopify_id}"
        if self.person.guest_at_woo:  # WooCommerce guests are keyed by a digest of the e-mail, not the e-mail
            return "eu:guest:" + hashlib.sha256(self.person.email.encode("utf-8")).hexdigest()[:24]
        return f"eu:{self.person.woo_id}"

    @property
    def woo_email(self) -> str:  # WooCommerce keeps the case the shopper typed
        local, _, domain = self.person.email.partition("@")
        return f"{local.title()}@{domain}"

    @property
    def synced(self) -> bool:
        """Whether SyncHub should carry this order to the ERP at all."""
        return not self.test and self.poison is None


@dataclass(frozen=True)
class EventKind:
    """One kind of store event: how it changes the order, and how each store sends it.

    `apply` changes the truth; `shopify`/`woocommerce` turn the order's current truth into (topic, body)
    for that store, or are None when the store sends no such webhook. `chance` is how often an order has
    one; `after` orders kinds within one order's history (versions increase in this order)."""

    name: str
    chance: float
    apply: Callable[[OrderTruth, random.Random], None]
    shopify: Callable[[OrderTruth, datetime], tuple[str, dict[str, Any]]] | None
    woocommerce: Callable[[OrderTruth, datetime], tuple[str, dict[str, Any]]] | None


@dataclass(frozen=True)
class Event:
    order: OrderTruth
    kind: str
    version: datetime
    topic: str
    body: bytes
    event_id: str  # Shopify's X-Shopify-Event-Id (the same on every retry of the webhook)


@dataclass(frozen=True)
class Delivery:
    event: Event
    attempt: int  # 1 for the first delivery, 2 and 3 for the store's repeats


# -- payloads, built from the published sample bodies ----------------------------------------------------

SHOPIFY_ORDER, _ = _sample("shopify/orders_create")
WOO_ORDER, _ = _sample("woocommerce/order_created")


def _shop_set(amount: Decimal) -> dict[str, Any]:
    value = {"amount": money(amount), "currency_code": "USD"}
    return {"shop_money": value, "presentment_money": dict(value)}


def _shopify_time(moment: datetime) -> str:
    return moment.astimezone(timezone(timedelta(hours=-5))).isoformat(timespec="seconds")


def shopify_body(order: OrderTruth, version: datetime) -> dict[str, Any]:
    body = copy.deepcopy(SHOPIFY_ORDER)
    template_line = body["line_items"][0]
    person = order.person
    items = []
    for n, line in enumerate(order.lines):
        item = copy.deepcopy(template_line)
        item.update({
            "id": order.order_id * 10 + n, "admin_graphql_api_id": f"gid://shopify/LineItem/{order.order_id * 10 + n}",
            "sku": line.sku, "name": line.title, "title": line.title, "variant_title": None,
            "price": money(line.price), "price_set": _shop_set(line.price), "quantity": line.quantity,
            "current_quantity": line.quantity, "fulfillable_quantity": line.quantity,
            "tax_lines": [{**item["tax_lines"][0], "price": money(line.tax), "price_set": _shop_set(line.tax),
                           "rate": float(SHOPIFY_TAX)}],
            "discount_allocations": ([{"amount": money(line.discount), "amount_set": _shop_set(line.discount),
                                       "discount_application_index": 0}] if line.discount else []),
        })
        items.append(item)
    shipping_line = body["shipping_lines"][0]
    shipping_line.update({
        "id": order.order_id * 10 + 9, "price": money(order.shipping), "price_set": _shop_set(order.shipping),
        "discounted_price": money(order.shipping), "discounted_price_set": _shop_set(order.shipping),
        "current_discounted_price_set": _shop_set(order.shipping),
        "tax_lines": [{**shipping_line["tax_lines"][0], "price": money(order.shipping_tax),
                       "price_set": _shop_set(order.shipping_tax)}] if order.shipping_tax else []})
    subtotal = order.subtotal - order.discount
    city, province, zip_code = person.city
    address = {**body["billing_address"], "first_name": person.first, "last_name": person.last,
               "name": f"{person.first} {person.last}", "city": city, "province_code": province, "zip": zip_code,
               "address1": f"{order.order_id % 997} Market Street", "address2": None}
    figures = {
        "total_line_items_price": order.subtotal, "total_discounts": order.discount, "subtotal_price": subtotal,
        "total_tax": order.tax, "total_price": order.total,
        "current_subtotal_price": subtotal, "current_total_discounts": order.discount,
        "current_total_tax": order.tax, "current_total_price": order.total,
    }
    for name, amount in figures.items():
        body[name] = money(amount)
        if f"{name}_set" in body:
            body[f"{name}_set"] = _shop_set(amount)
    email = person.email
    body.update({
        "id": order.order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order.order_id}",
        "name": f"#{order.number}", "number": order.number - 1000, "order_number": order.number,
        "confirmation_number": uuid.UUID(int=order.order_id).hex[:9].upper(), "token": uuid.UUID(int=order.order_id).hex,
        "email": email, "contact_email": email, "test": order.test,
        "created_at": _shopify_time(order.created), "processed_at": _shopify_time(order.created),
        "updated_at": _shopify_time(version), "line_items": items, "shipping_lines": [shipping_line],
        "total_shipping_price_set": _shop_set(order.shipping), "current_shipping_price_set": _shop_set(order.shipping),
        "discount_codes": ([{"code": "WELCOME10", "amount": money(order.discount), "type": "percentage"}]
                           if order.discount else []),
        "tax_lines": [{**body["tax_lines"][0], "price": money(order.tax), "price_set": _shop_set(order.tax)}],
        "note": order.note, "tags": "chaos", "financial_status": "paid" if order.paid else "pending",
        "total_outstanding": "0.00" if order.paid else money(order.total),
        "billing_address": address, "shipping_address": dict(address),
        "cancelled_at": _shopify_time(version) if order.cancelled else None,
        "cancel_reason": "customer" if order.cancelled else None,
        "closed_at": _shopify_time(version) if order.cancelled else None,
    })
    if order.cancelled:
        body["financial_status"] = "refunded" if order.paid else "voided"
    customer = body["customer"]
    customer.update({"id": person.shopify_id, "admin_graphql_api_id": f"gid://shopify/Customer/{person.shopify_id}",
                     "first_name": person.first, "last_name": person.last, "email": email,
                     "phone": None, "updated_at": _shopify_time(order.created),
                     "default_address": {**customer["default_address"], **{k: v for k, v in address.items()
                                                                          if k in customer["default_address"]},
                                         "id": person.shopify_id + 1, "customer_id": person.shopify_id}})
    return body


def _woo_time(moment: datetime) -> tuple[str, str]:
    """(local, GMT) as WooCommerce writes them; the store runs on UTC-8."""
    gmt = moment.astimezone(UTC).replace(tzinfo=None)
    return (gmt - timedelta(hours=8)).isoformat(timespec="seconds"), gmt.isoformat(timespec="seconds")


def woo_body(order: OrderTruth, version: datetime) -> dict[str, Any]:
    body = copy.deepcopy(WOO_ORDER)
    template = body["line_items"][0]
    person = order.person
    items = []
    for n, line in enumerate(order.lines):
        subtotal = line.price * line.quantity
        subtotal_tax = cents(subtotal * WOO_TAX)
        total = subtotal - line.discount
        item = copy.deepcopy(template)
        item.update({"id": order.order_id * 10 + n, "name": line.title, "product_id": 100 + n, "variation_id": 0,
                     "quantity": line.quantity, "subtotal": money(subtotal), "subtotal_tax": money(subtotal_tax),
                     "total": money(total), "total_tax": money(line.tax), "sku": line.sku, "price": float(line.price),
                     "taxes": [{"id": 1, "total": money(line.tax), "subtotal": money(subtotal_tax)}], "meta_data": []})
        items.append(item)
    cart_tax = sum((line.tax for line in order.lines), Decimal(0))
    discount_tax = sum((cents(line.price * line.quantity * WOO_TAX) - line.tax for line in order.lines), Decimal(0))
    created_local, created_gmt = _woo_time(order.created)
    modified_local, modified_gmt = _woo_time(version)
    city, state, postcode = person.city
    billing = {**body["billing"], "first_name": person.first, "last_name": person.last, "city": city, "state": state,
               "postcode": postcode, "address_1": f"{order.order_id % 991} Harbor Road", "address_2": "",
               "email": order.woo_email, "phone": ""}
    shipping = {k: v for k, v in billing.items() if k != "email"}
    status = "cancelled" if order.cancelled else "processing" if order.paid else "pending"
    paid_local, paid_gmt = _woo_time(version) if order.paid else (None, None)
    body.update({
        "id": order.order_id, "number": str(order.number), "status": status,
        "order_key": f"wc_order_{uuid.UUID(int=order.order_id).hex[:13]}",
        "customer_id": 0 if person.guest_at_woo else person.woo_id, "billing": billing, "shipping": shipping,
        "date_created": created_local, "date_created_gmt": created_gmt,
        "date_modified": modified_local, "date_modified_gmt": modified_gmt,
        "date_paid": paid_local, "date_paid_gmt": paid_gmt, "customer_note": order.note or "",
        "discount_total": money(order.discount), "discount_tax": money(discount_tax),
        "shipping_total": money(order.shipping), "shipping_tax": money(order.shipping_tax),
        "cart_tax": money(cart_tax), "total_tax": money(order.tax), "total": money(order.total),
        "line_items": items, "fee_lines": [], "needs_payment": not order.paid,
        "coupon_lines": ([{**body["coupon_lines"][0], "discount": money(order.discount),
                           "discount_tax": money(discount_tax), "nominal_amount": 10, "code": "welcome10",
                           "discount_type": "percent"}] if order.discount else []),
        "tax_lines": [{**body["tax_lines"][0], "tax_total": money(cart_tax),
                       "shipping_tax_total": money(order.shipping_tax)}],
        "shipping_lines": [{**body["shipping_lines"][0], "id": order.order_id * 10 + 9,
                            "total": money(order.shipping), "total_tax": money(order.shipping_tax), "taxes": [],
                            "meta_data": []}],
    })
    body["_links"] = {"self": [{"href": f"https://shop.synchub-demo.example/wp-json/wc/v3/orders/{order.order_id}"}]}
    return body


# -- event kinds ------------------------------------------------------------------------------------------

def _create(order: OrderTruth, rng: random.Random) -> None:
    pass


def _update(order: OrderTruth, rng: random.Random) -> None:
    order.note = rng.choice(["Please gift wrap", "Leave at the side door", "Ring twice", "Deliver after 5 pm"])


def _pay(order: OrderTruth, rng: random.Random) -> None:
    order.paid = True


def _cancel(order: OrderTruth, rng: random.Random) -> None:
    order.cancelled = True


EVENT_KINDS: tuple[EventKind, ...] = (
    EventKind("create", 1.0, _create,
              shopify=lambda o, v: ("orders/create", shopify_body(o, v)),
              woocommerce=lambda o, v: ("order.created", woo_body(o, v))),
    EventKind("update", 0.4, _update,
              shopify=lambda o, v: ("orders/updated", shopify_body(o, v)),
              woocommerce=lambda o, v: ("order.updated", woo_body(o, v))),
    # WooCommerce has no payment webhook: the payment shows as order.updated, status processing.
    EventKind("paid", 0.5, _pay,
              shopify=lambda o, v: ("orders/paid", shopify_body(o, v)),
              woocommerce=lambda o, v: ("order.updated", woo_body(o, v))),
    EventKind("cancel", 0.15, _cancel,
              shopify=lambda o, v: ("orders/cancelled", shopify_body(o, v)),
              woocommerce=lambda o, v: ("order.updated", woo_body(o, v))),
    # A refund flow adds here: EventKind("refund", 0.1, _refund, shopify=... ("refunds/create", refund body),
    # woocommerce=... ("order.updated" with refunds[])), `_refund` setting order.refunded, plus its
    # expectation in expected_stage (refunded) and a credit-note check in the test.
)


# -- the stream -------------------------------------------------------------------------------------------

@dataclass
class Stream:
    orders: list[OrderTruth]
    people: list[Person]
    deliveries: list[Delivery]
    poison_bodies: list[tuple[str, dict[str, str], bytes, str]]  # (store, headers, raw body, expected reason)

    @property
    def events(self) -> list[Event]:
        return [event for order in self.orders for event in order.events]


def _people(rng: random.Random, count: int, run: str, base: int) -> list[Person]:
    people = []
    for n in range(count):
        first, last = FIRST[n % len(FIRST)], LAST[(n * 7 + n // len(FIRST)) % len(LAST)]
        ascii_last = last.encode("ascii", "ignore").decode() or "x"
        email = f"{first.encode('ascii', 'ignore').decode().lower()}.{ascii_last.lower()}.{n}.{run}@example.com"
        people.append(Person(first, last, email, rng.choice(CITIES), shopify_id=base * 1000 + n,
                             woo_id=base % 10**6 * 1000 + n, guest_at_woo=rng.random() < 0.15))
    return people


def _lines(rng: random.Random, catalog: list[dict[str, Any]], tax_rate: Decimal) -> list[Line]:
    products = rng.sample(catalog, rng.choice([1, 1, 2, 2, 3]))
    percent = rng.choice([Decimal(0), Decimal(0), Decimal(10)])
    lines = []
    for product in products:
        price, quantity = Decimal(product["price"]), rng.choice([1, 1, 1, 2, 3])
        discount = cents(price * quantity * percent / 100)
        lines.append(Line(product["sku"], product["title"], price, quantity, discount,
                          cents((price * quantity - discount) * tax_rate)))
    return lines


def generate(*, orders: int, seed: int, catalog: list[dict[str, Any]],
             test_orders: int = 3) -> Stream:
    rng = random.Random(seed)
    run = uuid.UUID(int=rng.getrandbits(128)).hex[:6]
    base = int(datetime.now(UTC).timestamp() * 1000) % 10**9  # unique per run: Tryton's DB outlives it
    people = _people(rng, max(4, orders // 4), run, base)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    truths: list[OrderTruth] = []
    for n in range(orders + test_orders):
        test = n >= orders  # Shopify's test checkouts (bogus gateway): no sale, no deal
        store = "main" if test else rng.choice(["main", "eu"])
        shipping = rng.choice([Decimal(0), Decimal("8.00") if store == "main" else Decimal("6.00")])
        tax_rate = SHOPIFY_TAX if store == "main" else WOO_TAX
        truths.append(OrderTruth(
            store=store, order_id=(9_200_000_000_000_000 + base * 10_000 + n) if store == "main" else base * 10 + n,
            number=10_000 + n, person=rng.choice(people), lines=_lines(rng, catalog, tax_rate), shipping=shipping,
            shipping_tax=cents(shipping * SHOPIFY_TAX) if store == "main" else Decimal(0),
            created=start + timedelta(minutes=n), test=test))
    # Planted poison: an order with a SKU the ERP has never heard of (its deal still counts).
    poison = truths[rng.randrange(orders)]
    poison.poison = "unknown_sku"
    poison.lines = [Line("NOPE-404", "Discontinued mug", Decimal("9.00"), 1, Decimal(0),
                         cents(Decimal("9.00") * (SHOPIFY_TAX if poison.store == "main" else WOO_TAX))), *poison.lines]

    for order in truths:
        version = order.created
        for kind in EVENT_KINDS:
            if rng.random() >= kind.chance:
                continue
            render = kind.shopify if order.platform == "shopify" else kind.woocommerce
            if render is None:
                continue
            kind.apply(order, rng)
            version += timedelta(minutes=rng.randint(1, 30)) if order.events else timedelta(0)
            topic, body = render(order, version)
            order.events.append(Event(order, kind.name, version, topic, json.dumps(body).encode("utf-8"),
                                      event_id=str(uuid.UUID(int=rng.getrandbits(128)))))
    deliveries = [Delivery(event, attempt) for order in truths for event in order.events
                  for attempt in range(1, rng.choices([1, 2, 3], weights=[45, 35, 20])[0] + 1)]
    rng.shuffle(deliveries)
    # A signed body that is not an order: the store's bug, parked at ingest with its reason.
    malformed = b'{"id": 4242, "status": "pending", "line_items": [{"sku": "TEE-BLK-M", "quantity": '
    poison_bodies = [("eu", woo_headers("order.created"), malformed, "invalid_json")]
    return Stream(truths, people, deliveries, poison_bodies)


def woo_headers(topic: str) -> dict[str, str]:
    _, headers = _sample("woocommerce/order_created")
    resource, _, event = topic.partition(".")
    return {**headers, "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": resource, "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex}


def shopify_headers(event: Event) -> dict[str, str]:
    _, headers = _sample("shopify/orders_create")
    return {**headers, "X-Shopify-Topic": event.topic, "X-Shopify-Event-Id": event.event_id,
            "X-Shopify-Webhook-Id": str(uuid.uuid5(uuid.NAMESPACE_URL, event.event_id)),
            "X-Shopify-Triggered-At": event.version.isoformat(), "X-Shopify-Order-Id": str(event.order.order_id)}


def headers_for(event: Event) -> dict[str, str]:
    if event.order.platform == "shopify":
        return shopify_headers(event)
    headers = woo_headers(event.topic)
    # A repeat of one WooCommerce delivery carries its delivery id again.
    headers["X-WC-Webhook-Delivery-ID"] = uuid.uuid5(uuid.NAMESPACE_URL, event.event_id).hex
    return headers


# -- expectations -----------------------------------------------------------------------------------------

def expected_stage(order: OrderTruth) -> str:
    """The deal stage key (CRM settings' `stages`) the order's final state maps to."""
    if order.cancelled:
        return "cancelled"
    return "paid" if order.paid else "pending"


# -- faults -----------------------------------------------------------------------------------------------

class TcpProxy:
    """A TCP relay to `target` that can be closed (connections refused, open ones cut) and reopened."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener: socket.socket | None = None
        self.port = 0
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.refused_while_closed = 0  # connections cut while closed (faults injected)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True, name="chaos-proxy").start()

    def close(self) -> None:
        """The ERP goes away: new connections are refused, open ones are cut mid-call."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            for conn in list(self._open):
                _shut(conn)
            self._open.clear()

    @property
    def is_open(self) -> bool:
        return self._listener is not None

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _shut(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _shut(sink)
            _shut(source)
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)


def _shut(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    conn.close()


class ProcessKilled(BaseException):
    """The flow process dies here. BaseException, so no `except Exception` of ours (or Powertools') sees it."""


@dataclass
class CrashPlan:
    """Kill the process once per planted reference, right after the vendor's write returned."""

    references: set[str]
    crashed: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, port: Any, method: str, reference_of: Callable[..., str]) -> None:
        original = getattr(port, method)

        def write_then_die(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            reference = reference_of(*args, **kwargs)
            with self.lock:
                if reference not in self.references or reference in self.crashed:
                    return result
                self.crashed.add(reference)
            raise ProcessKilled(reference)

        setattr(port, method, write_then_die)


class FunctionCrashed(Exception):
    """What the event source mapping sees when the function's process died: no response at all."""


def survive_kills(handler: Callable[[dict[str, Any], Any], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """The event source mapping's view of a killed invocation: the whole batch failed, untouched, and
    comes back after the queue's visibility timeout (nothing of ours ran to shorten it)."""

    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return handler(event, context)
        except ProcessKilled as killed:
            raise FunctionCrashed(str(killed)) from None

    return invoke


@dataclass
class Timeline:
    """Faults switched on and off at set seconds after the start, from a background thread."""

    steps: list[tuple[float, str, Callable[[], None]]]
    log: list[tuple[float, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self, started: float, clock: Callable[[], float]) -> threading.Thread:
        def play() -> None:
            for at, name, action in sorted(self.steps, key=lambda step: step[0]):
                if self._stop.wait(max(0.0, started + at - clock())):
                    return
                action()
                self.log.append((round(clock() - started, 1), name))

        thread = threading.Thread(target=play, daemon=True, name="chaos-timeline")
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()


def drain_messages(sqs: Any, url: str) -> Iterator[dict[str, Any]]:
    """Every message of a queue (a DLQ at the end of a run), each received once."""
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                    VisibilityTimeout=300).get("Messages", [])
        if not batch:
            return
        yield from batch
