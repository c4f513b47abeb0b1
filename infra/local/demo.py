"""`make demo`: local mode end to end with sample webhooks, then a table of what each system holds.

Sends signed samples from events/ through the HTTP front (the way the stores would), including a
duplicate delivery, an update that arrives before its create, a forged request and an unknown
SKU; waits for the flows; runs one stock poll; prints the ERP, CRM and store state it produced.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from synchub.connectors.signed_webhooks import hmac_sha256_base64
from synchub.ports import SALES_ORDERS, STOCK_SOURCE

from infra.local.runner import LocalMode

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
    return {"sent": sent, "status": status, "parked": parked}


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
