"""The Shopify sandbox's order transactions: `order(id:) { transactions { ... } }` as the GraphQL Admin API
documents it (OrderTransaction: kind, status, gateway, amountSet in shop and presentment money, processedAt,
parentTransaction). A test records the transactions a checkout, a capture or a refund would leave on an
order (`ShopifySandbox.add_transaction`, which seeds a bare order in the order book when the id is new: an
order `order(id:)` does not know answers null).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from infra.local.sandboxes.shopify_store import gid, now

KINDS = {"AUTHORIZATION", "CAPTURE", "CHANGE", "EMV_AUTHORIZATION", "REFUND", "SALE", "SUGGESTED_REFUND", "VOID"}
STATUSES = {"AWAITING_RESPONSE", "ERROR", "FAILURE", "PENDING", "SUCCESS", "UNKNOWN"}


@dataclass
class Transaction:
    id: int
    order_id: int
    kind: str
    status: str
    gateway: str
    amount: Decimal
    currency: str
    processed_at: datetime
    parent_id: int | None = None
    test: bool = False
    created_at: datetime = field(default_factory=now)


class TransactionBook:
    def __init__(self) -> None:
        self.by_order: dict[int, list[Transaction]] = {}
        self.names: dict[int, str] = {}
        self.by_id: dict[int, Transaction] = {}
        # Shopify's ids are unique for good; a sandbox restarted against a kept ERP database must not reuse them.
        self._next = 5_900_000_000_000 + int(time.time() * 1000) % 10**9 * 100

    def add(self, order_id: int, *, kind: str, amount: str | Decimal, currency: str, gateway: str,
            status: str = "SUCCESS", processed_at: datetime | None = None, parent_id: int | None = None,
            name: str | None = None, test: bool = False, transaction_id: int | None = None) -> Transaction:
        if kind not in KINDS or status not in STATUSES:
            raise ValueError(f"not a Shopify transaction kind/status: {kind}/{status}")
        self._next += 1
        transaction = Transaction(id=transaction_id or self._next, order_id=order_id, kind=kind, status=status,
                                  gateway=gateway, amount=Decimal(str(amount)), currency=currency,
                                  processed_at=processed_at or now(), parent_id=parent_id, test=test)
        self.by_order.setdefault(order_id, []).append(transaction)
        self.by_id[transaction.id] = transaction
        self.names.setdefault(order_id, name or f"#{order_id}")
        return transaction

    def of(self, order_id: int) -> list[Transaction]:
        return list(self.by_order.get(order_id, ()))



def financial_status(transactions: list[Transaction], total: str | None, current: str | None) -> str | None:
    """The order's `financial_status` once these transactions are recorded: captured money against the total
    (paid, partially_paid), net of refunds (refunded, partially_refunded); an authorization alone: authorized."""
    done = [t for t in transactions if t.status == "SUCCESS"]
    taken = sum((t.amount for t in done if t.kind in ("SALE", "CAPTURE")), Decimal(0))
    returned = sum((t.amount for t in done if t.kind == "REFUND"), Decimal(0))
    due = Decimal(str(total)) if total is not None else None
    if returned and taken and returned >= taken:
        return "refunded"
    if returned:
        return "partially_refunded"
    if taken and due is not None:
        return "paid" if taken >= due else "partially_paid"
    if any(t.kind == "AUTHORIZATION" for t in done):
        return "authorized"
    return current

def _money(t: Transaction) -> dict[str, Any]:
    money = {"amount": format(t.amount.quantize(Decimal("0.01")), "f"), "currencyCode": t.currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


def transaction_resolvers(book_of: Any) -> dict[str, Any]:
    """Resolvers for `Order.transactions` and OrderTransaction's fields; `book_of(info)` is the shop's
    TransactionBook. The order itself (`Query.order`, `Order.id`) is the order book's (shopify_orders): the
    transactions are found by the order's id."""
    return {
        "Order.transactions": lambda o, info, first=None, **_: book_of(info).of(o.id)[:first],
        "OrderTransaction.id": lambda t, _: gid("OrderTransaction", t.id),
        "OrderTransaction.amountSet": lambda t, _: _money(t),
        "OrderTransaction.processedAt": lambda t, _: t.processed_at,
        "OrderTransaction.createdAt": lambda t, _: t.created_at,
        "OrderTransaction.parentTransaction": lambda t, info: book_of(info).by_id.get(t.parent_id or -1),
    }
