"""An operator fixes what parked an order (the SKU now exists in the ERP) and redrives: one sale."""
from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import CliRunner
from synchub.ports import SALES_ORDERS

from infra.cli import main
from tests.e2e.conftest import sample

pytestmark = pytest.mark.e2e

SAMPLE_UNKNOWN_SKU = "TEE-PNK-XS"  # the sample's unknown SKU; each run swaps in its own, which it then creates


def parked(local, flow: str, order_id: int) -> list[dict]:
    messages = local.sqs.receive_message(QueueUrl=local.resources.dlq_urls[flow], MaxNumberOfMessages=10,
                                         MessageAttributeNames=["All"], VisibilityTimeout=0).get("Messages", [])
    return [message for message in messages if str(order_id) in message["Body"]]


def create_product_in_tryton(local, sku: str) -> None:
    """What the merchant does in the ERP: add the product the store already sells."""
    client = local.wirings["order_to_erp"].erp(SALES_ORDERS).client
    [unit] = client.model("product.uom", "search", [("name", "=", "Unit")], 0, 1, None)
    [category] = client.model("product.category", "search", [("accounting", "=", True)], 0, 1, None)
    client.model("product.template", "create", [{
        "name": "Organic tee, pink, XS", "code": sku, "type": "goods", "default_uom": unit, "sale_uom": unit,
        "salable": True, "list_price": Decimal("24.00"), "account_category": category,
        "products": [["create", [{}]]]}])


def test_an_order_parked_for_an_unknown_sku_goes_through_after_the_fix_and_a_redrive(local_mode, shopify_store,
                                                                                     new_order_id, monkeypatch):
    order_id = new_order_id()
    missing_sku = f"TEE-PNK-{order_id % 10**8}"
    payload, headers = sample("shopify/orders_create_unknown_sku", id=order_id)
    for line in payload["line_items"]:
        if line["sku"] == SAMPLE_UNKNOWN_SKU:
            line["sku"] = missing_sku
    shopify_store.send(payload, headers)
    assert local_mode.wait_idle(60)
    assert len(parked(local_mode, "order_to_erp", order_id)) == 1
    erp = local_mode.wirings["order_to_erp"].erp(SALES_ORDERS)
    assert erp.find_sales_order(f"main:{order_id}") is None

    create_product_in_tryton(local_mode, missing_sku)
    monkeypatch.setenv("SYNCHUB_LOCAL_INFO", str(local_mode.data_dir / "local.json"))
    for _ in range(2):  # a second redrive finds nothing more to move
        result = CliRunner().invoke(main, ["redrive", "order_to_erp", "--reason", "unknown_sku"])
        # (other orders parked for SKUs still unknown just park again: a redrive never loses a message)
        assert result.exit_code == 0, result.output
        assert local_mode.wait_idle(60)

    sale = erp.find_sales_order(f"main:{order_id}")
    assert sale is not None and sale.state in ("confirmed", "processing")
    assert parked(local_mode, "order_to_erp", order_id) == []
    sales = erp.client.model("sale.sale", "search", [("reference", "=", f"main:{order_id}")], 0, None, None)
    assert len(sales) == 1
