"""Shopify order payments through the GraphQL Admin API: the webhook order body carries no transaction ids.

`order(id:) { transactions { ... } }` lists every transaction of the order; only SALE and CAPTURE with
status SUCCESS took money. Amounts are the shop-currency `amountSet.shopMoney`; a transaction's id is its
GID's number, the same id Shopify's REST resources and refund bodies use.
"""
from __future__ import annotations

from typing import Any

from synchub.connectors.shopify.admin import ShopifyAdmin
from synchub.connectors.shopify.webhooks import parse_timestamp
from synchub.errors import InvalidPayload
from synchub.models import Money, Payment

ORDER_TRANSACTIONS = """
query OrderTransactions($id: ID!) {
  order(id: $id) {
    id
    transactions {
      id
      kind
      status
      gateway
      test
      amountSet { shopMoney { amount currencyCode } }
      processedAt
      parentTransaction { id }
    }
  }
}
"""
TAKES_MONEY = ("SALE", "CAPTURE")
QUERY_COST = 3  # the order, its transaction list and one object inside: Shopify's requested cost


def order_gid(payload: dict[str, Any]) -> str:
    """The order's GID: built from its REST id (what the envelope is keyed by), else its admin_graphql_api_id."""
    if payload.get("id") not in (None, ""):
        return f"gid://shopify/Order/{payload['id']}"
    gid = payload.get("admin_graphql_api_id")
    if isinstance(gid, str) and gid.startswith("gid://shopify/Order/"):
        return gid
    raise InvalidPayload("order without id", field="id")


def gid_number(gid: str) -> str:
    return gid.rsplit("/", 1)[-1].split("?", 1)[0]


def payments_from_transactions(store_id: str, order_id: str, transactions: list[dict[str, Any]]) -> list[Payment]:
    """The money-taking transactions (SALE/CAPTURE, SUCCESS) of a GraphQL answer, oldest first."""
    payments = []
    for transaction in transactions:
        if transaction.get("kind") not in TAKES_MONEY or transaction.get("status") != "SUCCESS":
            continue
        money = ((transaction.get("amountSet") or {}).get("shopMoney") or {})
        payments.append(Payment(store=store_id, order_id=order_id, transaction_id=gid_number(transaction["id"]),
                                gateway=transaction.get("gateway") or "", processed_at=parse_timestamp(
                                    transaction.get("processedAt")),
                                amount=Money(amount=money.get("amount") or "0", currency=money.get("currencyCode"))))
    return sorted(payments, key=lambda p: (p.processed_at is None, p.processed_at, p.transaction_id))


class ShopifyOrderTransactions:
    """OrderTransactions for Shopify."""

    def __init__(self, admin: ShopifyAdmin) -> None:
        self.admin = admin

    def order_payments(self, store_id: str, payload: dict) -> list[Payment]:
        gid = order_gid(payload)
        data = self.admin.execute(ORDER_TRANSACTIONS, {"id": gid}, cost=QUERY_COST)
        order = data.get("order")
        if not order:
            return []
        return payments_from_transactions(store_id, gid_number(gid), order.get("transactions") or [])
