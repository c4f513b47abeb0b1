"""Issue 9 end to end: a Shopify order edited after its Tryton sale is processing. The thin orders/edited webhook
goes through ingest and the bus; the flows fetch the order from the Shopify sandbox over GraphQL; the real
Tryton sale is amended (sale_amendment), the HubSpot deal follows the edited total, a repeat amends nothing, and
an edit Tryton cannot follow (below what was shipped) is parked with its reason."""
from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import CliRunner
from synchub.ports import SALES_ORDERS

from infra.cli import main
from tests.e2e.conftest import eventually, sample

pytestmark = pytest.mark.e2e


def erp(local):
    return local.wirings["order_to_erp"].erp(SALES_ORDERS)


def sale_family(local, reference: str) -> tuple[int, list[int]]:
    client = erp(local).client
    main, = client.model("sale.sale", "search", [("reference", "=", reference)], 0, None, None)
    extras = client.model("sale.sale", "search", [("reference", "like", f"{reference}/%")], 0, None, [("id", "ASC")])
    return main, extras


def lines_of(local, sale_ids: list[int]) -> list[tuple[str, float, Decimal]]:
    rows = erp(local).client.model("sale.line", "search_read", [("sale", "in", sale_ids)], 0, None, None,
                                   ["product.code", "quantity", "unit_price"])
    return sorted((row["product."]["code"], row["quantity"], row["unit_price"]) for row in rows)


def total(local, sale_ids: list[int]) -> Decimal:
    rows = erp(local).client.model("sale.sale", "read", sale_ids, ["total_amount"])
    return sum((row["total_amount"] for row in rows), Decimal(0))


def amendments(local, sale_id: int) -> int:
    return len(erp(local).client.model("sale.amendment", "search", [("sale", "=", sale_id)], 0, None, None))


def deal_amount(local, reference: str) -> Decimal | None:
    deals = [deal for deal in local.hubspot.objects("deals") if deal["properties"].get("synchub_order_ref") == reference]
    return Decimal(deals[0]["properties"]["amount"]) if len(deals) == 1 else None


def dlq_reasons(local, marker: str) -> list[str]:
    messages = local.sqs.receive_message(QueueUrl=local.resources.dlq_urls["order_to_erp"], MaxNumberOfMessages=10,
                                         MessageAttributeNames=["All"], VisibilityTimeout=0).get("Messages", [])
    return [m["MessageAttributes"]["reason"]["StringValue"] for m in messages if marker in m["Body"]]


def place(local, store, order_id: int) -> dict:
    """The order exists in the shop (the sandbox) and its orders/create webhook reached Tryton."""
    payload, headers = sample("shopify/orders_create", id=order_id, name=f"#E{order_id % 100000}")
    placed = local.shopify.add_order(payload)
    assert store.send(payload, headers) == [200]
    assert eventually(lambda: erp(local).find_sales_order(f"main:{order_id}"))
    assert local.wait_idle(60)
    return placed


def send_edit(store, edit: dict, delivery: str = "first") -> None:
    _, headers = sample("shopify/orders_edited")
    event_id = f"edit-{edit['order_edit']['order_id']}-{edit['order_edit']['id']}-{delivery}"
    assert store.send(edit, headers, event_id=event_id) == [200]


def test_an_edit_after_confirmation_amends_the_sale_and_moves_the_deal(local_mode, shopify_store, new_order_id):
    order_id = new_order_id()
    reference = f"main:{order_id}"
    placed = place(local_mode, shopify_store, order_id)
    ids = {line["sku"]: line["id"] for line in placed["line_items"]}
    assert erp(local_mode).find_sales_order(reference).state == "processing"

    edit, edited = local_mode.shopify.edit_order(order_id, quantities={ids["TEE-BLK-M"]: 3, ids["MUG-CER-01"]: 0},
                                                 add=[{"sku": "CAP-NVY-OS", "quantity": 1}])
    send_edit(shopify_store, edit)
    assert local_mode.wait_idle(60)

    main, extras = sale_family(local_mode, reference)
    wanted_total = Decimal(edited["current_total_price"])
    assert [code_qty for code_qty in lines_of(local_mode, [main]) if code_qty[0] not in ("DISCOUNT", "TAX")] == [
        ("HOOD-GRY-M", 1.0, Decimal("59.90")), ("MUG-CER-01", 0.0, Decimal("14.50")),
        ("SHIPPING", 1.0, Decimal("8.00")), ("TEE-BLK-M", 3.0, Decimal("24.00"))]
    assert lines_of(local_mode, extras) == [("CAP-NVY-OS", 1.0, Decimal("19.99"))]
    assert total(local_mode, [main, *extras]) == wanted_total != Decimal(placed["total_price"])
    assert amendments(local_mode, main) == 1
    assert eventually(lambda: deal_amount(local_mode, reference) == wanted_total)

    # The same edit again: its orders/updated, and a second orders/edited delivery. Nothing is amended twice.
    _, headers = sample("shopify/orders_updated_edited")
    shopify_store.send(edited, headers, event_id=f"upd-{order_id}-{edited['updated_at']}")
    send_edit(shopify_store, edit, delivery="again")  # a new event id: past the idempotency record, to the ERP check
    assert local_mode.wait_idle(60)

    assert sale_family(local_mode, reference) == (main, extras)
    assert amendments(local_mode, main) == 1
    assert total(local_mode, [main, *extras]) == wanted_total
    assert dlq_reasons(local_mode, str(order_id)) == []


def test_an_edit_below_the_shipped_quantity_is_parked_with_its_reason(local_mode, shopify_store, new_order_id):
    order_id = new_order_id()
    reference = f"main:{order_id}"
    placed = place(local_mode, shopify_store, order_id)
    sale = erp(local_mode).find_sales_order(reference)
    client = erp(local_mode).client
    shipments = client.model("sale.sale", "read", [int(sale.id)], ["shipments"])[0]["shipments"]
    # stock_package_shipping asks for confirmation when packing a shipment with no carrier: name one.
    carrier, = client.model("carrier", "search", [("party.name", "=", "UPS")], 0, 1, None)
    client.model("stock.shipment.out", "write", shipments, {"carrier": carrier})
    for button in ("assign_try", "pick", "pack", "done"):  # the warehouse shipped everything
        client.model("stock.shipment.out", button, shipments)
    before = lines_of(local_mode, [int(sale.id)])

    ids = {line["sku"]: line["id"] for line in placed["line_items"]}
    edit, _ = local_mode.shopify.edit_order(order_id, quantities={ids["TEE-BLK-M"]: 1})
    send_edit(shopify_store, edit)
    assert local_mode.wait_idle(60)

    assert eventually(lambda: dlq_reasons(local_mode, str(order_id)) == ["amendment_refused_shipped"], timeout=30)
    assert lines_of(local_mode, [int(sale.id)]) == before
    assert amendments(local_mode, int(sale.id)) == 0


def test_an_edit_refused_for_a_shipment_in_progress_goes_through_after_the_fix_and_a_redrive(
        local_mode, shopify_store, new_order_id, monkeypatch):
    order_id = new_order_id()
    reference = f"main:{order_id}"
    placed = place(local_mode, shopify_store, order_id)
    sale = erp(local_mode).find_sales_order(reference)
    client = erp(local_mode).client
    shipments = client.model("sale.sale", "read", [int(sale.id)], ["shipments"])[0]["shipments"]
    client.model("stock.shipment.out", "assign_try", shipments)  # the warehouse has reserved the goods to pick

    ids = {line["sku"]: line["id"] for line in placed["line_items"]}
    edit, edited = local_mode.shopify.edit_order(order_id, quantities={ids["TEE-BLK-M"]: 1})
    send_edit(shopify_store, edit)
    assert local_mode.wait_idle(60)
    assert eventually(lambda: dlq_reasons(local_mode, str(order_id)) == ["amendment_refused_in_shipment"],
                      timeout=30)

    # The operator path (README, Operate): the shipment back to waiting in Tryton, then a redrive by reason.
    client.model("stock.shipment.out", "wait", shipments)
    monkeypatch.setenv("SYNCHUB_LOCAL_INFO", str(local_mode.data_dir / "local.json"))
    result = CliRunner().invoke(main, ["redrive", "order_to_erp", "--reason", "amendment_refused_in_shipment"])
    assert result.exit_code == 0, result.output
    assert local_mode.wait_idle(60)

    main_sale, extras = sale_family(local_mode, reference)
    assert ("TEE-BLK-M", 1.0, Decimal("24.00")) in lines_of(local_mode, [main_sale]) and extras == []
    assert total(local_mode, [main_sale]) == Decimal(edited["current_total_price"])
    assert amendments(local_mode, main_sale) == 1
    assert dlq_reasons(local_mode, str(order_id)) == []
