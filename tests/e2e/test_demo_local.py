"""`make demo` is part of the README's two-command quick start: it runs here end to end against the real Tryton,
and what it shows is checked: duplicates give one sale, the forgery is refused, the unknown SKU is parked, and
one order's whole life (paid, shipped with tracking, partly refunded) reaches every system."""
from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from infra.local.demo import TRACKING, run_demo
from infra.local.runner import DEFAULT_CONFIG, LocalMode

pytestmark = pytest.mark.e2e


def test_the_demo_shows_an_orders_whole_life_in_every_system(tryton_server, tmp_path):
    # Its own stage and secret names: moto's servers in one process share their state with the e2e tests'
    # shared local mode (stage "local"), which may be running.
    config = json.loads(DEFAULT_CONFIG.read_text().replace("synchub/local/", "synchub/demo/"))
    config["stage"] = "demo"
    (tmp_path / "config.json").write_text(json.dumps(config))
    local = LocalMode(data_dir=tmp_path, base_port=0, start_ticks=False, reuse={"tryton": tryton_server},
                      config_path=tmp_path / "config.json")
    out = io.StringIO()
    try:
        result = run_demo(Console(file=out, width=200), local)
    finally:
        local.stop()

    assert ("shopify/orders_create (forged signature)", "rejected before the bus", 401) in result["sent"]
    assert all(code == 200 for sample, _, code in result["sent"] if "forged" not in sample)
    assert [reason for flow, reason, _ in result["parked"] if flow == "order_to_erp"] == ["unknown_sku"]
    steps = {step: (erp, store, crm) for step, erp, store, crm in result["lifecycle"]}
    assert list(steps) == ["created", "paid", "shipped", "partly refunded"]
    assert "invoice paid (127.61, 0 to pay)" in steps["paid"][0] and steps["paid"][2] == "paid 127.61"
    carrier, number = TRACKING
    assert f"done {number}" in steps["shipped"][0]
    assert steps["shipped"][1].startswith(f"fulfilled: {carrier} {number} https://") \
        and "(customer notified)" in steps["shipped"][1]
    assert steps["shipped"][2] == "fulfilled 127.61"
    assert steps["partly refunded"][0].startswith("credit note -14.09 posted")
    assert steps["partly refunded"][2] == "fulfilled 113.52"  # the deal at the order's total net of the refund
    assert "One order's life" in out.getvalue()
