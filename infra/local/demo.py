"""`make demo`: local mode end to end with sample webhooks, then a table of what each system holds.

Sends signed samples from events/ through the HTTP front (the way the stores would), including a
duplicate delivery, an update that arrives before its create, a forged request and an unknown
SKU; waits for the flows; runs one stock poll; prints the ERP, CRM and store state it produced.
Then follows one order through the rest of its life: paid (the Tryton invoice), shipped in Tryton with
a tracking number (the Shopify fulfilment, the customer notified, the deal fulfilled), and partly
refunded with the goods back on the shelf (a Tryton credit note and the deal's net amount).
"""
from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from synchub.connectors.signed_webhooks import hmac_sha256_base64
from synchub.ports import RETURNS, SALES_ORDERS, STOCK_SOURCE

from infra.local.runner import LocalMode
from infra.local.vendors.tryton_warehouse import ship

EVENTS = Path(__file__).resolve().parents[2] / "events"

# (store, platform, sample, deliveries, what it shows)
SCRIPT: list[tuple[str, str, str, int, str]] = [
    ("main", "shopify", "shopify/customers_create", 1, "new customer"),
    ("main", "shopify", "shopify/orders_updated", 1, "orders/updated arriving before orders/create"),
    ("main", "shopify", "shopify/orders_create", 3, "the same webhook delivered three times"),
    ("main", "shopify", "shopify/orders_paid", 1, "payment"),
    ("main", "shopify", "shopify/orders_create_unicode", 1, "names in Persian, Arabic, Chinese, Cyrillic"),
    ("main", "shopify", "shopify/orders_create_unknown_sku", 1, "an SKU the ERP does not know (parked)"),
    ("eu", "woocommerce", "woocommerce/customer_created", 1, "WooCommerce customer"),
    ("eu", "woocommerce", "woocommerce/order_created", 1, "WooCommerce order"),
]


def signed(sample: str, platform: str, secret: str) -> tuple[bytes, dict[str, str]]:
    path = EVENTS / f"{sample}.json"
    body = path.read_bytes()
    headers = json.loads(path.with_name(path.stem + ".headers.json").read_text())
    signature = hmac_sha256_base64(body, secret)
    headers["X-Shopify-Hmac-Sha256" if platform == "shopify" else "X-WC-Webhook-Signature"] = signature
    return body, headers


LIFE_ORDER = "shopify/orders_create"  # the order whose whole life the demo follows
TRACKING = ("UPS", "1Z999AA10123456784")


def run_demo(console: Console, local: LocalMode) -> dict[str, Any]:
    info = local.start()
    console.print(f"[bold]SyncHub local mode[/] up: webhooks at {info['webhook_url']}, Tryton at {info['erp']['url']}")
    stock_before = _stock(local)
    sent: list[tuple[str, str, int]] = []
    with httpx.Client(timeout=30) as http:
        for store, platform, sample, times, what in SCRIPT:
            body, headers = signed(sample, platform, info["stores"][store]["webhook_secret"])
            for _ in range(times):
                code = http.post(info["stores"][store]["webhook_url"], content=body, headers=headers).status_code
                sent.append((sample, what, code))
            if sample.endswith("orders_updated"):
                local.wait_idle(60)  # let the update land first, as a late create would find it
        forged_body, forged_headers = signed("shopify/orders_create", "shopify", "not-the-secret")
        forged = http.post(info["stores"]["main"]["webhook_url"], content=forged_body, headers=forged_headers)
        sent.append(("shopify/orders_create (forged signature)", "rejected before the bus", forged.status_code))
    local.wait_idle(120)
    polled = local.trigger("poll_erp_stock", {})
    local.wait_idle(60)

    console.print(_deliveries(sent))
    console.print(_orders(local))
    console.print(_stock_table(local, stock_before))
    status = local.status()
    parked = _parked(local)
    console.print(f"Stock poll published {polled['changed']} changed SKU(s). DLQs: "
                  + ", ".join(f"{flow}={depth}" for flow, depth in status["dlqs"].items() if depth) or "all empty")
    for flow, reason, detail in parked:
        console.print(f"  parked in {flow}: reason={reason} {detail}")
    # A new order each run (the local Tryton database outlives runs), in the shape of the sample.
    life = json.loads((EVENTS / f"{LIFE_ORDER}.json").read_text())
    life.update(id=int(time.time() * 1000), name=f"#L{int(time.time()) % 100000}")
    life_rows = _lifecycle(local, info, life)
    console.print(_lifecycle_table(life, life_rows))
    later = [entry for entry in _parked(local) if entry not in parked]
    ours = [entry for entry in later if str(life["id"]) in entry[2]]
    console.print("Parked during the order's life: " + ("none" if not ours else "; ".join(
        f"{flow} reason={reason} {detail}" for flow, reason, detail in ours)))
    if len(later) > len(ours):  # the local Tryton database outlives the sandboxes, which start empty each run
        console.print(f"({len(later) - len(ours)} shipment(s) of earlier demo runs parked as store_order_not_found: "
                      "this run's Shopify sandbox never had those orders)")
    return {"sent": sent, "status": status, "parked": parked + later, "lifecycle": life_rows}


def _send(http: httpx.Client, info: dict[str, Any], store: str, topic: str, payload: dict[str, Any]) -> int:
    """Sign and send one Shopify webhook body as Shopify would."""
    _, headers = signed("shopify/orders_updated", "shopify", "unused")
    body = json.dumps(payload).encode()
    headers = {**headers, "X-Shopify-Topic": topic, "X-Shopify-Event-Id": f"demo-{topic}-{time.monotonic_ns()}",
               "X-Shopify-Hmac-Sha256": hmac_sha256_base64(body, info["stores"][store]["webhook_secret"])}
    return http.post(info["stores"][store]["webhook_url"], content=body, headers=headers).status_code


def _lifecycle(local: LocalMode, info: dict[str, Any], life: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Place and pay the order in Shopify, ship it in Tryton, refund one unit in Shopify; one row per step:
    (step, ERP, store, CRM)."""
    reference = f"main:{life['id']}"
    erp = local.wirings["order_to_erp"].erp(SALES_ORDERS)
    # The shopper's checkout: the order, and the payment captured through its gateway.
    local.shopify.add_order(life)
    with httpx.Client(timeout=30) as http:
        _send(http, info, "main", "orders/create", life)
        local.wait_idle(90)
        sale = erp.find_sales_order(reference)
        if sale is None:
            return [("created", "no Tryton sale (see the parked messages above)", "-", "-")]
        rows = [("created", _erp_money(local, int(sale.id)), f"{life['name']} {life['financial_status']}",
                 _deal(local, reference))]
        local.shopify.add_transaction(life["id"], kind="SALE", amount=life["total_price"],
                                      currency=life["currency"], gateway=life["payment_gateway_names"][0])
        paid = dict(local.shopify.shop.orders.get(life["id"]) or life, updated_at=dt.datetime.now(dt.UTC).isoformat())
        _send(http, info, "main", "orders/paid", paid)
        local.wait_idle(90)
        rows.append(("paid", _erp_money(local, int(sale.id)), f"{life['name']} {paid['financial_status']}",
                     _deal(local, reference)))

    # The warehouse ships it in Tryton; the shipment poll gives Shopify its fulfilment.
    carrier, number = TRACKING
    ship(erp.client, int(sale.id), carrier=carrier, reference=number)
    local.trigger("poll_erp_shipments", {})
    local.wait_idle(90)
    with httpx.Client(timeout=30) as http:
        for topic in ("fulfillments/create", "orders/updated"):  # what Shopify sends after our write
            for body in local.shopify.outbox(topic):
                _send(http, info, "main", topic, body)
        local.wait_idle(90)
        order = local.shopify.order(life["id"])
        fulfilments = order.get("fulfillments") or []
        store = "; ".join(f"{f.get('tracking_company')} {f.get('tracking_number')} {f.get('tracking_url')}"
                          f"{' (customer notified)' if f.get('notify_customer') else ''}" for f in fulfilments)
        rows.append(("shipped", _erp_shipment(local, int(sale.id)),
                     f"{order.get('fulfillment_status')}: {store or 'no fulfilment'}", _deal(local, reference)))

        # One mug comes back: Shopify's refunds/create, then its orders/updated carrying the refund.
        refund = json.loads((EVENTS / "shopify/refunds_create.json").read_text())
        refund.update(id=life["id"] + 1, order_id=life["id"])
        for item in refund["refund_line_items"]:
            item["restock_type"] = "return"
        mug_before = _stock(local).get("MUG-CER-01", (0, 0))[0]
        _send(http, info, "main", "refunds/create", refund)
        updated = json.loads((EVENTS / "shopify/orders_updated.json").read_text())
        returned = {item["line_item_id"]: item["quantity"] for item in refund["refund_line_items"]}
        for line in updated["line_items"]:  # Shopify lowers a refunded line's current quantity
            line["current_quantity"] = line["quantity"] - returned.get(line["id"], 0)
        updated.update(id=life["id"], financial_status="partially_refunded", fulfillment_status="fulfilled",
                       refunds=[refund], updated_at=dt.datetime.now(dt.UTC).isoformat())
        _send(http, info, "main", "orders/updated", updated)
        local.wait_idle(120)
    done = local.wirings["refund_to_erp"].erp(RETURNS).find_return(f"main:refund:{refund['id']}")
    credit = (f"credit note {done.total} {'posted' if done.complete else 'pending'}; MUG-CER-01 on hand "
              f"{mug_before} -> {_stock(local).get('MUG-CER-01', (0, 0))[0]}") if done else "no credit note"
    rows.append(("partly refunded", credit, f"refund {refund['id']}", _deal(local, reference)))
    return rows


def _erp_money(local: LocalMode, sale_id: int) -> str:
    client = local.wirings["order_to_erp"].erp(SALES_ORDERS).client
    sale, = client.model("sale.sale", "read", [sale_id], ["number", "state", "total_amount", "invoices"])
    invoices = client.model("account.invoice", "read", sale["invoices"], ["state", "total_amount", "amount_to_pay"])
    paid = ", ".join(f"invoice {row['state']} ({row['total_amount']}, {row['amount_to_pay']} to pay)"
                     for row in invoices) or "no invoice yet"
    return f"sale {sale['number']} {sale['state']} {sale['total_amount']}; {paid}"


def _erp_shipment(local: LocalMode, sale_id: int) -> str:
    client = local.wirings["order_to_erp"].erp(SALES_ORDERS).client
    sale, = client.model("sale.sale", "read", [sale_id], ["shipments"])
    shipments = client.model("stock.shipment.out", "read", sale["shipments"], ["number", "state", "shipping_reference"])
    return "; ".join(f"shipment {row['number']} {row['state']} {row['shipping_reference'] or ''}".strip()
                     for row in shipments) or "no shipment"


def _deal(local: LocalMode, reference: str) -> str:
    stages = {stage: state for state, stage in local.config.crm.settings.stages.items()}
    found = [deal["properties"] for deal in local.hubspot.objects("deals")
             if deal["properties"].get("synchub_order_ref") == reference]
    return "; ".join(f"{stages.get(p.get('dealstage'), p.get('dealstage'))} {p.get('amount')}" for p in found) or "-"


def _lifecycle_table(life: dict[str, Any], rows: list[tuple[str, str, str, str]]) -> Table:
    table = Table(title=f"One order's life: Shopify {life['name']} in every system")
    for column in ("step", "Tryton", "Shopify", "HubSpot deal"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    return table


def _deliveries(sent: list[tuple[str, str, int]]) -> Table:
    table = Table(title="Webhooks sent through the local API Gateway")
    for column in ("sample", "what it shows", "HTTP"):
        table.add_column(column)
    for sample, what, status in sent:
        table.add_row(sample, what, str(status))
    return table


def _orders(local: LocalMode) -> Table:
    erp = local.wirings["order_to_erp"].erp(SALES_ORDERS)
    deals = {deal["properties"].get("synchub_order_ref"): deal for deal in local.hubspot.objects("deals")}
    contacts = {contact["id"]: contact for contact in local.hubspot.objects("contacts")}
    table = Table(title="Orders: store -> Tryton sale and HubSpot deal")
    for column in ("store order", "Tryton sale", "state", "total", "HubSpot contact", "deal stage", "amount"):
        table.add_column(column)
    seen: set[str] = set()
    for store, _platform, sample, _, _ in SCRIPT:
        payload = json.loads((EVENTS / f"{sample}.json").read_text())
        reference = f"{store}:{payload['id']}"
        if "line_items" not in payload or reference in seen:
            continue
        seen.add(reference)
        sale = erp.find_sales_order(reference)
        deal = deals.get(reference)
        contact_ids = local.hubspot.associated_ids("deals", deal["id"], "contacts") if deal else []
        contact = contacts.get(str(contact_ids[0])) if contact_ids else None
        table.add_row(f"{store} {payload.get('name') or '#' + str(payload.get('number'))}",
                      sale.number or sale.id if sale else "-", sale.state if sale else "(none)",
                      sale.total if sale else "-",
                      " ".join(filter(None, [contact["properties"].get("firstname"), contact["properties"].get(
                          "lastname")])) if contact else "-",
                      deal["properties"].get("dealstage") if deal else "-",
                      f"{deal['properties'].get('amount')} {deal['properties'].get('deal_currency_code', '')}"
                      if deal else "-")
    return table


def _stock(local: LocalMode) -> dict[str, tuple[int, int]]:
    erp = local.wirings["poll_erp_stock"].erp(STOCK_SOURCE)
    return {level.sku: (level.on_hand, level.reserved) for page in erp.iter_stock(local.config.erp.settings.warehouses)
            for level in page}


def _stock_table(local: LocalMode, before: dict[str, tuple[int, int]]) -> Table:
    after = _stock(local)
    store = local.config.stores[0]
    location = store.settings.locations["WH"]
    table = Table(title="Stock: Tryton on hand / reserved, and what the Shopify store may now sell")
    for column in ("SKU", "on hand", "reserved before", "reserved now", "store available"):
        table.add_column(column)
    for sku, (on_hand, reserved) in sorted(after.items()):
        table.add_row(sku, str(on_hand), str(before.get(sku, (0, 0))[1]), str(reserved),
                      str(local.shopify.available(sku, location)))
    return table


def _parked(local: LocalMode) -> list[tuple[str, str, str]]:
    found = []
    for flow, url in local.resources.dlq_urls.items():
        messages = local.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                             VisibilityTimeout=0).get("Messages", [])
        for message in messages:
            attributes = message.get("MessageAttributes", {})
            found.append((flow, attributes.get("reason", {}).get("StringValue", "?"),
                          attributes.get("detail", {}).get("StringValue", "")[:400]))
    return found


def main() -> None:
    import logging
    import os

    # The demo's output is its tables: only warnings from the functions (make local shows everything).
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    console = Console()
    local = LocalMode(start_ticks=False)
    started = time.monotonic()
    try:
        run_demo(console, local)
    finally:
        local.stop()
    console.print(f"Done in {time.monotonic() - started:.1f}s. Run `make local` to keep it running.")
