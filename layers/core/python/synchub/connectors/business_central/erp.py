"""BusinessCentralErp: the ERP ports over Business Central API v2.0 (customers, sales orders, items, stock).

- Customers: no external id and no upsert in API v2.0, so SyncHub gives each customer a No. derived from our
  reference (mapping.customer_number), finds it by `$filter=number eq '...'`, then POSTs or PATCHes with If-Match.
- Sales orders: found by `externalDocumentNumber eq '<store reference>'` before any create (crash-safe), created
  in one deep insert with their lines. The store is the tax calculator: a line per part of the store's total
  (items, SHIPPING, FEE, TAX, TIP, DUTY, GIFT_CARD, ADJUSTMENT, DISCOUNT, as for Tryton) on service items or on
  G/L accounts (settings.accounts), each line with the zero-rate `tax_code`, so BC's total is the store's.
- Release: API v2.0 has no release action (the only bound action, shipAndInvoice, posts shipment and invoice),
  so orders stay editable (API status "Draft" = BC's Open) until someone or a BC job queue releases them.
  Until released, lines are rewritten on update (one transactional `$batch`); a released order whose lines
  differ parks as `order_edited_after_confirmation`.
- Cancel: BC has no cancelled state. An open order is deleted (with Sales & Receivables "Archive Orders" on, BC
  keeps it under Sales Order Archives); a released or partly shipped one parks as `cannot_cancel_released`.
- Stock: items' `inventory` is one total over all locations and API v2.0 has no stock per location; changes are
  found by item ledger entry number (monotonic), never by the item's lastModifiedDateTime (posting stock does
  not modify the item). Per-location stock needs a custom API page (settings.location_stock_api); without one a
  connection serves exactly one warehouse and refuses more (`stock_per_location_unsupported`). API v2.0 has no
  reserved quantity: open sales orders do not lower `inventory`, so `reserved` is 0.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import httpx
from aws_lambda_powertools import Logger

from synchub.connectors.business_central import mapping
from synchub.connectors.business_central.client import BusinessCentralClient, EntityChanged, odata_string
from synchub.connectors.business_central.mapping import LineSpec
from synchub.connectors.business_central.settings import AUTHORITY_HOST, BusinessCentralSettings
from synchub.connectors.order_booking import bookable_breakdown
from synchub.errors import PermanentError, VendorRejected
from synchub.models import Customer, Order, StockLevel, TotalPart
from synchub.ports import SalesOrderRef, StockChanges

logger = Logger(service="synchub")

_FILTER_CHUNK = 20  # values per `or` filter: keeps the URL well under BC's limits
_SEARCH_STILL_FRESH = 30.0  # seconds a "no order for this reference" answer spares create's search
_CONFLICT_ATTEMPTS = 3  # re-read and retry after 412 Request_EntityChanged
WATERMARK_PREFIX = "ile:"  # stock watermark: the last item ledger entry number seen


class BusinessCentralErp:
    def __init__(self, client: BusinessCentralClient, config: BusinessCentralSettings) -> None:
        self.client = client
        self.config = config
        self._services: dict[str, tuple[str, str]] = {}
        self._just_absent: tuple[str, float] | None = None

    # -- customers -------------------------------------------------------------------------------

    def upsert_customer(self, customer: Customer, *, reference: str) -> str:
        number = mapping.customer_number(reference)
        wanted = mapping.customer_body(customer)
        for _ in range(_CONFLICT_ATTEMPTS):
            rows = self.client.get("customers", {"$filter": f"number eq {odata_string(number)}"}).get("value") or []
            if not rows:
                try:
                    created = self.client.post("customers", {"number": number, **wanted})
                except VendorRejected as exc:
                    if exc.category == "Internal_EntityWithSameKeyExists":  # a concurrent create won: use it
                        continue
                    raise
                logger.info("ERP customer created", extra={"customer_id": created["id"]})
                return str(created["id"])
            row = rows[0]
            changes = mapping.customer_changes(row, wanted)
            if not changes:
                return str(row["id"])
            try:
                self.client.patch(f"customers({row['id']})", changes, row["@odata.etag"])
            except EntityChanged:
                continue
            return str(row["id"])
        raise EntityChanged(f"customer {number} kept changing while SyncHub updated it")

    # -- products --------------------------------------------------------------------------------

    def resolve_products(self, skus: Sequence[str]) -> dict[str, str]:
        wanted = sorted({sku for sku in skus if sku})
        return {sku: row["id"] for sku, row in self._items(wanted).items()}

    def _items(self, values: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Items whose product field equals one of `values` (BC upper-cases No.: matched case-insensitively)."""
        field = self.config.product_field
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(values), _FILTER_CHUNK):
            chunk = values[start:start + _FILTER_CHUNK]
            rows = self.client.rows("items", {"$filter": mapping.number_filter(field, chunk),
                                              "$select": "id,number,gtin,type,inventory"})
            by_key = {str(row.get(field) or "").upper(): row for row in rows}
            for value in chunk:
                if value.upper() in by_key:
                    found[value] = by_key[value.upper()]
        return found

    # -- sales orders ----------------------------------------------------------------------------

    def find_sales_order(self, reference: str) -> SalesOrderRef | None:
        row = self._find_row(reference)
        self._just_absent = None if row else (reference, time.monotonic())
        return mapping.sale_ref(row) if row else None

    def create_sales_order(self, order: Order, *, customer_id: str, products: dict[str, str]) -> SalesOrderRef:
        reference = order.store_reference
        absent = (self._just_absent is not None and self._just_absent[0] == reference
                  and time.monotonic() - self._just_absent[1] < _SEARCH_STILL_FRESH)
        self._just_absent = None
        existing = None if absent else self._find_row(reference)
        if existing is not None:  # created by an earlier attempt that died before linking it
            return mapping.sale_ref(existing)
        if len(reference) > mapping.EXTERNAL_DOCUMENT_MAX:
            raise PermanentError(f"reference {reference!r} is longer than BC's External Document No. (35)",
                                 reason="reference_too_long")
        specs = self._line_specs(order, products)
        body: dict[str, Any] = {
            "externalDocumentNumber": reference, "customerId": customer_id,
            "orderDate": order.created_at.date().isoformat(), "currencyCode": order.currency,
            **mapping.ship_to(order),
            "salesOrderLines": [mapping.line_body(spec, self.config.tax_code) for spec in specs],
        }
        try:
            created = self.client.post("salesOrders", body)
        except VendorRejected as exc:
            raise self._order_rejection(exc, order) from None
        logger.info("ERP sales order created", extra={"sales_order_id": created.get("id"), "reference": reference})
        return mapping.sale_ref(created)

    def update_sales_order(self, sale: SalesOrderRef, order: Order, *, products: dict[str, str]) -> SalesOrderRef:
        specs = self._line_specs(order, products)
        for _ in range(_CONFLICT_ATTEMPTS):
            row = self._read_order(sale.id, lines=True)
            if row is None:  # deleted in BC: cancelled there
                return mapping.cancelled_ref(sale)
            lines = row.get("salesOrderLines") or []
            if mapping.same_lines(specs, lines):
                return mapping.sale_ref(row)
            if row.get("status") != mapping.EDITABLE:
                raise PermanentError(f"sales order {row.get('number')} is {row.get('status')} in BC: its lines are not "
                                     "rewritten", reason="order_edited_after_confirmation", sale_id=sale.id)
            path = f"salesOrders({sale.id})/salesOrderLines"
            operations: list[tuple[str, str, dict[str, Any] | None, str | None]] = [
                ("DELETE", f"salesOrderLines({line['id']})", None, line.get("@odata.etag") or "*") for line in lines]
            operations += [("POST", path, mapping.line_body(spec, self.config.tax_code), None) for spec in specs]
            try:
                self.client.batch(operations)
            except EntityChanged:
                continue
            fresh = self._read_order(sale.id)
            return mapping.sale_ref(fresh) if fresh else mapping.cancelled_ref(sale)
        raise EntityChanged(f"sales order {sale.number or sale.id} kept changing while SyncHub updated it")

    def cancel_sales_order(self, sale: SalesOrderRef) -> SalesOrderRef:
        for _ in range(_CONFLICT_ATTEMPTS):
            row = self._read_order(sale.id)
            if row is None:
                return mapping.cancelled_ref(sale)
            if row.get("status") != mapping.EDITABLE:
                raise PermanentError(f"sales order {row.get('number')} is {row.get('status')} (released) in BC: reopen "
                                     "it there to cancel", reason="cannot_cancel_released", sale_id=sale.id)
            try:
                self.client.delete(f"salesOrders({sale.id})", row["@odata.etag"])
            except EntityChanged:
                continue
            except VendorRejected as exc:
                if exc.status == 404:
                    return mapping.cancelled_ref(sale)
                raise PermanentError(f"BC refused to delete sales order {row.get('number')}: {exc}",
                                     reason="cannot_cancel_released", sale_id=sale.id) from None
            logger.info("ERP sales order deleted (cancelled)", extra={"sales_order_id": sale.id})
            return mapping.cancelled_ref(mapping.sale_ref(row))
        raise EntityChanged(f"sales order {sale.number or sale.id} kept changing while SyncHub cancelled it")

    # -- stock -----------------------------------------------------------------------------------

    def stock_changes(self, since: str | None, warehouses: Sequence[str]) -> StockChanges:
        self._check_locations(warehouses)
        if since is None:
            newest = self.client.get("itemLedgerEntries", {"$orderby": "entryNumber desc", "$top": "1",
                                                           "$select": "entryNumber"}).get("value") or []
            levels = [level for page in self.iter_stock(warehouses, self.config.stock_page_size) for level in page]
            mark = int(newest[0]["entryNumber"]) if newest else 0
            return StockChanges(levels=tuple(levels), watermark=f"{WATERMARK_PREFIX}{mark}")
        if not since.startswith(WATERMARK_PREFIX):
            raise ValueError(f"not a Business Central stock watermark: {since[:40]!r}")
        last = int(since[len(WATERMARK_PREFIX):])
        entries = self.client.rows("itemLedgerEntries", {"$filter": f"entryNumber gt {last}", "$orderby": "entryNumber",
                                                         "$select": "entryNumber,itemNumber"})
        mark = max([last, *(int(entry["entryNumber"]) for entry in entries)])
        numbers = sorted({str(entry["itemNumber"]) for entry in entries if entry.get("itemNumber")})
        items: list[dict[str, Any]] = []
        for start in range(0, len(numbers), _FILTER_CHUNK):
            chunk = numbers[start:start + _FILTER_CHUNK]
            items += self.client.rows("items", {"$filter": mapping.number_filter("number", chunk),
                                                "$select": "id,number,gtin,type,inventory"})
        field = self.config.product_field
        items = sorted((item for item in items if item.get(field) and item.get("type") == "Inventory"),
                       key=lambda item: str(item[field]))
        return StockChanges(levels=tuple(self._levels(items, warehouses)), watermark=f"{WATERMARK_PREFIX}{mark}")

    def iter_stock(self, warehouses: Sequence[str], page_size: int = 1000) -> Iterator[list[StockLevel]]:
        self._check_locations(warehouses)
        field = self.config.product_field
        params = {"$filter": "type eq 'Inventory'", "$orderby": f"{field},number",
                  "$select": "id,number,gtin,type,inventory"}
        for page in self.client.pages("items", params, page_size=page_size):
            rows = [row for row in page if row.get(field)]
            if rows:
                yield self._levels(rows, warehouses)

    # -- internals -------------------------------------------------------------------------------

    def _check_locations(self, warehouses: Sequence[str]) -> None:
        if self.config.location_stock_api is None and len(warehouses) > 1:
            raise PermanentError("Business Central's API v2.0 has no stock per location: configure "
                                 "location_stock_api (a custom API page) to serve more than one warehouse",
                                 reason="stock_per_location_unsupported", warehouses=list(warehouses))

    def _levels(self, items: list[dict[str, Any]], warehouses: Sequence[str]) -> list[StockLevel]:
        field = self.config.product_field
        api = self.config.location_stock_api
        per_location: dict[tuple[str, str], Decimal] = {}
        if api is not None:
            numbers = [str(item["number"]) for item in items]
            for start in range(0, len(numbers), _FILTER_CHUNK):
                item_filter = mapping.number_filter(api.item_field, numbers[start:start + _FILTER_CHUNK])
                location_filter = mapping.number_filter(api.location_field, warehouses)
                for row in self.client.rows(api.entity_set, {"$filter": f"({item_filter}) and ({location_filter})"},
                                            api=api.path):
                    key = (str(row[api.item_field]).upper(), str(row[api.location_field]))
                    per_location[key] = per_location.get(key, Decimal(0)) + Decimal(str(row[api.quantity_field]))
        levels = []
        for item in items:
            for code in warehouses:
                if api is None:
                    on_hand = Decimal(str(item.get("inventory") or 0))
                else:
                    on_hand = per_location.get((str(item["number"]).upper(), code), Decimal(0))
                levels.append(StockLevel(sku=str(item[field]), warehouse=code, on_hand=round(on_hand), reserved=0))
        return levels

    def _line_specs(self, order: Order, products: dict[str, str]) -> list[LineSpec]:
        breakdown = bookable_breakdown(order, products)
        self._prefetch_services({piece.part for piece in breakdown.pieces} | {TotalPart.ADJUSTMENT})
        return mapping.sale_line_specs(breakdown, products, self._part_line)

    def _code(self, part: TotalPart) -> str:
        if part is TotalPart.SHIPPING:
            return self.config.shipping_product
        if part is TotalPart.FEE:
            return self.config.fee_product
        return mapping.SERVICE_CODES[part]

    def _prefetch_services(self, parts: set[TotalPart]) -> None:
        """Resolve every service item an order needs in one call (then cached for the connection's life)."""
        codes = sorted({self._code(part) for part in parts if part is not TotalPart.ITEM}
                       - self._services.keys() - self.config.accounts.keys())
        if codes:
            for code, row in self._items(codes).items():
                self._services[code] = ("Item", str(row["id"]))

    def _part_line(self, part: TotalPart) -> tuple[str, str]:
        code = self._code(part)
        if code in self.config.accounts:
            return "Account", self.config.accounts[code]
        if code not in self._services:
            self._prefetch_services({part})
            if code not in self._services:
                raise PermanentError(f"no Business Central item {code} and no G/L account configured for it",
                                     reason="missing_service_product")
        return self._services[code]

    def _order_rejection(self, exc: VendorRejected, order: Order) -> Exception:
        if exc.category == "Internal_InvalidTableRelation" and "Currency" in str(exc):
            return PermanentError(f"currency {order.currency} is not set up in Business Central",
                                  reason="unknown_currency")
        return exc

    def _find_row(self, reference: str) -> dict[str, Any] | None:
        if len(reference) > mapping.EXTERNAL_DOCUMENT_MAX:
            return None  # no BC order can carry it (create refuses it with a reason)
        rows = self.client.get("salesOrders", {"$filter": f"externalDocumentNumber eq {odata_string(reference)}",
                                               "$select": mapping.ORDER_FIELDS}).get("value") or []
        return min(rows, key=lambda row: str(row.get("number") or "")) if rows else None

    def _read_order(self, order_id: str, *, lines: bool = False) -> dict[str, Any] | None:
        params = {"$select": mapping.ORDER_FIELDS}
        if lines:
            params["$expand"] = f"salesOrderLines($select={mapping.LINE_FIELDS})"
        return self.client.get_or_none(f"salesOrders({order_id})", params)


def business_central_erp_from_config(config: BusinessCentralSettings, secret: dict,
                                     http_client: httpx.Client | None = None) -> BusinessCentralErp:
    """A BusinessCentralErp for the configured company; `secret` holds `client_id` and `client_secret`."""
    from synchub.connectors.business_central.settings import API_HOST

    client = BusinessCentralClient.connect(
        api_url=config.api_url or API_HOST, authority_url=config.authority_url or AUTHORITY_HOST,
        tenant=config.tenant, environment=config.environment, company_id=config.company_id,
        client_id=secret["client_id"], client_secret=secret["client_secret"], http_client=http_client,
        max_page_size=config.max_page_size)
    return BusinessCentralErp(client, config)
