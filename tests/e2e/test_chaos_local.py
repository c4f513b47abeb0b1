"""Issue 15: chaos replay. A stream of store orders, repeated, shuffled and concurrent, through local mode
with the real Tryton while the CRM fails (5xx, then 429), the ERP is unreachable and flow processes die
between the ERP's write and SyncHub's mapping write; then every system is checked against ground truth.

The stream and its truth come from tests/e2e/chaos.py (seeded; `SYNCHUB_CHAOS_SEED` replays one run).
The default run (50 orders, from ~12 people) is part of `make test`; `-m chaos_large` runs 2,000 orders. Each run
prints its figures (with `-s`) and writes them to .synchub/chaos-<orders>.json.

Local mode runs this with its own stage and retry delays scaled by `retry.time_scale` (hours pass in
seconds, as in test_outage_local.py), two order_to_erp and two order_to_crm function instances on
their queues (as the event source mapping's concurrency would), and Tryton behind a TCP proxy.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from synchub.ports import SALES_ORDERS

from infra.local.pumps import LocalContext, QueuePump
from infra.local.runner import DEFAULT_CONFIG, DEMO_CATALOG, ROOT, LocalMode, _invoke
from tests.e2e import chaos
from tests.eventdata import sign_shopify, sign_woocommerce

pytestmark = pytest.mark.e2e

STAGE = "chaos"
TIME_SCALE = 0.005  # 1 simulated hour = 18 real seconds; the 12 h budget = 216 s, past any fault below
ERP_TIMEOUT = 10  # order_to_erp's function timeout: a killed batch returns after 6 x 10 + 1 s
INSTANCES = {"order_to_erp": 2, "order_to_crm": 2}  # concurrent function instances per queue
SENDERS = 8
SEED = int(os.environ.get("SYNCHUB_CHAOS_SEED", "15"))
# 50 orders keep the run within about four minutes on a shared 2-core machine, where the real Tryton
# on SQLite applies about one order event a second; SYNCHUB_CHAOS_ORDERS sets another size.
ORDERS = int(os.environ.get("SYNCHUB_CHAOS_ORDERS", "50"))


@pytest.fixture(scope="module")
def chaos_local(tryton_server, tmp_path_factory) -> Iterator[tuple[LocalMode, chaos.TcpProxy]]:
    target = urlparse(tryton_server.url)
    proxy = chaos.TcpProxy(target.hostname or "127.0.0.1", target.port or 8000)
    proxy.open()
    data_dir = tmp_path_factory.mktemp("synchub-chaos")
    # Its own stage and secret names (moto's servers in one process share their state).
    text = DEFAULT_CONFIG.read_text().replace("synchub/local/", f"synchub/{STAGE}/")
    config = json.loads(text)
    config.update(stage=STAGE, retry={"time_scale": TIME_SCALE})
    config["flows"]["order_to_erp"]["timeout_seconds"] = ERP_TIMEOUT
    (data_dir / "config.json").write_text(json.dumps(config))
    behind_proxy = dataclasses.replace(tryton_server, url=proxy.url, process=None)
    mode = LocalMode(data_dir=data_dir, base_port=0, start_ticks=False, reuse={"tryton": behind_proxy},
                     config_path=data_dir / "config.json")
    mode.start()
    try:
        yield mode, proxy
    finally:
        mode.stop()
        proxy.close()


@dataclasses.dataclass
class Invocations:
    """What the event source mappings saw: invocations, records, records returned for retry, kills."""

    invocations: int = 0
    records: int = 0
    retried: int = 0
    killed: int = 0
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def count(self, handler: Any) -> Any:
        def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
            size = len(event["Records"])
            try:
                response = handler(event, context)
            except chaos.FunctionCrashed:
                with self.lock:
                    self.invocations, self.records, self.killed = self.invocations + 1, self.records + size, \
                        self.killed + 1
                    self.retried += size
                raise
            with self.lock:
                self.invocations += 1
                self.records += size
                self.retried += len(response.get("batchItemFailures", []))
            return response

        return invoke


def _instances(local: LocalMode, crash: chaos.CrashPlan, counts: Invocations) -> list[QueuePump]:
    """Crash-armed order_to_erp instances, and the extra instances of each flow beside local mode's own."""
    def arm(wiring: Any) -> None:
        crash.wrap(wiring.erp(SALES_ORDERS), "create_sales_order", lambda order, **_: order.store_reference)

    arm(local.wirings["order_to_erp"])
    for pump in local.pumps.values():
        pump.handler = counts.count(chaos.survive_kills(pump.handler))
    extra = []
    for flow, count in INSTANCES.items():
        main = local.pumps[flow]
        for _n in range(count - 1):
            wiring = local.wiring(flow)  # each instance its own process: its own clients and caches
            if flow == "order_to_erp":
                arm(wiring)
            handler = functools.partial(_invoke, local.handlers[flow].lambda_handler, wiring)
            pump = QueuePump(sqs=local.sqs, queue_url=main.queue_url, queue_arn=main.queue_arn,
                             batch_size=main.batch_size, handler=counts.count(chaos.survive_kills(handler)),
                             context=LocalContext(main.context.function_name, main.context.timeout_seconds,
                                                  main.context.memory_limit_in_mb))
            pump.start()
            extra.append(pump)
    return extra


def _send_all(local: LocalMode, stream: chaos.Stream) -> Counter[int]:
    stores = local.info["stores"]

    def sign(store: str, body: bytes) -> dict[str, str]:
        secret = stores[store]["webhook_secret"]
        if stores[store]["platform"] == "shopify":
            return {"X-Shopify-Hmac-Sha256": sign_shopify(body, secret)}
        return {"X-WC-Webhook-Signature": sign_woocommerce(body, secret)}

    requests = [(stores[d.event.order.store]["webhook_url"], d.event.body,
                 {**chaos.headers_for(d.event), **sign(d.event.order.store, d.event.body)}) for d in stream.deliveries]
    for store, headers, body, _ in stream.poison_bodies:  # each delivered twice, as a store retrying would
        requests[len(requests) // 3:len(requests) // 3] = [
            (stores[store]["webhook_url"], body, {**headers, **sign(store, body)})] * 2
    statuses: Counter[int] = Counter()
    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(SENDERS) as pool:
        for status in pool.map(lambda r: client.post(r[0], content=r[1], headers=r[2]).status_code, requests):
            statuses[status] += 1
    return statuses


def _parked(local: LocalMode) -> dict[str, list[dict[str, Any]]]:
    queues = {**local.resources.dlq_urls, "ingest": local.resources.ingest_dlq_url}
    parked: dict[str, list[dict[str, Any]]] = {}
    for flow, url in queues.items():
        parked[flow] = []
        for message in chaos.drain_messages(local.sqs, url):
            attributes = {k: v.get("StringValue") for k, v in message.get("MessageAttributes", {}).items()}
            try:
                entity_id = json.loads(message["Body"])["detail"]["entity_id"]
            except (ValueError, KeyError, TypeError):
                entity_id = None
            parked[flow].append({"entity_id": entity_id, **attributes})
    return parked


def run_chaos(local: LocalMode, proxy: chaos.TcpProxy, *, orders: int, seed: int) -> dict[str, Any]:
    catalog = json.loads(DEMO_CATALOG.read_text())["products"]
    stream = chaos.generate(orders=orders, seed=seed, catalog=catalog)
    synced = [order for order in stream.orders if order.synced]
    # 1 order in 40 (at least 2) dies once after the ERP's write; the earliest sent, so the killed batch's
    # visibility timeout runs while the rest is worked off.
    # Never a cancelled order: its cancellation may be applied first, and then no sale is ever created.
    early = list(dict.fromkeys(d.event.order.reference for d in stream.deliveries
                               if d.event.order.synced and not d.event.order.cancelled))
    crash = chaos.CrashPlan(set(early[: max(2, len(synced) // 40)]))
    counts = Invocations()
    extra = _instances(local, crash, counts)
    hubspot = local.hubspot
    requests_at: dict[str, int] = {}

    def crm(status: int | None) -> None:
        requests_at[f"crm_{status}"] = len(hubspot.requests)
        if status is None:
            hubspot.restore()
        else:
            hubspot.outage(status=status)

    # Seconds after the first webhook: the CRM fails 503 then 429 for 14 s; the ERP is away for 12 s.
    timeline = chaos.Timeline([
        (2, "crm 503", lambda: crm(503)), (9, "crm 429", lambda: crm(429)), (16, "crm back", lambda: crm(None)),
        (5, "erp unreachable", proxy.close), (17, "erp back", proxy.open)])
    started = time.monotonic()
    timeline.run(started, time.monotonic)
    try:
        statuses = _send_all(local, stream)
        sent_after = time.monotonic() - started
        time.sleep(max(0.0, started + 18 - time.monotonic()))  # every fault has been switched off
        idle = local.wait_idle(timeout=240 + orders * 3)
    finally:
        timeline.stop()
        hubspot.restore()
        if not proxy.is_open:
            proxy.open()
        for pump in extra:
            pump.stop()
    drained_after = time.monotonic() - started
    left = {} if idle else {flow: depth for flow, depth in local.status()["queues"].items() if depth}
    assert statuses == Counter({200: len(stream.deliveries) + 2 * len(stream.poison_bodies)}), statuses

    parked = _parked(local)
    results = _check(local, stream, parked, [f"queues not drained: {left}"] if left else [])
    figures = {
        "seed": seed, "orders": len(stream.orders), "test_orders": sum(o.test for o in stream.orders),
        "people": len(stream.people), "events": len(stream.events), "deliveries": len(stream.deliveries),
        "duplicate_deliveries": sum(d.attempt > 1 for d in stream.deliveries),
        "events_by_kind": dict(Counter(e.kind for e in stream.events)),
        "updates_sent_before_create": results.pop("updates_before_create"),
        "faults": {"crm_503_answers": requests_at["crm_429"] - requests_at["crm_503"],
                   "crm_429_answers": requests_at["crm_None"] - requests_at["crm_429"],
                   "erp_unreachable_seconds": 12, "processes_killed_after_erp_write": len(crash.crashed),
                   "poison_messages": 1 + 2 * len(stream.poison_bodies)},
        "invocations": counts.invocations, "records_received": counts.records, "records_retried": counts.retried,
        "invocations_killed": counts.killed,
        "parked": {flow: dict(Counter(m.get("reason") for m in messages)) for flow, messages in parked.items()
                   if messages},
        **results,
        "wall_seconds": {"sending": round(sent_after, 1), "drained": round(drained_after, 1)},
        "timeline": timeline.log,
    }
    assert len(crash.crashed) == len(crash.references), "every planted crash happened"
    path = ROOT / ".synchub" / f"chaos-{orders}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, default=str))
    print(f"\nchaos replay figures ({path}):\n{json.dumps(figures, indent=2, default=str)}")
    return figures


def _check(local: LocalMode, stream: chaos.Stream, parked: dict[str, list[dict[str, Any]]],
           problems: list[str]) -> dict[str, Any]:
    erp = local.wirings["order_to_erp"].erp(SALES_ORDERS)
    stages = local.config.crm.settings.stages

    # ERP: one sale per synced order with the store's total; cancelled ones cancelled (or never created,
    # when the cancellation was applied first); none for test and poison orders.
    references = [order.reference for order in stream.orders]
    rows = erp.client.model("sale.sale", "search_read", [("reference", "in", references)], 0, None, None,
                            ["reference"])
    sales = Counter(row["reference"] for row in rows)
    never_created = 0
    for order in stream.orders:
        count = sales[order.reference]
        if not order.synced:
            if count:
                problems.append(f"{order.reference}: {count} sales for a {'test' if order.test else 'poison'} order")
            continue
        if count == 0 and order.cancelled:
            never_created += 1
            continue
        if count != 1:
            problems.append(f"{order.reference}: {count} sales")
            continue
        sale = erp.find_sales_order(order.reference)
        assert sale is not None
        want = "cancelled" if order.cancelled else ("confirmed", "processing")
        if sale.state not in want:
            problems.append(f"{order.reference}: sale {sale.state}, want {want}")
        if Decimal(sale.total) != order.total:
            problems.append(f"{order.reference}: sale total {sale.total}, want {order.total}")

    # CRM: one deal per non-test order (the poison's too: the CRM needs no SKU) with its amount and stage.
    deals: dict[str, list[dict[str, Any]]] = {}
    for deal in local.hubspot.objects("deals"):
        deals.setdefault(deal["properties"].get("synchub_order_ref"), []).append(deal)
    for order in stream.orders:
        found = deals.get(order.reference, [])
        if order.test:
            if found:
                problems.append(f"{order.reference}: deal for a test order")
            continue
        if len(found) != 1:
            problems.append(f"{order.reference}: {len(found)} deals")
            continue
        properties = found[0]["properties"]
        if Decimal(properties["amount"]) != order.total:
            problems.append(f"{order.reference}: deal amount {properties['amount']}, want {order.total}")
        if properties["dealstage"] != stages[chaos.expected_stage(order)]:
            problems.append(f"{order.reference}: deal stage {properties['dealstage']}, "
                            f"want {stages[chaos.expected_stage(order)]}")
    unexpected = set(deals) - {order.reference for order in stream.orders}
    problems += [f"{reference}: deal for no order" for reference in sorted(map(str, unexpected))]

    # One CRM contact per person (by e-mail, whatever case the store showed it in).
    buyers = {order.person.email for order in stream.orders if not order.test}
    contacts = Counter(str(c["properties"].get("email", "")).lower() for c in local.hubspot.objects("contacts"))
    problems += [f"{email}: {contacts[email]} contacts" for email in sorted(buyers) if contacts[email] != 1]
    problems += [f"{email}: contact for no buyer" for email in sorted(set(contacts) - buyers)]

    # One ERP party per store customer (guests by e-mail): never two for one key.
    keys = {order.customer_key for order in stream.orders if order.synced}
    parties = Counter(row["code"] for row in erp.client.model(
        "party.identifier", "search_read", [("code", "in", sorted(keys))], 0, None, None, ["code"]))
    problems += [f"{key}: {parties[key]} ERP parties" for key in sorted(keys) if parties[key] > 1]
    with_sale = {order.customer_key for order in stream.orders if order.synced and sales[order.reference]}
    problems += [f"{key}: no ERP party" for key in sorted(with_sale) if parties[key] == 0]

    # DLQs: only the planted poison, each with its reason.
    poison = {str(order.order_id): order.poison for order in stream.orders if order.poison}
    for flow, messages in parked.items():
        for message in messages:
            if flow == "order_to_erp" and poison.get(str(message["entity_id"])) == message.get("reason"):
                continue
            if flow == "ingest" and message.get("reason") in {reason for *_, reason in stream.poison_bodies}:
                continue
            problems.append(f"{flow} DLQ: {message}")
    if not any(m["entity_id"] in poison for m in parked["order_to_erp"]):
        problems.append("the unknown-SKU order is not parked")
    if len(parked["ingest"]) < len(stream.poison_bodies):
        problems.append(f"ingest DLQ holds {len(parked['ingest'])}, want the malformed bodies")

    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems[:50])

    first_seen: dict[str, str] = {}
    for delivery in stream.deliveries:
        first_seen.setdefault(delivery.event.order.reference, delivery.event.kind)
    return {
        "erp_sales": sum(sales.values()), "cancelled_before_the_erp_saw_them": never_created,
        "crm_deals": sum(len(found) for found in deals.values()), "crm_contacts": sum(contacts.values()),
        "erp_parties": sum(parties.values()),
        "people_with_two_store_accounts": len({o.person.email for o in stream.orders if o.store == "main"}
                                              & {o.person.email for o in stream.orders if o.store == "eu"}),
        "updates_before_create": sum(kind != "create" for kind in first_seen.values()),
    }


# Known defects the replay found once the order-lifecycle flows (payments, batched CRM) joined it; each is
# written up in the issue tracker. Not strict: the run is randomised, and a run may miss them. Remove the mark
# when they are fixed; until then the run and its figures still print, and any other failure shows in the log.
@pytest.mark.chaos
@pytest.mark.xfail(strict=False, reason=(
    "lifecycle defects found by the replay: a payment for an order cancelled before its sale existed waits for "
    "a sale that never comes (payment_to_erp retries_exhausted: sale_not_yet_created); a paid, invoiced sale "
    "cannot be cancelled (order_to_erp parks cannot_cancel_invoiced: cancel after payment needs a full "
    "return); the batched order_to_crm can leave a paid order's deal at an earlier stage after a HubSpot "
    "outage; two concurrent first orders of one WooCommerce guest can make two Tryton parties"))
def test_chaos_replay_ends_with_every_system_matching_the_ground_truth(chaos_local):
    local, proxy = chaos_local
    figures = run_chaos(local, proxy, orders=ORDERS, seed=SEED)
    assert figures["records_retried"] > 0 and figures["faults"]["crm_503_answers"] > 0  # the faults did bite


@pytest.mark.chaos_large
def test_chaos_replay_at_two_thousand_orders(chaos_local):
    local, proxy = chaos_local
    run_chaos(local, proxy, orders=2000, seed=SEED + 1)
