"""Issue 4 end to end: ERP stock reaches the stores within one poll; reconciliation repairs drift."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from synchub.models import Customer, Money, Order, OrderLine
from synchub.ports import STOCK_SOURCE

from tests.e2e.conftest import eventually

pytestmark = pytest.mark.e2e


def erp(local):
    return local.wirings["poll_erp_stock"].erp(STOCK_SOURCE)


def sellable(local, sku: str) -> int:
    level = next(level for page in erp(local).iter_stock(["WH"]) for level in page if level.sku == sku)
    return level.sellable(local.config.inventory.safety_buffer)


def shop_available(local, sku: str) -> int | None:
    return local.shopify.available(sku, local.config.stores[0].settings.locations["WH"])


def woo_available(local, sku: str) -> int | None:
    return local.woocommerce.stock(sku)


def poll(local) -> dict:
    result = local.trigger("poll_erp_stock", {})
    assert local.wait_idle(60)
    return result


def confirm_sale_in_tryton(local, sku: str, quantity: int) -> None:
    """A sale entered in the ERP itself (phone order, B2B), confirmed so it reserves stock."""
    now = datetime.now(UTC)
    usd = lambda amount: Money(amount=Decimal(amount), currency="USD")
    order = Order(store="erp-desk", source_id=str(now.timestamp()).replace(".", ""), reference="PHONE",
                  currency="USD", lines=(OrderLine(source_line_id="1", sku=sku, title=sku, quantity=quantity,
                                                   unit_price=usd("10"), discount=usd("0"), tax=usd("0")),),
                  subtotal=usd(10 * quantity), total_discount=usd("0"), total_tax=usd("0"), total_shipping=usd("0"),
                  total=usd(10 * quantity), created_at=now, updated_at=now,
                  customer=Customer(source_id="desk", first_name="Walk-in", last_name="Customer"))
    connector = erp(local)
    customer = connector.upsert_customer(order.customer, reference="erp-desk:desk")
    connector.create_sales_order(order, customer_id=customer, products=connector.resolve_products([sku]))


def receive_stock_in_tryton(local, sku: str, quantity: int) -> None:
    """Goods arriving from a supplier into the warehouse's storage location, done."""
    connector = erp(local)
    client = connector.client
    product = int(connector.resolve_products([sku])[sku])
    [supplier] = client.model("stock.location", "search", [("type", "=", "supplier")], 0, 1, None)
    [warehouse] = client.model("stock.location", "read", [connector._warehouse("WH")], ["storage_location"])
    [uom] = client.model("product.product", "read", [product], ["default_uom"])
    [company] = client.model("company.company", "search", [], 0, 1, None)
    [currency] = client.model("currency.currency", "search", [("code", "=", "USD")], 0, 1, None)
    moves = client.model("stock.move", "create", [{
        "product": product, "from_location": supplier, "to_location": warehouse["storage_location"],
        "quantity": float(quantity), "unit": uom["default_uom"], "unit_price": Decimal("5.00"),
        "currency": currency, "company": company}])
    client.model("stock.move", "do", moves)


def test_a_sale_confirmed_in_tryton_lowers_what_the_stores_may_sell_within_one_poll(local_mode):
    if sellable(local_mode, "SOCK-WOOL-3") < 3:  # a test database reused across many runs
        receive_stock_in_tryton(local_mode, "SOCK-WOOL-3", 50)
    poll(local_mode)
    before = sellable(local_mode, "SOCK-WOOL-3")
    assert shop_available(local_mode, "SOCK-WOOL-3") == before

    confirm_sale_in_tryton(local_mode, "SOCK-WOOL-3", 3)
    result = poll(local_mode)

    assert result["changed"] >= 1
    assert sellable(local_mode, "SOCK-WOOL-3") == before - 3
    assert shop_available(local_mode, "SOCK-WOOL-3") == before - 3
    assert woo_available(local_mode, "SOCK-WOOL-3") == before - 3


def test_stock_received_in_tryton_raises_it(local_mode):
    poll(local_mode)
    before = sellable(local_mode, "TOTE-CAN-01")

    receive_stock_in_tryton(local_mode, "TOTE-CAN-01", 25)
    poll(local_mode)

    assert shop_available(local_mode, "TOTE-CAN-01") == before + 25
    assert woo_available(local_mode, "TOTE-CAN-01") == before + 25


def test_a_poll_with_nothing_new_publishes_nothing(local_mode):
    poll(local_mode)
    assert poll(local_mode)["changed"] == 0


def test_reconciliation_repairs_drift_introduced_on_the_store_side(local_mode):
    poll(local_mode)
    location = local_mode.config.stores[0].settings.locations["WH"]
    local_mode.shopify.set_available("CAP-NVY-OS", location, 999)
    local_mode.woocommerce.set_stock("BOTTLE-750", 1)

    plan = local_mode.trigger("reconcile_inventory", {"run_id": "e2e-repair"})
    assert local_mode.wait_idle(120)

    assert plan["drifted"] >= 2
    assert shop_available(local_mode, "CAP-NVY-OS") == sellable(local_mode, "CAP-NVY-OS")
    assert woo_available(local_mode, "BOTTLE-750") == sellable(local_mode, "BOTTLE-750")
    summary = local_mode.wirings["reconcile_inventory"].reports.summary("e2e-repair")
    assert summary["fixed"] >= 2 and summary["failed"] == 0
    drifted = {(item["sku"], item["before"], item["after"]) for item in summary["drift"]}
    assert ("CAP-NVY-OS", 999, sellable(local_mode, "CAP-NVY-OS")) in drifted


def test_dry_run_reports_drift_and_changes_nothing(local_mode):
    poll(local_mode)
    location = local_mode.config.stores[0].settings.locations["WH"]
    local_mode.shopify.set_available("MUG-CER-01", location, 7)

    plan = local_mode.trigger("reconcile_inventory", {"run_id": "e2e-dry", "dry_run": True})
    assert local_mode.wait_idle(60)

    assert plan["dry_run"] and plan["drifted"] >= 1
    assert shop_available(local_mode, "MUG-CER-01") == 7
    local_mode.trigger("reconcile_inventory", {"run_id": "e2e-dry-fix"})
    assert local_mode.wait_idle(120)
    assert shop_available(local_mode, "MUG-CER-01") == sellable(local_mode, "MUG-CER-01")


def test_a_store_sale_between_read_and_write_still_ends_with_the_right_number(local_mode):
    poll(local_mode)
    location = local_mode.config.stores[0].settings.locations["WH"]
    local_mode.shopify.set_available("TEE-BLK-L", location, 500)  # drift the reconciliation will see

    local_mode.pause_pumps()
    try:
        local_mode.trigger("reconcile_inventory", {"run_id": "e2e-cas"})
        local_mode.shopify.set_available("TEE-BLK-L", location, 499)  # a sale in the store meanwhile
    finally:
        local_mode.resume_pumps()
    assert local_mode.wait_idle(120)

    assert eventually(lambda: shop_available(local_mode, "TEE-BLK-L") == sellable(local_mode, "TEE-BLK-L"))
