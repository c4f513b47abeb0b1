"""Order edits after confirmation against a real Tryton 7.0 with sale_amendment: the processing sale is amended
(lines raised, removed, repriced), added lines go on a complementary sale, twice is once, and what Tryton has
shipped or invoiced is never amended away."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from synchub.connectors.tryton.erp import TrytonErp
from synchub.errors import PermanentError
from synchub.models import Money, Order, OrderLine

from tests.e2e.test_tryton_erp import new_order, place, sales_with_reference, stock

pytestmark = pytest.mark.e2e


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


def edited(order: Order) -> Order:
    """The order after an edit: TEE-BLK-M raised from 2 to 3, the mug removed, a hoodie added, tax recomputed."""
    tee, _mug = order.lines
    hoodie = OrderLine(source_line_id="13", sku="HOOD-GRY-M", title="Hoodie, grey, M", quantity=1,
                       unit_price=usd("59.90"), discount=usd("0"), tax=usd("4.79"))
    return order.model_copy(update={
        "lines": (tee.model_copy(update={"quantity": 3}), hoodie),
        "subtotal": usd("127.90"), "total_tax": usd("10.23"), "total": usd("143.13"),
        "updated_at": order.updated_at.replace(hour=12)})


def lines_of(erp: TrytonErp, sale_ids: list[int]) -> list[tuple[str, float, Decimal]]:
    rows = erp.client.model("sale.line", "search_read", [("sale", "in", sale_ids)], 0, None, [("id", "ASC")],
                            ["product.code", "quantity", "unit_price"])
    return sorted((row["product."]["code"], row["quantity"], row["unit_price"]) for row in rows)


def family(erp: TrytonErp, order: Order) -> tuple[int, list[int]]:
    main, = sales_with_reference(erp, order.store_reference)
    extras = erp.client.model("sale.sale", "search", [("reference", "like", f"{order.store_reference}/%")], 0, None,
                              [("id", "ASC")])
    return main, extras


def total(erp: TrytonErp, sale_ids: list[int]) -> Decimal:
    return sum((row["total_amount"] for row in erp.client.model("sale.sale", "read", sale_ids, ["total_amount"])),
               Decimal(0))


def amendments(erp: TrytonErp, sale_id: int) -> list[dict[str, Any]]:
    return erp.client.model("sale.amendment", "search_read", [("sale", "=", sale_id)], 0, None, None, ["state"])


def ship(erp: TrytonErp, sale_id: int) -> None:
    shipments = erp.client.model("sale.sale", "read", [sale_id], ["shipments"])[0]["shipments"]
    # stock_package_shipping asks for confirmation when packing a shipment with no carrier: name one.
    carrier, = erp.client.model("carrier", "search", [("party.name", "=", "UPS")], 0, 1, None)
    erp.client.model("stock.shipment.out", "write", shipments, {"carrier": carrier})
    for button in ("assign_try", "pick", "pack", "done"):
        erp.client.model("stock.shipment.out", button, shipments)


def test_an_edit_amends_the_processing_sale_and_adds_new_lines_on_a_complement(tryton_erp: TrytonErp) -> None:
    order = new_order()
    ref = place(tryton_erp, order)
    tee_before, mug_before, hood_before = (stock(tryton_erp, sku) for sku in ("TEE-BLK-M", "MUG-CER-01", "HOOD-GRY-M"))
    change = edited(order)

    amended = tryton_erp.update_sales_order(ref, change, products=tryton_erp.resolve_products(change.skus))

    main, extras = family(tryton_erp, order)
    assert amended.id == ref.id == str(main) and amended.state == "processing"
    assert lines_of(tryton_erp, [main]) == sorted([
        ("TEE-BLK-M", 3.0, Decimal("24.00")), ("MUG-CER-01", 0.0, Decimal("14.50")),
        ("SHIPPING", 1.0, Decimal("5.00")), ("DISCOUNT", 1.0, Decimal("-4.00")), ("TAX", 1.0, Decimal("10.23"))])
    assert len(extras) == 1 and tryton_erp.find_sales_order(f"{order.store_reference}/2").id == str(extras[0])
    assert lines_of(tryton_erp, extras) == [("HOOD-GRY-M", 1.0, Decimal("59.90"))]
    assert total(tryton_erp, [main, *extras]) == change.total.amount == Decimal("143.13")
    assert [row["state"] for row in amendments(tryton_erp, main)] == ["validated"]
    # The reservation follows the edit: one more tee, the mug released, the hoodie reserved.
    assert stock(tryton_erp, "TEE-BLK-M")[1] == tee_before[1] - 1
    assert stock(tryton_erp, "MUG-CER-01")[1] == mug_before[1] + 1
    assert stock(tryton_erp, "HOOD-GRY-M")[1] == hood_before[1] - 1


def test_the_same_edit_delivered_twice_amends_once(tryton_erp: TrytonErp) -> None:
    order = new_order()
    ref = place(tryton_erp, order)
    change = edited(order)
    products = tryton_erp.resolve_products(change.skus)

    tryton_erp.update_sales_order(ref, change, products=products)
    again = tryton_erp.update_sales_order(ref, change, products=products)

    main, extras = family(tryton_erp, order)
    assert again.id == str(main)
    assert len(amendments(tryton_erp, main)) == 1 and len(extras) == 1
    assert total(tryton_erp, [main, *extras]) == Decimal("143.13")


def test_a_product_added_back_takes_its_removed_line_again(tryton_erp: TrytonErp) -> None:
    order = new_order()
    ref = place(tryton_erp, order)
    products = tryton_erp.resolve_products(["TEE-BLK-M", "MUG-CER-01"])
    tee, _mug = order.lines
    without_mug = order.model_copy(update={"lines": (tee,), "total_tax": usd("3.52"), "total": usd("52.52")})
    tryton_erp.update_sales_order(ref, without_mug, products=products)

    tryton_erp.update_sales_order(ref, order, products=products)

    main, extras = family(tryton_erp, order)
    assert extras == []
    assert lines_of(tryton_erp, [main]) == sorted([
        ("TEE-BLK-M", 2.0, Decimal("24.00")), ("MUG-CER-01", 1.0, Decimal("14.50")),
        ("SHIPPING", 1.0, Decimal("5.00")), ("DISCOUNT", 1.0, Decimal("-4.00")), ("TAX", 1.0, Decimal("4.68"))])
    assert total(tryton_erp, [main]) == Decimal("68.18")


def test_an_edit_below_the_shipped_quantity_is_refused_with_the_figures(tryton_erp: TrytonErp) -> None:
    order = new_order()
    ref = place(tryton_erp, order)
    ship(tryton_erp, int(ref.id))
    tee, mug = order.lines
    fewer = order.model_copy(update={"lines": (tee.model_copy(update={"quantity": 1}), mug),
                                     "total": usd("44.18")})
    before = lines_of(tryton_erp, [int(ref.id)])

    with pytest.raises(PermanentError) as caught:
        tryton_erp.update_sales_order(ref, fewer, products=tryton_erp.resolve_products(order.skus))

    assert caught.value.reason == "amendment_refused_shipped"
    assert caught.value.detail.items() >= {"product": "TEE-BLK-M", "shipped": "2", "wanted": "1",
                                           "ordered": "2"}.items()
    assert lines_of(tryton_erp, [int(ref.id)]) == before  # nothing was applied halfway
    assert amendments(tryton_erp, int(ref.id)) == []


def test_cancelling_an_edited_order_cancels_its_complementary_sale_too(tryton_erp: TrytonErp) -> None:
    order = new_order()
    ref = place(tryton_erp, order)
    change = edited(order)
    tryton_erp.update_sales_order(ref, change, products=tryton_erp.resolve_products(change.skus))
    hood_reserved = stock(tryton_erp, "HOOD-GRY-M")

    cancelled = tryton_erp.cancel_sales_order(tryton_erp.find_sales_order(order.store_reference))

    assert cancelled.state == "cancelled"
    # A processed sale cancelled ends `done` with nothing left to ship or invoice: reported as cancelled (erp.py).
    assert tryton_erp.find_sales_order(f"{order.store_reference}/2").state == "cancelled"
    assert stock(tryton_erp, "HOOD-GRY-M")[1] == hood_reserved[1] + 1


def test_the_complementary_sale_ships_as_its_store_order_both_ways(tryton_erp: TrytonErp) -> None:
    """The hoodie an edit added lives on `<reference>/2`: its shipment is reported under the store order's
    reference (not `/2`), and a store fulfilment of the order closes the complement's shipment too."""
    from synchub.connectors.tryton.shipments import TrytonShipments
    from synchub.models import StoreFulfillment

    from infra.local.vendors.tryton_warehouse import ship

    shipments = TrytonShipments(tryton_erp.client)
    start = shipments.shipments_since(None).watermark
    order = new_order()
    ref = place(tryton_erp, order)
    change = edited(order)
    tryton_erp.update_sales_order(ref, change, products=tryton_erp.resolve_products(change.skus))
    main, [extra] = family(tryton_erp, order)

    ship(tryton_erp.client, extra, carrier="UPS", reference="1ZCOMPLEMENT")

    reported = [s for s in shipments.shipments_since(start).shipments
                if s.order_reference.startswith(order.store_reference)]
    assert [(s.order_reference, [(line.sku, line.quantity) for line in s.lines]) for s in reported] == [
        (order.store_reference, [("HOOD-GRY-M", 1)])]

    # The main sale's shipment is still open; a whole-order store fulfilment closes what is left of the order.
    closed = shipments.close_shipments(StoreFulfillment(store=order.store, order_id=order.source_id,
                                                        fulfillment_id="f-1", updated_at=order.updated_at))
    assert closed
    states = {row["state"] for row in tryton_erp.client.model(
        "stock.shipment.out", "read",
        [s for sale in tryton_erp.client.model("sale.sale", "read", [main, extra], ["shipments"])
         for s in sale["shipments"]], ["state"])}
    assert states == {"done"}
