"""The money capabilities' handles for the conformance suites: how each provider makes a paid order and a
refund event the way its store would (Shopify: transactions on the order and the refunds/create body;
WooCommerce: an order paid and refunded through its REST API; the fakes: in memory)."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from synchub.models import Money, Payment, Refund, RefundLine

from tests.eventdata import load_json
from tests.fakes import FakeErp
from tests.fakes_money import FakeLedger, FakeStoreMoney


def _new_id() -> int:
    return 9_300_000_000_000_000 + uuid.uuid4().int % 10**12


def shopify_extras(app: Any) -> dict[str, Any]:
    def paid_order() -> tuple[dict[str, Any], list[tuple[Decimal, str]]]:
        order_id = _new_id()
        app.add_transaction(order_id, kind="AUTHORIZATION", amount="30.00", currency="USD", gateway="shopify_payments")
        app.add_transaction(order_id, kind="CAPTURE", amount="20.00", currency="USD", gateway="shopify_payments")
        app.add_transaction(order_id, kind="SALE", amount="9.99", currency="USD", gateway="manual", status="FAILURE")
        app.add_transaction(order_id, kind="CAPTURE", amount="10.00", currency="USD", gateway="shopify_payments")
        return {"id": order_id}, [(Decimal("20.00"), "shopify_payments"), (Decimal("10.00"), "shopify_payments")]

    def refund_event() -> tuple[str, dict[str, Any], dict[str, Any]]:
        body = load_json("shopify/refunds_create")
        body["id"], body["order_id"] = _new_id(), _new_id()
        return "refund.created", body, {"order_id": str(body["order_id"]), "quantity": 1, "total": Decimal("14.09"),
                                        "restock": True}

    return {"paid_order": paid_order, "unpaid_order": lambda: {"id": _new_id()}, "refund_event": refund_event}


def woocommerce_extras(client: Any) -> dict[str, Any]:
    def order(**values: Any) -> dict[str, Any]:
        answer = client.post("orders", json={"billing": {"email": "money@example.com"},
                                             "line_items": [{"sku": "MUG-CER-01", "quantity": 2,
                                                             "price": "14.50"}], **values})
        answer.raise_for_status()
        return answer.json()  # type: ignore[no-any-return]

    def paid_order() -> tuple[dict[str, Any], list[tuple[Decimal, str]]]:
        created = order(payment_method="stripe", transaction_id=f"ch_{uuid.uuid4().hex[:12]}", set_paid=True)
        return created, [(Decimal(created["total"]), "stripe")]

    def refund_event() -> tuple[str, dict[str, Any], dict[str, Any]]:
        created = order(payment_method="stripe", set_paid=True)
        line = created["line_items"][0]
        client.post(f"orders/{created['id']}/refunds", json={
            "amount": "14.50", "line_items": [{"id": line["id"], "quantity": 1, "refund_total": "14.50"}]
        }).raise_for_status()
        updated = client.get(f"orders/{created['id']}").json()
        return "order.updated", updated, {"order_id": str(created["id"]), "quantity": 1, "total": Decimal("14.50"),
                                          "restock": True}

    return {"paid_order": paid_order, "unpaid_order": lambda: order(payment_method="bacs"),
            "refund_event": refund_event}


def fake_ledger(erp: FakeErp) -> Any:
    from tests.conformance.providers import Provider

    return Provider("fake", FakeLedger(erp), extra={"erp": erp})


def fake_store() -> Any:
    from tests.conformance.providers import Provider

    store = FakeStoreMoney()

    def paid_order() -> tuple[dict[str, Any], list[tuple[Decimal, str]]]:
        order_id = str(_new_id())
        store.payments[order_id] = [Payment(store="conformance", order_id=order_id, transaction_id=f"t{n}-{order_id}",
                                            gateway="stripe", amount=Money(amount=Decimal(amount), currency="USD"))
                                    for n, amount in enumerate(("20.00", "10.00"))]
        return {"id": int(order_id)}, [(Decimal("20.00"), "stripe"), (Decimal("10.00"), "stripe")]

    def refund_event() -> tuple[str, dict[str, Any], dict[str, Any]]:
        order_id, refund_id = str(_new_id()), str(_new_id())
        usd = lambda amount: Money(amount=Decimal(amount), currency="USD")
        store.refunds[refund_id] = Refund(
            store="conformance", source_id=refund_id, order_id=order_id, currency="USD",
            lines=(RefundLine(source_line_id="1", sku="MUG-CER-01", title="Mug", quantity=1, amount=usd("14.50"),
                              tax=usd("0"), restock=True),),
            shipping=usd("0"), tax=usd("0"), total=usd("14.50"), created_at=dt.datetime.now(dt.UTC))
        return "order.updated", {"id": int(order_id), "refunds": [{"id": int(refund_id)}]}, {
            "order_id": order_id, "quantity": 1, "total": Decimal("14.50"), "restock": True}

    return Provider("fake", store, extra={"paid_order": paid_order, "unpaid_order": lambda: {"id": _new_id()},
                                          "refund_event": refund_event})
