"""Customer accounts, sales orders, product lookup and stock source: Tryton (a real local server) and the
fake keep one contract."""
from __future__ import annotations

import uuid
from decimal import Decimal

from synchub.connectors.shopify.mapping import ShopifyPayloads
from synchub.errors import PermanentError
from synchub.models import Customer

from tests.eventdata import load_json as load_payload


def _order(reference: str, quantity: int = 1):
    payload = load_payload("shopify/orders_create")
    payload["id"] = int(reference)
    added = Decimal(0)
    for line in payload["line_items"]:
        added += Decimal(line["price"]) * line["quantity"] * (quantity - 1)
        line["quantity"] *= quantity
        line["current_quantity"] = line["quantity"]  # not an edit: as many units now as ordered
    # The store's total moves with the lines (same tax and discounts), so the order still adds up.
    payload["total_price"] = payload["current_total_price"] = str(Decimal(payload["total_price"]) + added)
    return ShopifyPayloads().order("conformance", payload)


def _customer(tag: str) -> Customer:
    return Customer(source_id=tag, email=f"{tag}@example.com", first_name="Conformance", last_name=tag)


def test_a_customer_upserted_twice_by_our_reference_is_one_customer(customer_accounts) -> None:
    reference = f"conformance:{uuid.uuid4().hex[:10]}"
    first = customer_accounts.adapter.upsert_customer(_customer("one"), reference=reference)
    again = customer_accounts.adapter.upsert_customer(_customer("one-renamed"), reference=reference)
    other = customer_accounts.adapter.upsert_customer(_customer("two"), reference=reference + "-b")
    assert first == again and other != first


def test_an_unknown_reference_finds_no_sales_order(sales_orders) -> None:
    assert sales_orders.adapter.find_sales_order(f"conformance:{uuid.uuid4().hex}") is None


def test_unknown_skus_are_absent_from_the_product_lookup(product_lookup) -> None:
    found = product_lookup.adapter.resolve_products(["MUG-CER-01", "NO-SUCH-SKU-42"])
    assert "MUG-CER-01" in found and "NO-SUCH-SKU-42" not in found


def test_a_created_sales_order_is_found_by_our_reference_and_updates_converge(sales_orders, request) -> None:
    erp = sales_orders.adapter
    reference_id = str(9_200_000_000_000_000 + uuid.uuid4().int % 10**12)
    order = _order(reference_id)
    products = erp.resolve_products(order.skus)
    customer = erp.upsert_customer(_customer(reference_id), reference=f"conformance:{reference_id}")

    created = erp.create_sales_order(order, customer_id=customer, products=products)
    found = erp.find_sales_order(order.store_reference)
    assert found is not None and found.id == created.id and found.reference == order.store_reference

    same = erp.update_sales_order(found, order, products=products)  # a repeated write changes nothing
    assert same.id == created.id and same.total == created.total
    bigger = _order(reference_id, quantity=2)
    try:
        updated = erp.update_sales_order(same, bigger, products=products)
    except PermanentError:  # an ERP that cannot rewrite a confirmed sale says so, typed, and changes nothing
        updated = erp.find_sales_order(order.store_reference)
        assert updated is not None and updated.total == created.total
    else:
        assert updated.id == created.id and updated.total != created.total
    again = updated

    cancelled = erp.cancel_sales_order(again)
    assert cancelled.state == "cancelled" and erp.cancel_sales_order(cancelled).state == "cancelled"


def test_stock_changes_come_with_a_watermark_and_full_pages_are_ordered_by_sku(stock_source) -> None:
    erp = stock_source.adapter
    changes = erp.stock_changes(None, ["WH"])
    assert changes.watermark and any(level.sku == "MUG-CER-01" for level in changes.levels)
    skus = [level.sku for page in erp.iter_stock(["WH"], page_size=2) for level in page]
    assert skus == sorted(skus) and "MUG-CER-01" in skus
