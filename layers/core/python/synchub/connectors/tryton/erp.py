"""TrytonErp: the Erp port over Tryton's JSON-RPC (parties, confirmed sales, stock per warehouse).

The store is the tax calculator of record: a sale carries the store's unit prices, one SHIPPING line
per shipping line, a TAX line with the tax the store collected (none when prices include tax), TIP, DUTY,
GIFT_CARD (gift cards sold) and ADJUSTMENT lines, and a DISCOUNT line of -total_discount: the pieces of
models.order_totals. They must add up to the store's total to the currency's minor unit, else the order is
parked as `total_mismatch`; so the ERP total equals the store's, with no tax rules kept in Tryton.

Tryton 7.0 cannot move a processed sale to `cancelled`: cancelling one cancels its shipments and draft
invoices (releasing the reserved stock) and ignores them through the sale's exception wizards, which
leaves it `done` with nothing shipped or invoiced. SalesOrderRef reports such a sale as `cancelled`.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
from aws_lambda_powertools import Logger

from synchub.connectors.order_booking import bookable_breakdown
from synchub.connectors.tryton import amendments, mapping
from synchub.connectors.tryton.client import TrytonClient
from synchub.connectors.tryton.mapping import LineSpec
from synchub.connectors.tryton.settings import TrytonSettings
from synchub.errors import PermanentError
from synchub.models import Address, Customer, Order, StockLevel, TotalPart
from synchub.ports import SalesOrderRef, StockChanges

logger = Logger(service="synchub")

DISCOUNT_PRODUCT = mapping.DISCOUNT_PRODUCT
TAX_PRODUCT = mapping.TAX_PRODUCT
_OPEN = ("draft", "quotation")
_SHIPPED = ("done",)
_INVOICED = ("posted", "paid")
# SKU -> product id is read once per execution environment for this long (as secrets are): a new order
# then costs no product lookup. A SKU not found is looked up again every time.
PRODUCT_CACHE_SECONDS = 300.0
# How long find_sales_order's "no sale for this reference" stands in for create_sales_order's own search.
# The flow finds, then creates, inside its lock on the order key, so no other worker creates it meanwhile.
ABSENT_SECONDS = 60.0


class TrytonErp:
    def __init__(self, client: TrytonClient, config: TrytonSettings, *,
                 overlap: dt.timedelta = dt.timedelta(seconds=10)) -> None:
        self.client = client
        self.config = config
        # How far back each stock poll re-reads: Tryton stamps a move with its transaction's start,
        # so a move can commit after a later-stamped one was already read.
        self.overlap = overlap
        self._warehouses: dict[str, int] = {}
        self._services: dict[str, int] = {}
        self._countries: dict[str, int] = {}
        self._currencies: dict[str, int] = {}
        self._units: dict[int, int] = {}  # product id -> sale unit (read with the product, reused per line)
        self._products: dict[str, tuple[str, float]] = {}  # SKU -> (product id, monotonic time read)
        self._absent: tuple[str, float] | None = None  # (reference, when) find_sales_order found no sale for

    # -- customers -------------------------------------------------------------------------------

    def upsert_customer(self, customer: Customer, *, reference: str) -> str:
        found = self.client.model("party.party", "search", [("identifiers.code", "=", reference)], 0, 1,
                                  [("id", "ASC")])
        addresses = self._new_addresses(self._customer_addresses(customer), [])
        if not found:
            values: dict[str, Any] = {
                "name": mapping.party_name(customer),
                "identifiers": [["create", [{"code": reference}]]],
                "contact_mechanisms": [["create", mapping.contact_values(customer)]],
            }
            if addresses:
                values["addresses"] = [["create", addresses]]
            party_id, = self.client.model("party.party", "create", [values])
            logger.info("ERP customer created", extra={"party_id": party_id})
            return str(party_id)
        party_id = found[0]
        party, = self.client.model("party.party", "read", [party_id], ["name", "contact_mechanisms", "addresses"])
        changes: dict[str, Any] = {}
        if party["name"] != mapping.party_name(customer):
            changes["name"] = mapping.party_name(customer)
        mechanisms = self.client.model("party.contact_mechanism", "read", party["contact_mechanisms"],
                                       ["type", "value", "value_compact"])
        # Tryton formats phones for display ("+1 202-555-0123"); value_compact is the E.164 form.
        have = {(row["type"], value) for row in mechanisms for value in (row["value"], row["value_compact"])}
        missing = [m for m in mapping.contact_values(customer) if (m["type"], m["value"]) not in have]
        if missing:
            changes["contact_mechanisms"] = [["create", missing]]
        current = self._read_addresses(party["addresses"])
        new = self._new_addresses(self._customer_addresses(customer), current)
        if new:
            changes["addresses"] = [["create", new]]
        if changes:
            self.client.model("party.party", "write", [party_id], changes)
        return str(party_id)

    # -- products --------------------------------------------------------------------------------

    def resolve_products(self, skus: Sequence[str]) -> dict[str, str]:
        wanted = sorted({sku for sku in skus if sku})
        if not wanted:
            return {}
        now = time.monotonic()
        found = {sku: cached[0] for sku in wanted
                 if (cached := self._products.get(sku)) is not None and now - cached[1] < PRODUCT_CACHE_SECONDS}
        missing = [sku for sku in wanted if sku not in found]
        if missing:
            rows = self.client.model("product.product", "search_read", [("code", "in", missing)], 0, None,
                                     [("id", "ASC")], ["code", "sale_uom"])
            for row in rows:
                if row["code"] not in found:  # several products with one code: the oldest, as before
                    found[row["code"]] = str(row["id"])
                    self._products[row["code"]] = (str(row["id"]), now)
                self._units[row["id"]] = row["sale_uom"]
        return found

    # -- sales orders ----------------------------------------------------------------------------

    def find_sales_order(self, reference: str) -> SalesOrderRef | None:
        rows = self.client.model("sale.sale", "search_read", [("reference", "=", reference)], 0, 1,
                                 [("id", "ASC")], mapping.SALE_FIELDS)
        self._absent = None if rows else (reference, time.monotonic())
        return self._ref_from_row(rows[0]) if rows else None

    def create_sales_order(self, order: Order, *, customer_id: str, products: dict[str, str]) -> SalesOrderRef:
        # Crash-safe: a sale created by an earlier attempt (even one that died before confirming) is reused.
        # A search that just found none (the flow's, under its lock on this order) is not repeated.
        absent, self._absent = self._absent, None
        just_searched = absent is not None and absent[0] == order.store_reference \
            and time.monotonic() - absent[1] < ABSENT_SECONDS
        existing = None if just_searched else self.find_sales_order(order.store_reference)
        self._absent = None  # consumed: once this create has run, "no sale" is no longer true
        if existing is not None:
            if existing.state in _OPEN:
                self._confirm(int(existing.id))
                return self._ref(int(existing.id))
            return existing
        party = int(customer_id)
        specs = self._line_specs(order, products)
        addresses = self._party_addresses(party)  # read once for both invoice and shipment
        values = {
            "party": party,
            "invoice_address": self._address_for(party, order.billing_address or order.shipping_address, addresses),
            "shipment_address": self._address_for(party, order.shipping_address or order.billing_address, addresses),
            "currency": self._currency(order.currency),
            "warehouse": self._warehouse(self.config.warehouses[0]),
            "reference": order.store_reference,
            "description": order.reference,
            "sale_date": order.created_at.date(),
            "lines": [["create", self._line_values(specs)]],
        }
        sale_id, = self.client.model("sale.sale", "create", [values])
        self._confirm(sale_id, state="draft")
        logger.info("ERP sales order created", extra={"sale_id": sale_id, "reference": order.store_reference})
        return self._ref(sale_id)

    def update_sales_order(self, sale: SalesOrderRef, order: Order, *, products: dict[str, str]) -> SalesOrderRef:
        row = self._read_sale(int(sale.id))
        specs = self._line_specs(order, products)
        if row["state"] in (*_OPEN, "confirmed"):  # not processed yet: back to draft, lines rewritten
            if row["state"] != "draft":
                self.client.model("sale.sale", "draft", [row["id"]])
            current, = self.client.model("sale.sale", "read", [row["id"]], ["lines"])
            self.client.model("sale.sale", "write", [row["id"]], {
                "description": order.reference,
                "lines": [["delete", current["lines"]], ["create", self._line_values(specs)]],
            })
            self._confirm(row["id"])
            return self._ref(row["id"])
        ref = self._ref_from_row(row)
        if ref.state == "cancelled":
            return ref
        # Processing (or done): a sale amendment, refused with the figures where Tryton cannot follow.
        return amendments.amend_sale(self, row, specs, order)

    def cancel_sales_order(self, sale: SalesOrderRef) -> SalesOrderRef:
        ref = self._cancel_one(sale)
        # Lines an order edit added after processing live on complementary sales (amendments.py): they go too.
        for extra in amendments.complements(self, ref.reference) if ref.reference else ():
            self._cancel_one(mapping.sale_ref(extra))
        return ref

    def _cancel_one(self, sale: SalesOrderRef) -> SalesOrderRef:
        sale_id = int(sale.id)
        row = self._read_sale(sale_id)
        state = row["state"]
        if state == "cancelled":
            return self._ref_from_row(row)
        if state == "confirmed":  # not processed yet: Tryton allows confirmed -> draft -> cancelled
            self.client.model("sale.sale", "draft", [sale_id])
            state = "draft"
        if state in _OPEN:
            self.client.model("sale.sale", "cancel", [sale_id])
            return self._ref(sale_id)
        if self._nothing_left(sale_id):
            return self._ref(sale_id)
        self._cancel_processed(sale_id)
        ref = self._ref(sale_id)
        logger.info("ERP sales order cancelled", extra={"sale_id": sale_id, "state": ref.state})
        return ref

    # -- stock -----------------------------------------------------------------------------------

    def stock_changes(self, since: str | None, warehouses: Sequence[str]) -> StockChanges:
        if since is None:
            levels = [level for page in self.iter_stock(warehouses, self.config.stock_page_size) for level in page]
            newest = self._newest_move_stamp()
            window = self._moves_since(newest - self.overlap) if newest else []
            newest = newest or dt.datetime(1970, 1, 1)
            return StockChanges(levels=tuple(levels), watermark=self._watermark(newest, window))
        previous, seen = mapping.decode_watermark(since)
        moves = self._moves_since(previous - self.overlap)
        fresh = [move for move in moves if mapping.move_key(move) not in seen]
        newest = max([previous, *(mapping.move_stamp(move) for move in moves)])
        stamps: dict[int, dt.datetime] = {}
        for move in fresh:
            product = move["product"]
            stamps[product] = max(stamps.get(product, mapping.move_stamp(move)), mapping.move_stamp(move))
        products = self.client.model("product.product", "search_read",
                                     [("id", "in", sorted(stamps)), ("type", "=", "goods"), ("code", "!=", None)],
                                     0, None, [("code", "ASC"), ("id", "ASC")], ["code"]) if stamps else []
        levels = self._levels(products, warehouses, stamps)
        return StockChanges(levels=tuple(levels), watermark=self._watermark(newest, moves))

    def iter_stock(self, warehouses: Sequence[str], page_size: int = 1000) -> Iterator[list[StockLevel]]:
        offset = 0
        while True:
            products = self.client.model("product.product", "search_read",
                                         [("type", "=", "goods"), ("code", "!=", None)], offset, page_size,
                                         [("code", "ASC"), ("id", "ASC")], ["code"])
            if not products:
                return
            yield self._levels(products, warehouses, {})
            if len(products) < page_size:
                return
            offset += page_size

    # -- internals: sales ------------------------------------------------------------------------

    def _line_specs(self, order: Order, products: dict[str, str]) -> list[LineSpec]:
        breakdown = bookable_breakdown(order, products)
        return mapping.sale_line_specs(breakdown, products, self._part_service)

    def _part_service(self, part: TotalPart) -> int:
        """The ERP service product of a non-catalogue part of an order total (shipping, fee, tip, ...)."""
        if part is TotalPart.SHIPPING:
            return self._service(self.config.shipping_product)
        if part is TotalPart.FEE:
            return self._service(self.config.fee_product)
        return self._service(mapping.SERVICE_PRODUCTS[part])

    def _line_values(self, specs: Sequence[LineSpec]) -> list[dict[str, Any]]:
        unknown = sorted({spec.product for spec in specs} - self._units.keys())
        if unknown:  # service products (shipping, tax, ...) the first time, or products not resolved here
            self._units.update({row["id"]: row["sale_uom"] for row in
                                self.client.model("product.product", "read", unknown, ["sale_uom"])})
        return [mapping.line_values(spec, self._units[spec.product]) for spec in specs]

    def _confirm(self, sale_id: int, state: str | None = None) -> None:
        """quote then confirm; confirming queues `process`, which Tryton runs right after the commit."""
        state = state or self._read_sale(sale_id)["state"]
        if state == "draft":
            self.client.model("sale.sale", "quote", [sale_id])
            state = "quotation"
        if state == "quotation":
            self.client.model("sale.sale", "confirm", [sale_id])

    def _cancel_processed(self, sale_id: int) -> None:
        sale, = self.client.model("sale.sale", "read", [sale_id], ["moves", "shipments", "invoices"])
        moves = self.client.model("stock.move", "read", sale["moves"], ["state"])
        if any(move["state"] in _SHIPPED for move in moves):
            raise PermanentError(f"sale {sale_id} has shipped goods", reason="cannot_cancel_shipped", sale_id=sale_id)
        invoices = self.client.model("account.invoice", "read", sale["invoices"], ["state"])
        if any(invoice["state"] in _INVOICED for invoice in invoices):
            raise PermanentError(f"sale {sale_id} is invoiced", reason="cannot_cancel_invoiced", sale_id=sale_id)
        shipments = self.client.model("stock.shipment.out", "read", sale["shipments"], ["state"])
        open_shipments = [s["id"] for s in shipments if s["state"] != "cancelled"]
        if open_shipments:
            self.client.model("stock.shipment.out", "cancel", open_shipments)
        open_invoices = [i["id"] for i in invoices if i["state"] != "cancelled"]
        if open_invoices:
            self.client.model("account.invoice", "cancel", open_invoices)
        self.client.model("sale.sale", "process", [sale_id])
        row = self._read_sale(sale_id)
        if row["shipment_state"] == "exception":
            moves = self.client.model("stock.move", "search", [("id", "in", sale["moves"]),
                                                               ("state", "=", "cancelled")], 0, None, None)
            self._run_wizard("sale.handle.shipment.exception", sale_id,
                             {"ask": {"recreate_moves": [], "domain_moves": moves}})
        if row["invoice_state"] == "exception":
            self._run_wizard("sale.handle.invoice.exception", sale_id,
                             {"ask": {"recreate_invoices": [], "domain_invoices": open_invoices}})

    def _run_wizard(self, name: str, sale_id: int, data: dict[str, Any]) -> None:
        """Answer a sale's exception wizard: everything listed in `domain_*` and not recreated is ignored."""
        context = {**self.client.context, "active_model": "sale.sale", "active_id": sale_id,
                   "active_ids": [sale_id]}
        session, _, _ = self.client.call(f"wizard.{name}.create", [context])
        try:
            self.client.call(f"wizard.{name}.execute", [session, data, "handle", context])
        finally:
            self.client.call(f"wizard.{name}.delete", [session, context])

    def _nothing_left(self, sale_id: int) -> bool:
        """A processed sale whose goods moves are all cancelled and whose invoices are all cancelled."""
        sale, = self.client.model("sale.sale", "read", [sale_id], ["state", "moves", "invoices"])
        if sale["state"] != "done" or not sale["moves"]:
            return False
        moves = self.client.model("stock.move", "read", sale["moves"], ["state"])
        invoices = self.client.model("account.invoice", "read", sale["invoices"], ["state"])
        return all(m["state"] == "cancelled" for m in moves) and all(i["state"] == "cancelled" for i in invoices)

    def _read_sale(self, sale_id: int) -> dict[str, Any]:
        rows = self.client.model("sale.sale", "read", [sale_id], mapping.SALE_FIELDS)
        if not rows:
            raise PermanentError(f"sale {sale_id} not found in Tryton", reason="missing_sale", sale_id=sale_id)
        return rows[0]

    def _ref(self, sale_id: int) -> SalesOrderRef:
        return self._ref_from_row(self._read_sale(sale_id))

    def _ref_from_row(self, row: dict[str, Any]) -> SalesOrderRef:
        cancelled = row["state"] == "done" and self._nothing_left(row["id"])
        return mapping.sale_ref(row, cancelled=cancelled)

    # -- internals: parties, addresses, reference data -----------------------------------------

    @staticmethod
    def _customer_addresses(customer: Customer) -> list[Address]:
        addresses = list(customer.addresses)
        if customer.default_address and customer.default_address not in addresses:
            addresses.insert(0, customer.default_address)
        return addresses

    def _read_addresses(self, ids: list[int]) -> list[dict[str, Any]]:
        return self.client.model("party.address", "read", ids,
                                 ["party_name", "name", "street", "city", "postal_code", "country"])

    def _new_addresses(self, addresses: Sequence[Address], current: list[dict[str, Any]]) -> list[dict[str, Any]]:
        known = {mapping.address_key(row) for row in current}
        new = []
        for address in addresses:
            values = mapping.address_values(address, self._country(address.country_code))
            if mapping.address_key(values) not in known:
                known.add(mapping.address_key(values))
                new.append(values)
        return new

    def _party_addresses(self, party: int) -> list[dict[str, Any]]:
        return self.client.model("party.address", "search_read", [("party", "=", party)], 0, None, [("id", "ASC")],
                                 ["party_name", "name", "street", "city", "postal_code", "country"])

    def _address_for(self, party: int, address: Address | None, current: list[dict[str, Any]]) -> int:
        """The party's address matching the order's, created (and added to `current`) when it has none yet."""
        if address is None:
            if current:
                return current[0]["id"]
            created, = self.client.model("party.address", "create", [{"party": party}])
            current.append({"id": created})
            return created
        values = mapping.address_values(address, self._country(address.country_code))
        for row in current:
            if mapping.address_key(row) == mapping.address_key(values):
                return row["id"]
        created, = self.client.model("party.address", "create", [{**values, "party": party}])
        current.append({**values, "id": created})
        return created

    def _country(self, code: str | None) -> int | None:
        if not code:
            return None
        if code not in self._countries:
            found = self.client.model("country.country", "search", [("code", "=", code)], 0, 1, None)
            if not found:
                return None  # the address is kept without a country rather than losing the order
            self._countries[code] = found[0]
        return self._countries[code]

    def _currency(self, code: str) -> int:
        if code not in self._currencies:
            found = self.client.model("currency.currency", "search", [("code", "=", code)], 0, 1, None)
            if not found:
                raise PermanentError(f"currency {code} is not set up in Tryton", reason="unknown_currency")
            self._currencies[code] = found[0]
        return self._currencies[code]

    def _warehouse(self, code: str) -> int:
        if code not in self._warehouses:
            found = self.client.model("stock.location", "search", [("code", "=", code),
                                                                    ("type", "=", "warehouse")], 0, 1, None)
            if not found:
                raise PermanentError(f"no Tryton warehouse with code {code}", reason="unknown_warehouse")
            self._warehouses[code] = found[0]
        return self._warehouses[code]

    def _service(self, code: str) -> int:
        if code not in self._services:
            found = self.resolve_products([code])
            if code not in found:
                raise PermanentError(f"no Tryton product with code {code}", reason="missing_service_product")
            self._services[code] = int(found[code])
        return self._services[code]

    # -- internals: stock ------------------------------------------------------------------------

    def _levels(self, products: list[dict[str, Any]], warehouses: Sequence[str],
                stamps: dict[int, dt.datetime]) -> list[StockLevel]:
        ids = [row["id"] for row in products]
        if not ids:
            return []
        per_warehouse = {}
        for code in warehouses:
            rows = self.client.model("product.product", "read", ids, ["quantity", "forecast_quantity"],
                                     context={"locations": [self._warehouse(code)], "with_childs": True})
            per_warehouse[code] = {row["id"]: row for row in rows}
        levels = []
        for product in products:
            for code in warehouses:
                row = per_warehouse[code][product["id"]]
                on_hand = round(row["quantity"] or 0)
                forecast = round(row["forecast_quantity"] or 0)
                levels.append(StockLevel(sku=product["code"], warehouse=code, on_hand=on_hand,
                                         reserved=max(0, on_hand - forecast),
                                         updated_at=mapping.as_utc(stamps.get(product["id"]))))
        return levels

    def _moves_since(self, lower: dt.datetime) -> list[dict[str, Any]]:
        domain = ["OR", ("create_date", ">=", lower), ("write_date", ">=", lower)]
        moves: list[dict[str, Any]] = []
        page = 1000
        while True:
            rows = self.client.model("stock.move", "search_read", domain, len(moves), page, [("id", "ASC")],
                                     ["product", "create_date", "write_date"])
            moves.extend(rows)
            if len(rows) < page:
                return moves

    def _newest_move_stamp(self) -> dt.datetime | None:
        stamps = []
        for column in ("write_date", "create_date"):
            rows = self.client.model("stock.move", "search_read", [(column, "!=", None)], 0, 1,
                                     [(column, "DESC")], [column])
            stamps += [row[column] for row in rows]
        return max(stamps) if stamps else None

    def _watermark(self, newest: dt.datetime, moves: list[dict[str, Any]]) -> str:
        window = [mapping.move_key(m) for m in moves if mapping.move_stamp(m) > newest - self.overlap]
        return mapping.encode_watermark(newest, window)


def tryton_erp_from_config(config: TrytonSettings, secret: dict, http_client: httpx.Client | None = None) -> TrytonErp:
    """A TrytonErp for the configured server; `secret` holds `username` and `password`."""
    client = TrytonClient.connect(config.url, config.database, secret["username"], secret["password"],
                                  http_client=http_client)
    return TrytonErp(client, config)
