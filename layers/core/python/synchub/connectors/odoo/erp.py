"""OdooErp: the ERP ports over Odoo's external API (partners, confirmed sale orders, products, stock quants).

The store is the tax calculator of record, as for Tryton: a sale.order carries the store's unit prices, one
SHIPPING line per shipping line, and one line per other part of the total (models/order_totals: TAX when
prices exclude tax, TIP, DUTY, GIFT_CARD sold, ADJUSTMENT, DISCOUNT), which add up to the store's total.
Every line's taxes are cleared (`[6, 0, []]`), so Odoo's own tax rules never add
to what the shopper paid and amount_total equals the store's total.

Odoo prices a sale in its pricelist's currency: an order in another currency than the company's needs a
pricelist in that currency (else it parks as `unknown_currency`).
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import httpx
from aws_lambda_powertools import Logger

from synchub.connectors.odoo import mapping
from synchub.connectors.odoo.client import OdooClient
from synchub.connectors.odoo.mapping import LineSpec
from synchub.connectors.odoo.settings import OdooSettings
from synchub.connectors.order_booking import bookable_breakdown
from synchub.errors import PermanentError
from synchub.models import Customer, Order, StockLevel
from synchub.models.order_totals import TotalPart
from synchub.ports import SalesOrderRef, StockChanges

logger = Logger(service="synchub")

DISCOUNT_PRODUCT = "DISCOUNT"
TAX_PRODUCT = "TAX"
# The service products the parts of an order total are booked on (the same codes as the Tryton adapter's).
SERVICE_PRODUCTS: dict[TotalPart, str] = {
    TotalPart.DISCOUNT: DISCOUNT_PRODUCT, TotalPart.TAX: TAX_PRODUCT, TotalPart.TIP: "TIP",
    TotalPart.DUTY: "DUTY", TotalPart.GIFT_CARD: "GIFT_CARD", TotalPart.ADJUSTMENT: "ADJUSTMENT",
}
_PAGE = 1000
_SEARCH_STILL_FRESH = 30.0  # seconds a "no sale for this reference" answer spares create_sales_order's search
# A confirmed sale.order's cancel asks for a confirmation wizard unless told not to (sale's _show_cancel_wizard).
_NO_CANCEL_WIZARD = {"disable_cancel_warning": True}


class OdooErp:
    def __init__(self, client: OdooClient, config: OdooSettings, *,
                 overlap: dt.timedelta = dt.timedelta(seconds=10)) -> None:
        self.client = client
        self.config = config
        self.overlap = overlap  # how far back each stock poll re-reads (write_date is the transaction's start)
        self._locations: dict[str, int] = dict(config.locations)
        self._warehouses: dict[str, int | None] = {}
        self._services: dict[str, int] = {}
        self._countries: dict[str, int | None] = {}
        self._pricelists: dict[str, int | None] = {}
        self._just_absent: tuple[str, float] | None = None  # (reference, when) the last search found no sale for

    # -- customers -------------------------------------------------------------------------------

    def upsert_customer(self, customer: Customer, *, reference: str) -> str:
        address = customer.default_address or (customer.addresses[0] if customer.addresses else None)
        wanted = mapping.partner_values(customer, reference, self._country(address.country_code if address else None))
        found = self.client.call("res.partner", "search_read", domain=[["ref", "=", reference]],
                                 fields=mapping.PARTNER_FIELDS, limit=1, order="id asc")
        if not found:
            partner_id, = self.client.call("res.partner", "create", [wanted])
            logger.info("ERP customer created", extra={"partner_id": partner_id})
            return str(partner_id)
        row = found[0]
        changes = mapping.partner_changes(row, wanted)
        if changes:
            self.client.call("res.partner", "write", ids=[row["id"]], vals=changes)
        return str(row["id"])

    # -- products --------------------------------------------------------------------------------

    def resolve_products(self, skus: Sequence[str]) -> dict[str, str]:
        wanted = sorted({sku for sku in skus if sku})
        if not wanted:
            return {}
        field = self.config.product_field
        rows = self.client.call("product.product", "search_read", domain=[[field, "in", wanted]], fields=[field],
                                order="id asc")
        found: dict[str, str] = {}
        for row in rows:
            if row.get(field):
                found.setdefault(row[field], str(row["id"]))
        return found

    # -- sales orders ----------------------------------------------------------------------------

    def find_sales_order(self, reference: str) -> SalesOrderRef | None:
        row = self._find_row(reference)
        # The flow searches, then creates under its lease: a create right after need not search again.
        self._just_absent = None if row else (reference, time.monotonic())
        return mapping.sale_ref(row) if row else None

    def create_sales_order(self, order: Order, *, customer_id: str, products: dict[str, str]) -> SalesOrderRef:
        # Crash-safe: a sale created by an earlier attempt (even one that died before confirming) is reused.
        absent = (self._just_absent is not None and self._just_absent[0] == order.store_reference
                  and time.monotonic() - self._just_absent[1] < _SEARCH_STILL_FRESH)
        self._just_absent = None
        existing = None if absent else self._find_row(order.store_reference)
        if existing is not None:
            if existing["state"] in mapping.OPEN:
                self.client.call("sale.order", "action_confirm", ids=[existing["id"]])
                return self._ref(existing["id"])
            return mapping.sale_ref(existing)
        specs = self._line_specs(order, products)
        values: dict[str, Any] = {
            "partner_id": int(customer_id),
            "client_order_ref": order.store_reference,
            "origin": order.reference,
            "order_line": mapping.line_commands(specs, self.config.tax_field),
        }
        pricelist = self._pricelist(order.currency)
        if pricelist:
            values["pricelist_id"] = pricelist
        warehouse = self._warehouse(self.config.warehouses[0])
        if warehouse:
            values["warehouse_id"] = warehouse
        sale_id, = self.client.call("sale.order", "create", [values])
        self.client.call("sale.order", "action_confirm", ids=[sale_id])
        logger.info("ERP sales order created", extra={"sale_id": sale_id, "reference": order.store_reference})
        return self._ref(sale_id)

    def update_sales_order(self, sale: SalesOrderRef, order: Order, *, products: dict[str, str]) -> SalesOrderRef:
        row = self._read_sale(int(sale.id))
        specs = self._line_specs(order, products)
        if row["state"] in mapping.OPEN:
            self.client.call("sale.order", "write", ids=[row["id"]], vals={
                "origin": order.reference,
                "order_line": mapping.line_commands(specs, self.config.tax_field, replace=True)})
            self.client.call("sale.order", "action_confirm", ids=[row["id"]])
            return self._ref(row["id"])
        ref = mapping.sale_ref(row)
        if ref.state == "cancelled":
            return ref
        lines = self.client.call("sale.order.line", "search_read", domain=[["order_id", "=", row["id"]]],
                                 fields=["product_id", "product_uom_qty", "price_unit", "display_type"], order="id asc")
        if not mapping.same_lines(specs, lines):
            raise PermanentError(f"sale {ref.number or ref.id} is {row['state']}: its lines are not rewritten",
                                 reason="order_edited_after_confirmation", sale_id=ref.id)
        return ref

    def cancel_sales_order(self, sale: SalesOrderRef) -> SalesOrderRef:
        row = self._read_sale(int(sale.id))
        if row["state"] == "cancel":
            return mapping.sale_ref(row)
        if row.get("locked"):  # "Lock confirmed sales": Odoo refuses to cancel a locked order
            self.client.call("sale.order", "action_unlock", ids=[row["id"]])
        answer = self.client.call("sale.order", "action_cancel", ids=[row["id"]], context=_NO_CANCEL_WIZARD)
        if isinstance(answer, dict):  # a wizard to fill in instead of a cancellation: nothing was cancelled
            raise PermanentError(f"sale {row['name']}: Odoo asks for a cancellation wizard",
                                 reason="cancel_needs_confirmation", sale_id=str(row["id"]))
        ref = self._ref(row["id"])
        logger.info("ERP sales order cancelled", extra={"sale_id": row["id"], "state": ref.state})
        return ref

    # -- stock -----------------------------------------------------------------------------------

    def stock_changes(self, since: str | None, warehouses: Sequence[str]) -> StockChanges:
        locations = [self._location(code) for code in warehouses]
        if since is None:
            levels = [level for page in self.iter_stock(warehouses, self.config.stock_page_size) for level in page]
            newest_rows = self.client.call("stock.quant", "search_read",
                                           domain=[["location_id", "child_of", locations]], fields=["write_date"],
                                           order="write_date desc, id desc", limit=1)
            newest = mapping.parse_stamp(newest_rows[0]["write_date"]) if newest_rows else dt.datetime(1970, 1, 1)
            window = self._quants_since(locations, newest - self.overlap) if newest_rows else []
            return StockChanges(levels=tuple(levels), watermark=self._watermark(newest, window))
        previous, seen = mapping.decode_watermark(since)
        quants = self._quants_since(locations, previous - self.overlap)
        fresh = [row for row in quants if mapping.quant_key(row) not in seen]
        newest = max([previous, *(mapping.parse_stamp(row["write_date"]) for row in quants)])
        stamps: dict[int, dt.datetime] = {}
        for row in fresh:
            product = mapping.many2one_id(row["product_id"]) or 0
            stamps[product] = max(stamps.get(product, dt.datetime.min), mapping.parse_stamp(row["write_date"]))
        field = self.config.product_field
        products = self.client.call("product.product", "search_read",
                                    domain=[["id", "in", sorted(stamps)], [field, "!=", False]], fields=[field],
                                    order=f"{field} asc, id asc") if stamps else []
        levels = self._levels(products, warehouses, stamps)
        return StockChanges(levels=tuple(levels), watermark=self._watermark(newest, quants))

    def iter_stock(self, warehouses: Sequence[str], page_size: int = 1000) -> Iterator[list[StockLevel]]:
        field = self.config.product_field
        offset = 0
        while True:
            products = self.client.call("product.product", "search_read",
                                        domain=[[field, "!=", False], ["type", "!=", "service"]], fields=[field],
                                        order=f"{field} asc, id asc", offset=offset, limit=page_size)
            if not products:
                return
            yield self._levels(products, warehouses, {})
            if len(products) < page_size:
                return
            offset += page_size

    # -- internals: sales ------------------------------------------------------------------------

    def _line_specs(self, order: Order, products: dict[str, str]) -> list[LineSpec]:
        breakdown = bookable_breakdown(order, products)
        specs = []
        for piece in breakdown.pieces:  # one line per part of the total, so Odoo's total is the store's
            if piece.line is None:  # shipping, tax, tip, duty, adjustment, discount: one unit at its amount
                specs.append(LineSpec(self._part_service(piece.part), Decimal(1), piece.amount, piece.title))
                continue
            product = (int(products[piece.line.product_key or ""]) if piece.part is TotalPart.ITEM
                       else self._part_service(piece.part))  # a fee or a gift card sold keeps qty and price
            specs.append(LineSpec(product, piece.quantity, piece.unit_price, piece.title))
        return specs

    def _part_service(self, part: TotalPart) -> int:
        """The service product (by SKU) of a non-catalogue part of an order total."""
        if part is TotalPart.SHIPPING:
            return self._service(self.config.shipping_product)
        if part is TotalPart.FEE:
            return self._service(self.config.fee_product)
        return self._service(SERVICE_PRODUCTS[part])

    def _find_row(self, reference: str) -> dict[str, Any] | None:
        rows = self.client.call("sale.order", "search_read", domain=[["client_order_ref", "=", reference]],
                                fields=mapping.SALE_FIELDS, order="id asc", limit=1)
        return rows[0] if rows else None

    def _read_sale(self, sale_id: int) -> dict[str, Any]:
        rows = self.client.call("sale.order", "search_read", domain=[["id", "=", sale_id]],
                                fields=mapping.SALE_FIELDS, limit=1)
        if not rows:
            raise PermanentError(f"sale {sale_id} not found in Odoo", reason="missing_sale", sale_id=sale_id)
        return rows[0]

    def _ref(self, sale_id: int) -> SalesOrderRef:
        return mapping.sale_ref(self._read_sale(sale_id))

    # -- internals: reference data ---------------------------------------------------------------

    def _country(self, code: str | None) -> int | None:
        if not code:
            return None
        if code not in self._countries:
            rows = self.client.call("res.country", "search_read", domain=[["code", "=", code]], fields=["id"],
                                    limit=1)
            self._countries[code] = rows[0]["id"] if rows else None  # kept without a country, never lost
        return self._countries[code]

    def _pricelist(self, currency: str) -> int | None:
        """A pricelist in the order's currency; None (Odoo's default) when the company's currency is it."""
        if currency not in self._pricelists:
            rows = self.client.call("product.pricelist", "search_read", domain=[["currency_id.name", "=", currency]],
                                    fields=["id"], order="sequence asc, id asc", limit=1)
            if rows:
                self._pricelists[currency] = rows[0]["id"]
            else:
                company = self.client.call("res.company", "search_read", domain=[], fields=["currency_id"],
                                           order="sequence asc, id asc", limit=1)
                names = company[0]["currency_id"] if company else None
                if not (isinstance(names, list) and len(names) > 1 and names[1] == currency):
                    raise PermanentError(f"no Odoo pricelist in {currency}", reason="unknown_currency")
                self._pricelists[currency] = None
        return self._pricelists[currency]

    def _warehouse(self, code: str) -> int | None:
        if code not in self._warehouses:
            rows = self.client.call("stock.warehouse", "search_read", domain=[["code", "=", code]],
                                    fields=["lot_stock_id"], limit=1)
            self._warehouses[code] = rows[0]["id"] if rows else None
            if rows and code not in self._locations:
                self._locations[code] = mapping.many2one_id(rows[0]["lot_stock_id"]) or 0
        return self._warehouses[code]

    def _location(self, code: str) -> int:
        if code not in self._locations:
            self._warehouse(code)
            if code not in self._locations:
                raise PermanentError(f"no Odoo warehouse with code {code} and no location configured for it",
                                     reason="unknown_warehouse")
        return self._locations[code]

    def _service(self, code: str) -> int:
        if code not in self._services:
            found = self.resolve_products([code])
            if code not in found:
                raise PermanentError(f"no Odoo product with {self.config.product_field} {code}",
                                     reason="missing_service_product")
            self._services[code] = int(found[code])
        return self._services[code]

    # -- internals: stock ------------------------------------------------------------------------

    def _levels(self, products: list[dict[str, Any]], warehouses: Sequence[str],
                stamps: dict[int, dt.datetime]) -> list[StockLevel]:
        ids = [row["id"] for row in products]
        if not ids:
            return []
        field = self.config.product_field
        totals: dict[tuple[str, int], tuple[Decimal, Decimal]] = {}
        for code in warehouses:
            location = self._location(code)
            quants = self.client.call("stock.quant", "search_read",
                                      domain=[["product_id", "in", ids], ["location_id", "child_of", location]],
                                      fields=["product_id", "quantity", "reserved_quantity"], order="id asc")
            for quant in quants:
                key = (code, mapping.many2one_id(quant["product_id"]) or 0)
                on_hand, reserved = totals.get(key, (Decimal(0), Decimal(0)))
                totals[key] = (on_hand + Decimal(str(quant["quantity"])),
                               reserved + Decimal(str(quant["reserved_quantity"])))
        levels = []
        for product in products:
            for code in warehouses:
                on_hand, reserved = totals.get((code, product["id"]), (Decimal(0), Decimal(0)))
                levels.append(StockLevel(sku=product[field], warehouse=code, on_hand=round(on_hand),
                                         reserved=max(0, round(reserved)),
                                         updated_at=mapping.as_utc(stamps.get(product["id"]))))
        return levels

    def _quants_since(self, locations: list[int], lower: dt.datetime) -> list[dict[str, Any]]:
        """Quants written at or after `lower`, oldest first, ordered by a unique key, read page by page."""
        domain = [["location_id", "child_of", locations], ["write_date", ">=", lower.strftime(mapping.STAMP)]]
        quants: list[dict[str, Any]] = []
        while True:
            rows = self.client.call("stock.quant", "search_read", domain=domain,
                                    fields=["product_id", "write_date", "quantity", "reserved_quantity"],
                                    order="write_date asc, id asc",
                                    offset=len(quants), limit=_PAGE)
            quants.extend(rows)
            if len(rows) < _PAGE:
                return quants

    def _watermark(self, newest: dt.datetime, quants: list[dict[str, Any]]) -> str:
        window = [mapping.quant_key(row) for row in quants
                  if mapping.parse_stamp(row["write_date"]) > newest - self.overlap]
        return mapping.encode_watermark(newest, window)


def odoo_erp_from_config(config: OdooSettings, secret: dict, http_client: httpx.Client | None = None) -> OdooErp:
    """An OdooErp for the configured server; `secret` holds `api_key`."""
    client = OdooClient.connect(config.api_url or config.url, database=config.database, api_key=secret["api_key"],
                                api=config.api, login=config.login, http_client=http_client)
    return OdooErp(client, config)
