"""NetSuiteErp: the ERP ports over SuiteTalk REST and SuiteQL (customers, sales orders, items, stock).

- Customers are upserted by external id (`PUT /record/v1/customer/eid:<our reference>`): one call, safe to repeat.
- A sales order carries our store reference as its external id: `GET /record/v1/salesOrder/eid:<ref>` finds it
  (the crash-safe check), and NetSuite refuses a second record with the same external id, so a retry after a
  crash between NetSuite's write and ours finds the first one instead of creating another.
- The store is the tax calculator of record, as for Tryton and Odoo: lines carry the store's rates, one SHIPPING
  line per shipping line, and one line per other part of the total (models/order_totals: TAX when prices exclude
  tax, TIP, DUTY, GIFT_CARD sold, ADJUSTMENT, DISCOUNT), which add up to the store's total; every line gets
  `line_tax_code` (Not Taxable), so NetSuite's tax engine adds nothing and the order's total is the store's.
- Created approved (`orderStatus` B, Pending Fulfillment: stock committed) unless `approve_on_create` is off.
  Updated (lines replaced) while nothing is fulfilled. Cancelled as NetSuite allows: a Pending Approval order by
  `orderStatus` C (the Cancel button), an approved one by closing every line (`isClosed`), which releases the
  commitment and leaves it Closed (H).
- Items by SKU (`item.itemid`) through SuiteQL. Stock from SuiteQL `inventoryitemlocations` (quantityonhand,
  quantitycommitted per item and location). NetSuite exposes no last-modified stamp on stock levels, so changes
  come from transactions: every stock movement is a transaction, and `transaction.lastmodifieddate` is the
  watermark (re-read with an overlap; see mapping). Their lines name the items whose levels are re-read.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import httpx
from aws_lambda_powertools import Logger

from synchub.connectors.netsuite import mapping
from synchub.connectors.netsuite.client import SUITEQL_PAGE, NetSuiteClient
from synchub.connectors.netsuite.mapping import LineSpec
from synchub.connectors.netsuite.settings import NetSuiteSettings
from synchub.connectors.order_booking import bookable_breakdown
from synchub.errors import PermanentError
from synchub.models import Customer, Order, StockLevel
from synchub.models.order_totals import TotalPart
from synchub.ports import SalesOrderRef, StockChanges

logger = Logger(service="synchub")

DISCOUNT_ITEM = "DISCOUNT"
TAX_ITEM = "TAX"
# The service items the parts of an order total are booked on (the same codes as the Tryton and Odoo adapters').
SERVICE_ITEMS: dict[TotalPart, str] = {
    TotalPart.DISCOUNT: DISCOUNT_ITEM, TotalPart.TAX: TAX_ITEM, TotalPart.TIP: "TIP", TotalPart.DUTY: "DUTY",
    TotalPart.GIFT_CARD: "GIFT_CARD", TotalPart.ADJUSTMENT: "ADJUSTMENT",
}
_SEARCH_STILL_FRESH = 30.0  # seconds a "no order for this reference" answer spares create_sales_order's lookup
_EXPANDED = {"expandSubResources": "true"}


class NetSuiteErp:
    def __init__(self, client: NetSuiteClient, config: NetSuiteSettings, *,
                 overlap: dt.timedelta = dt.timedelta(seconds=10)) -> None:
        self.client = client
        self.config = config
        self.overlap = overlap
        self._locations: dict[str, str] = dict(config.locations)
        self._services: dict[str, str] = {}
        self._currencies: dict[str, str] = {}
        self._just_absent: tuple[str, float] | None = None

    @property
    def _service_codes(self) -> tuple[str, ...]:
        return (self.config.shipping_product, self.config.fee_product, *SERVICE_ITEMS.values())

    # -- customers -------------------------------------------------------------------------------

    def upsert_customer(self, customer: Customer, *, reference: str) -> str:
        path = f"record/v1/customer/eid:{mapping.external_id(reference)}"
        body = mapping.customer_body(customer, self.config.subsidiary)
        # replace=addressBook: the address sublist is replaced, not appended to, on every upsert.
        customer_id = self.client.write("PUT", path, body, params={"replace": "addressBook"})
        if customer_id is None:  # no Location header: read the id back by the external id
            record = self.client.get(path, params={"fields": "id"})
            if record is None:
                raise PermanentError("netsuite: the customer upsert left no record", reason="vendor_error")
            customer_id = str(record["id"])
        return customer_id

    # -- items -----------------------------------------------------------------------------------

    def resolve_products(self, skus: Sequence[str]) -> dict[str, str]:
        wanted = sorted({sku for sku in skus if sku})
        # The service items (shipping, fee, discount, tax) ride along on the first lookup: no call of their own.
        services = [code for code in self._service_codes if code not in self._services and code not in wanted]
        asked = wanted + services
        if not asked:
            return {}
        found: dict[str, str] = {}
        for chunk in mapping.chunks(asked):
            query = f"SELECT id, itemid FROM item WHERE itemid IN {mapping.in_list(chunk)} ORDER BY id"
            for row in self.client.suiteql_rows(query):
                if row.get("itemid"):
                    found.setdefault(str(row["itemid"]), str(row["id"]))
        for code in self._service_codes:
            if code in found:
                self._services[code] = found[code]
        return {sku: found[sku] for sku in wanted if sku in found}

    # -- sales orders ----------------------------------------------------------------------------

    def find_sales_order(self, reference: str) -> SalesOrderRef | None:
        record = self._by_reference(reference)
        self._just_absent = None if record else (reference, time.monotonic())
        return mapping.sale_ref(record) if record else None

    def create_sales_order(self, order: Order, *, customer_id: str, products: dict[str, str]) -> SalesOrderRef:
        absent = (self._just_absent is not None and self._just_absent[0] == order.store_reference
                  and time.monotonic() - self._just_absent[1] < _SEARCH_STILL_FRESH)
        self._just_absent = None
        existing = None if absent else self._by_reference(order.store_reference)
        if existing is not None:  # an earlier attempt created it (maybe left unapproved): reuse, never duplicate
            if mapping.status(existing) == mapping.PENDING_APPROVAL and self.config.approve_on_create:
                self.client.write("PATCH", f"record/v1/salesOrder/{existing['id']}",
                                  {"orderStatus": {"id": mapping.PENDING_FULFILLMENT}})
                return self._ref(str(existing["id"]))
            return mapping.sale_ref(existing)
        specs = self._line_specs(order, products)
        status = mapping.PENDING_FULFILLMENT if self.config.approve_on_create else mapping.PENDING_APPROVAL
        body: dict[str, Any] = {
            "externalId": mapping.external_id(order.store_reference),
            "entity": {"id": customer_id},
            "orderStatus": {"id": status},
            "otherRefNum": order.reference[:45],
            "memo": f"SyncHub {order.store_reference}",
            "location": {"id": self._location(self.config.warehouses[0])},
            "currency": {"id": self._currency(order.currency)},
            "item": {"items": mapping.line_items(specs, self.config.line_tax_code)},
        }
        sale_id = self.client.write("POST", "record/v1/salesOrder", body)
        logger.info("ERP sales order created", extra={"sale_id": sale_id, "reference": order.store_reference})
        if sale_id is None:
            return self._ref_by_reference(order.store_reference)
        # The 204 carries only the Location: the order is what we sent, so no read-back call.
        return SalesOrderRef(id=sale_id, number=None, state=mapping.STATUSES[status], reference=order.store_reference,
                             total=str(order.total.amount))

    def update_sales_order(self, sale: SalesOrderRef, order: Order, *, products: dict[str, str]) -> SalesOrderRef:
        record = self._read(sale.id)
        ref = mapping.sale_ref(record)
        if ref.state == "cancelled":
            return ref
        specs = self._line_specs(order, products)
        if mapping.same_lines(specs, record):
            return ref
        if mapping.status(record) not in (mapping.PENDING_APPROVAL, mapping.PENDING_FULFILLMENT) \
                or mapping.fulfilled(record):
            raise PermanentError(f"sales order {ref.number or ref.id} is {ref.state}, partly fulfilled or billed: "
                                 "its lines are not rewritten", reason="order_edited_after_confirmation",
                                 sale_id=ref.id)
        # replace=item: the item sublist becomes exactly these lines (NetSuite re-commits the stock).
        self.client.write("PATCH", f"record/v1/salesOrder/{record['id']}",
                          {"otherRefNum": order.reference[:45],
                           "item": {"items": mapping.line_items(specs, self.config.line_tax_code)}},
                          params={"replace": "item"})
        return self._ref(str(record["id"]))

    def cancel_sales_order(self, sale: SalesOrderRef) -> SalesOrderRef:
        record = self._read(sale.id)
        code = mapping.status(record)
        if code in (mapping.CANCELLED, mapping.CLOSED):
            return mapping.sale_ref(record)
        path = f"record/v1/salesOrder/{record['id']}"
        if code == mapping.PENDING_APPROVAL:
            self.client.write("PATCH", path, {"orderStatus": {"id": mapping.CANCELLED}})
            state = mapping.CANCELLED
        else:  # approved: NetSuite cancels by closing the lines, which releases what they committed
            lines = [{"line": row["line"], "isClosed": True} for row in mapping.sublist(record)
                     if not row.get("isClosed") and row.get("line") is not None]
            self.client.write("PATCH", path, {"item": {"items": lines}})
            state = mapping.CLOSED
        logger.info("ERP sales order cancelled", extra={"sale_id": record["id"], "status": state})
        return mapping.sale_ref({**record, "orderStatus": {"id": state}})

    # -- stock -----------------------------------------------------------------------------------

    def stock_changes(self, since: str | None, warehouses: Sequence[str]) -> StockChanges:
        if since is None:
            levels = [level for page in self.iter_stock(warehouses, self.config.stock_page_size) for level in page]
            newest_page = self.client.suiteql(
                f"SELECT id, TO_CHAR(lastmodifieddate, '{mapping.STAMP_FORMAT}') AS modified FROM transaction "
                "ORDER BY lastmodifieddate DESC, id DESC", limit=1)
            rows = newest_page.get("items") or []
            newest = mapping.parse_stamp(rows[0]["modified"]) if rows else dt.datetime(1970, 1, 1)
            window = self._transactions_since(newest - self.overlap) if rows else []
            return StockChanges(levels=tuple(levels), watermark=self._watermark(newest, window))
        previous, seen = mapping.decode_watermark(since)
        transactions = self._transactions_since(previous - self.overlap)
        fresh = {str(row["id"]): mapping.parse_stamp(row["modified"]) for row in transactions
                 if mapping.transaction_key(row) not in seen}
        newest = max([previous, *(mapping.parse_stamp(row["modified"]) for row in transactions)])
        stamps: dict[str, dt.datetime] = {}
        for chunk in mapping.chunks(sorted(fresh, key=int)):
            query = (f"SELECT transaction, id, item FROM transactionline WHERE transaction IN "
                     f"{mapping.in_list(chunk, numeric=True)} ORDER BY transaction, id")
            for row in self.client.suiteql_rows(query):
                item = str(row.get("item") or "")
                if item:
                    moment = fresh[str(row["transaction"])]
                    stamps[item] = max(stamps.get(item, moment), moment)
        items = self._items("id IN {ids}", sorted(stamps, key=int)) if stamps else []
        levels = self._levels(items, warehouses, stamps)
        return StockChanges(levels=tuple(levels), watermark=self._watermark(newest, transactions))

    def iter_stock(self, warehouses: Sequence[str], page_size: int = 1000) -> Iterator[list[StockLevel]]:
        size = min(page_size, SUITEQL_PAGE)
        offset = 0
        while True:
            page = self.client.suiteql(f"SELECT id, itemid FROM item WHERE {self._stocked()} "
                                       "ORDER BY itemid, id", limit=size, offset=offset)
            items = [{k: v for k, v in row.items() if k != "links"} for row in page.get("items") or []]
            if items:
                yield self._levels(items, warehouses, {})
            if not page.get("hasMore") or not items:
                return
            offset += len(items)

    # -- internals: sales ------------------------------------------------------------------------

    def _line_specs(self, order: Order, products: dict[str, str]) -> list[LineSpec]:
        breakdown = bookable_breakdown(order, products)
        specs = []
        for piece in breakdown.pieces:  # one line per part of the total, so the order's total is the store's
            if piece.line is None:  # shipping, tax, tip, duty, adjustment, discount: one unit at its amount
                specs.append(LineSpec(self._part_service(piece.part), Decimal(1), piece.amount, piece.title))
                continue
            item = (products[piece.line.product_key or ""] if piece.part is TotalPart.ITEM
                    else self._part_service(piece.part))  # a fee or a gift card sold keeps qty and rate
            specs.append(LineSpec(item, piece.quantity, piece.unit_price, piece.title))
        return specs

    def _part_service(self, part: TotalPart) -> str:
        """The service item (by itemid) of a non-catalogue part of an order total."""
        if part is TotalPart.SHIPPING:
            return self._service(self.config.shipping_product)
        if part is TotalPart.FEE:
            return self._service(self.config.fee_product)
        return self._service(SERVICE_ITEMS[part])

    def _by_reference(self, reference: str) -> dict[str, Any] | None:
        return self.client.get(f"record/v1/salesOrder/eid:{mapping.external_id(reference)}")

    def _read(self, sale_id: str) -> dict[str, Any]:
        record = self.client.get(f"record/v1/salesOrder/{sale_id}", params=_EXPANDED)
        if record is None:
            raise PermanentError(f"sales order {sale_id} not found in NetSuite", reason="missing_sale",
                                 sale_id=sale_id)
        return record

    def _ref(self, sale_id: str) -> SalesOrderRef:
        return mapping.sale_ref(self._read(sale_id))

    def _ref_by_reference(self, reference: str) -> SalesOrderRef:
        record = self._by_reference(reference)
        if record is None:
            raise PermanentError("netsuite: the sales order create left no record", reason="vendor_error")
        return mapping.sale_ref(record)

    # -- internals: reference data ---------------------------------------------------------------

    def _service(self, code: str) -> str:
        if code not in self._services:
            self.resolve_products([])
            if code not in self._services:
                raise PermanentError(f"no NetSuite item with itemid {code}", reason="missing_service_product")
        return self._services[code]

    def _currency(self, code: str) -> str:
        """The currency record of an ISO code (`currency.symbol`); an order in a currency the account lacks parks."""
        if code not in self._currencies:
            page = self.client.suiteql(f"SELECT id, symbol FROM currency WHERE symbol = {mapping.literal(code)} "
                                       "ORDER BY id", limit=1)
            rows = page.get("items") or []
            if not rows:
                raise PermanentError(f"no NetSuite currency {code}", reason="unknown_currency")
            self._currencies[code] = str(rows[0]["id"])
        return self._currencies[code]

    def _location(self, code: str) -> str:
        if code not in self._locations:
            page = self.client.suiteql(f"SELECT id, name FROM location WHERE name = {mapping.literal(code)} "
                                       "ORDER BY id", limit=1)
            rows = page.get("items") or []
            if not rows:
                raise PermanentError(f"no NetSuite location named {code} and none configured for it",
                                     reason="unknown_warehouse")
            self._locations[code] = str(rows[0]["id"])
        return self._locations[code]

    # -- internals: stock ------------------------------------------------------------------------

    def _stocked(self) -> str:
        return f"itemtype IN {mapping.in_list(self.config.item_types)} AND isinactive = 'F'"

    def _items(self, condition: str, ids: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for chunk in mapping.chunks(ids):
            where = condition.format(ids=mapping.in_list(chunk, numeric=True))
            rows += self.client.suiteql_rows(f"SELECT id, itemid FROM item WHERE {where} AND {self._stocked()} "
                                             "ORDER BY itemid, id")
        return sorted(rows, key=lambda row: (str(row.get("itemid")), int(row["id"])))

    def _levels(self, items: list[dict[str, Any]], warehouses: Sequence[str],
                stamps: dict[str, dt.datetime]) -> list[StockLevel]:
        items = [row for row in items if row.get("itemid")]
        if not items:
            return []
        locations = {self._location(code): code for code in warehouses}
        totals: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
        for chunk in mapping.chunks([str(row["id"]) for row in items]):
            query = ("SELECT item, location, quantityonhand, quantitycommitted FROM inventoryitemlocations "
                     f"WHERE item IN {mapping.in_list(chunk, numeric=True)} AND location IN "
                     f"{mapping.in_list(sorted(locations, key=int), numeric=True)} ORDER BY item, location")
            for row in self.client.suiteql_rows(query):
                key = (locations[str(row["location"])], str(row["item"]))
                on_hand, committed = totals.get(key, (Decimal(0), Decimal(0)))
                totals[key] = (on_hand + Decimal(str(row.get("quantityonhand") or 0)),
                               committed + Decimal(str(row.get("quantitycommitted") or 0)))
        levels = []
        for item in items:
            for code in warehouses:
                on_hand, committed = totals.get((code, str(item["id"])), (Decimal(0), Decimal(0)))
                stamp = stamps.get(str(item["id"]))
                levels.append(StockLevel(sku=str(item["itemid"]), warehouse=code, on_hand=round(on_hand),
                                         reserved=max(0, round(committed)),
                                         updated_at=stamp.replace(tzinfo=dt.UTC) if stamp else None))
        return levels

    def _transactions_since(self, lower: dt.datetime) -> list[dict[str, Any]]:
        """Transactions modified at or after `lower`, oldest first, ordered by a unique key, every page."""
        query = (f"SELECT id, TO_CHAR(lastmodifieddate, '{mapping.STAMP_FORMAT}') AS modified FROM transaction "
                 f"WHERE lastmodifieddate >= TO_TIMESTAMP({mapping.literal(lower.strftime(mapping.STAMP))}, "
                 f"'{mapping.STAMP_FORMAT}') ORDER BY lastmodifieddate, id")
        return list(self.client.suiteql_rows(query))

    def _watermark(self, newest: dt.datetime, transactions: list[dict[str, Any]]) -> str:
        window = [mapping.transaction_key(row) for row in transactions
                  if mapping.parse_stamp(row["modified"]) > newest - self.overlap]
        return mapping.encode_watermark(newest, window)


def netsuite_erp_from_config(config: NetSuiteSettings, secret: dict, http_client: httpx.Client | None = None
                             ) -> NetSuiteErp:
    """A NetSuiteErp for the configured account; `secret` holds the keys of `config.auth`."""
    return NetSuiteErp(NetSuiteClient.connect(config, secret, http_client=http_client), config)
