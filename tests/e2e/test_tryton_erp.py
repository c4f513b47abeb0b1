"""TrytonErp against a real Tryton 7.0 server: sales, reservations, cancellation, parties, stock polling."""
from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from synchub.connectors.tryton.erp import TrytonErp
from synchub.connectors.tryton.mapping import decode_watermark
from synchub.errors import PermanentError
from synchub.models import Customer, Money, Order, OrderLine

from infra.local.tryton_erp import TrytonServer, ensure_database

pytestmark = pytest.mark.e2e

EVENTS = Path(__file__).resolve().parents[2] / "events" / "tryton"


def new_order(**changes: Any) -> Order:
    """The sample order under a reference no earlier run used (the test database is reused)."""
    order = Order.model_validate(json.loads((EVENTS / "canonical_order.json").read_text(encoding="utf-8")))
    source_id = uuid.uuid4().hex[:12]
    return order.model_copy(update={"source_id": source_id, "reference": f"#{source_id}", **changes})


def place(erp: TrytonErp, order: Order) -> Any:
    assert order.customer is not None
    party = erp.upsert_customer(order.customer, reference=f"{order.store}:{uuid.uuid4().hex[:8]}")
    return erp.create_sales_order(order, customer_id=party, products=erp.resolve_products(order.skus))


def stock(erp: TrytonErp, sku: str) -> tuple[int, int]:
    """(on hand, forecast) of one SKU in WH, read straight from Tryton."""
    product, = erp.client.model("product.product", "search", [("code", "=", sku)], 0, 1, None)
    row, = erp.client.model("product.product", "read", [product], ["quantity", "forecast_quantity"],
                            context={"locations": [erp._warehouse("WH")]})
    return int(row["quantity"]), int(row["forecast_quantity"])


def sales_with_reference(erp: TrytonErp, reference: str) -> list[int]:
    return erp.client.model("sale.sale", "search", [("reference", "=", reference)], 0, None, None)


def test_confirmed_sale_carries_store_lines_and_total_and_reserves_stock(tryton_erp: TrytonErp) -> None:
    order = new_order()
    on_hand, forecast = stock(tryton_erp, "TEE-BLK-M")

    ref = place(tryton_erp, order)

    assert ref.state == "processing"
    assert ref.reference == order.store_reference and ref.number
    assert Decimal(ref.total) == order.total.amount == Decimal("68.18")
    sale, = tryton_erp.client.model("sale.sale", "read", [int(ref.id)], ["lines", "shipments", "description"])
    assert sale["description"] == order.reference
    assert len(sale["shipments"]) == 1
    lines = tryton_erp.client.model("sale.line", "read", sale["lines"], ["product.code", "quantity", "unit_price"])
    assert sorted((row["product."]["code"], row["quantity"], row["unit_price"]) for row in lines) == sorted([
        ("TEE-BLK-M", 2.0, Decimal("24.00")), ("MUG-CER-01", 1.0, Decimal("14.50")),
        ("SHIPPING", 1.0, Decimal("5.00")), ("DISCOUNT", 1.0, Decimal("-4.00")), ("TAX", 1.0, Decimal("4.68")),
    ])
    assert stock(tryton_erp, "TEE-BLK-M") == (on_hand, forecast - 2)


def test_creating_twice_with_the_same_reference_yields_one_sale(tryton_erp: TrytonErp) -> None:
    order = new_order()
    first = place(tryton_erp, order)
    party = str(tryton_erp.client.model("sale.sale", "read", [int(first.id)], ["party"])[0]["party"])

    again = tryton_erp.create_sales_order(order, customer_id=party, products=tryton_erp.resolve_products(order.skus))

    assert again.id == first.id
    assert sales_with_reference(tryton_erp, order.store_reference) == [int(first.id)]
    assert tryton_erp.find_sales_order(order.store_reference) == first


def test_cancelling_a_processing_sale_releases_its_reservation(tryton_erp: TrytonErp) -> None:
    before = stock(tryton_erp, "MUG-CER-01")
    ref = place(tryton_erp, new_order())
    assert stock(tryton_erp, "MUG-CER-01") == (before[0], before[1] - 1)

    cancelled = tryton_erp.cancel_sales_order(ref)

    assert cancelled.state == "cancelled"
    assert stock(tryton_erp, "MUG-CER-01") == before
    assert tryton_erp.cancel_sales_order(cancelled) == cancelled  # repeating is a no-op
    assert tryton_erp.find_sales_order(ref.reference).state == "cancelled"


def test_a_shipped_sale_cannot_be_cancelled(tryton_erp: TrytonErp) -> None:
    ref = place(tryton_erp, new_order())
    shipments = tryton_erp.client.model("sale.sale", "read", [int(ref.id)], ["shipments"])[0]["shipments"]
    # stock_package_shipping asks for confirmation when packing a shipment with no carrier: name one.
    carrier, = tryton_erp.client.model("carrier", "search", [("party.name", "=", "UPS")], 0, 1, None)
    tryton_erp.client.model("stock.shipment.out", "write", shipments, {"carrier": carrier})
    for button in ("assign_try", "pick", "pack", "done"):
        tryton_erp.client.model("stock.shipment.out", button, shipments)

    with pytest.raises(PermanentError) as caught:
        tryton_erp.cancel_sales_order(ref)
    assert caught.value.reason == "cannot_cancel_shipped"


def test_updating_a_processing_sale_with_its_own_lines_changes_nothing(tryton_erp: TrytonErp) -> None:
    order = new_order()
    ref = place(tryton_erp, order)
    products = tryton_erp.resolve_products(order.skus)

    assert tryton_erp.update_sales_order(ref, order, products=products) == ref
    assert tryton_erp.client.model("sale.amendment", "search", [("sale", "=", int(ref.id))], 0, None, None) == []
    # Edited lines are amended: tests/e2e/test_tryton_amendments.py.


@pytest.mark.parametrize("first, last", [
    ("سارا", "محمدی"),  # Persian
    ("عبد الله", "الحسيني"),  # Arabic
    ("小明", "王"),  # Chinese
    ("Анастасия", "Щербакова"),  # Cyrillic
])
def test_names_in_any_script_survive_a_round_trip(tryton_erp: TrytonErp, first: str, last: str) -> None:
    reference = f"shop-main:{uuid.uuid4().hex[:8]}"
    customer = Customer(source_id="7", email="name@example.com", first_name=first, last_name=last)

    party_id = tryton_erp.upsert_customer(customer, reference=reference)

    party, = tryton_erp.client.model("party.party", "read", [int(party_id)], ["name"])
    assert party["name"].encode("utf-8") == f"{first} {last}".encode()
    assert tryton_erp.upsert_customer(customer, reference=reference) == party_id


def test_upserting_a_customer_twice_updates_one_party(tryton_erp: TrytonErp) -> None:
    order = new_order()
    assert order.customer is not None
    reference = f"shop-main:{uuid.uuid4().hex[:8]}"
    party_id = tryton_erp.upsert_customer(order.customer, reference=reference)

    renamed = order.customer.model_copy(update={"last_name": "Byron"})
    assert tryton_erp.upsert_customer(renamed, reference=reference) == party_id

    assert tryton_erp.client.model("party.party", "search", [("identifiers.code", "=", reference)],
                                   0, None, None) == [int(party_id)]
    party, = tryton_erp.client.model("party.party", "read", [int(party_id)],
                                     ["name", "addresses", "contact_mechanisms"])
    assert party["name"] == "Ada Byron"
    assert len(party["addresses"]) == 1 and len(party["contact_mechanisms"]) == 2
    address, = tryton_erp.client.model("party.address", "read", party["addresses"], ["street", "country.code"])
    assert address["street"] == "1 Main St\nApt 2" and address["country."]["code"] == "US"


def test_stock_changes_after_a_sale_report_the_lower_sellable_quantity(tryton_erp: TrytonErp) -> None:
    start = tryton_erp.stock_changes(None, ["WH"])
    before = {level.sku: level for level in start.levels}

    place(tryton_erp, new_order())
    changes = tryton_erp.stock_changes(start.watermark, ["WH"])

    # Reservation rather than sellable: the latter is clamped at 0 once a reused test database runs low.
    by_sku = {level.sku: level for level in changes.levels}
    assert by_sku["TEE-BLK-M"].reserved == before["TEE-BLK-M"].reserved + 2
    assert by_sku["MUG-CER-01"].reserved == before["MUG-CER-01"].reserved + 1
    assert by_sku["TEE-BLK-M"].on_hand == before["TEE-BLK-M"].on_hand  # confirmed, not shipped
    assert by_sku["TEE-BLK-M"].updated_at is not None
    assert decode_watermark(changes.watermark)[0] > decode_watermark(start.watermark)[0]


def test_stock_changes_from_the_newest_watermark_return_nothing_new(tryton_erp: TrytonErp) -> None:
    newest = tryton_erp.stock_changes(None, ["WH"]).watermark

    again = tryton_erp.stock_changes(newest, ["WH"])

    assert again.levels == ()
    assert decode_watermark(again.watermark)[0] == decode_watermark(newest)[0]


def test_iter_stock_pages_cover_every_product_once_in_sku_order(tryton_erp: TrytonErp) -> None:
    pages = list(tryton_erp.iter_stock(["WH"], page_size=3))

    skus = [level.sku for page in pages for level in page]
    goods = tryton_erp.client.model("product.product", "search_read", [("type", "=", "goods")], 0, None, None,
                                    ["code"])
    assert sorted(skus) == sorted(row["code"] for row in goods)
    assert skus == sorted(skus) and len(skus) == len(set(skus))
    assert all(len(page) <= 3 for page in pages)
    assert {"SHIPPING", "DISCOUNT", "TAX"}.isdisjoint(skus)


def test_an_unknown_sku_is_absent_from_resolved_products(tryton_erp: TrytonErp) -> None:
    found = tryton_erp.resolve_products(["TEE-BLK-M", "NO-SUCH-SKU"])

    assert set(found) == {"TEE-BLK-M"}


def test_an_order_line_without_an_erp_product_is_refused_before_any_sale_exists(tryton_erp: TrytonErp) -> None:
    order = new_order()
    stray = OrderLine(source_line_id="99", sku="NO-SUCH-SKU", title="Ghost", quantity=1,
                      unit_price=Money(amount=Decimal("1.00"), currency="USD"),
                      discount=Money.zero("USD"), tax=Money.zero("USD"))
    order = order.model_copy(update={"lines": (*order.lines, stray)})

    with pytest.raises(PermanentError) as caught:
        place(tryton_erp, order)
    assert caught.value.reason == "unknown_sku"
    assert sales_with_reference(tryton_erp, order.store_reference) == []


def test_ensure_database_reuses_a_complete_database(tryton_server: TrytonServer) -> None:
    db_file = tryton_server.data_dir / f"{tryton_server.database}.sqlite"
    before = db_file.stat()

    ensure_database(tryton_server.data_dir, tryton_server.database)

    after = db_file.stat()
    assert (after.st_ino, after.st_ctime_ns) == (before.st_ino, before.st_ctime_ns)
    assert (tryton_server.data_dir / "admin-password").stat().st_mode & 0o777 == 0o600
