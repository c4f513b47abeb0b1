"""Tryton customer shipments (`stock.shipment.out`) as the ERP's shipment source and sink.

Carrier and tracking come from the modules `stock_shipment_cost` (the shipment's `carrier`) and
`stock_package_shipping` (`shipping_reference` on the shipment, and `shipping_reference` with
`shipping_tracking_url` on each of its packages: one parcel each; in 7.0 only packages have a tracking URL,
filled by carrier modules such as `stock_package_shipping_ups`). The order is the sale behind the shipment's
outgoing moves (`origin` = `sale.line,<id>`), whose `reference` is our store order reference. Lines an order
edit added after processing live on complementary sales `<store reference>/<n>` (amendments.py): their
shipments belong to the same store order, both ways.

Source: shipments done since a watermark, read like the stock poll (write/create stamps with an overlap
window, the keys seen in the window carried in the watermark). Sink: a store-side fulfilment ships the
sale's open shipments (assign, pick, pack, done) with the store's tracking; a shipment already done is
never touched again, so repeating it is a no-op.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger

from synchub.connectors.tryton import amendments, mapping
from synchub.connectors.tryton.client import TrytonClient
from synchub.errors import PermanentError, TransientError
from synchub.models import Shipment, ShippedLine, StoreFulfillment, Tracking
from synchub.ports import ShipmentChanges

logger = Logger(service="synchub")

SHIPMENT = "stock.shipment.out"
SHIPMENT_FIELDS = ["number", "state", "create_date", "write_date", "effective_date", "carrier",
                   "shipping_reference", "outgoing_moves", "packages"]
_CLOSED = ("done", "cancelled")


class TrytonShipments:
    def __init__(self, client: TrytonClient, *, overlap: dt.timedelta = dt.timedelta(seconds=10),
                 initial_lookback: dt.timedelta = dt.timedelta(days=1)) -> None:
        self.client = client
        # Tryton stamps a write with its transaction's start: re-read a window so a late commit is not missed.
        self.overlap = overlap
        # The first poll (no watermark) reaches back this far, not through the ERP's whole history.
        self.initial_lookback = initial_lookback
        self._carriers: dict[int, str] = {}

    # -- source ----------------------------------------------------------------------------------

    def shipments_since(self, since: str | None) -> ShipmentChanges:
        if since is None:
            previous, seen = self._now() - self.initial_lookback, frozenset[str]()
        else:
            previous, seen = mapping.decode_watermark(since)
        lower = previous - self.overlap
        rows = self._done_since(lower)
        fresh = [row for row in rows if mapping.move_key(row) not in seen]
        newest = max([previous, *(mapping.move_stamp(row) for row in rows)])
        shipments = [shipment for row in sorted(fresh, key=mapping.move_stamp) for shipment in self._shipments(row)]
        window = [mapping.move_key(row) for row in rows if mapping.move_stamp(row) > newest - self.overlap]
        return ShipmentChanges(shipments=tuple(shipments), watermark=mapping.encode_watermark(newest, window))

    def _now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)  # Tryton keeps naive UTC

    def _done_since(self, lower: dt.datetime) -> list[dict[str, Any]]:
        domain = [("state", "=", "done"), ["OR", ("create_date", ">=", lower), ("write_date", ">=", lower)]]
        rows: list[dict[str, Any]] = []
        page = 200
        while True:
            batch = self.client.model(SHIPMENT, "search_read", domain, len(rows), page, [("id", "ASC")],
                                      SHIPMENT_FIELDS)
            rows.extend(batch)
            if len(batch) < page:
                return rows

    def _shipments(self, row: dict[str, Any]) -> list[Shipment]:
        """One Shipment per sale the shipment serves (Tryton may group several sales' moves)."""
        moves = self.client.model("stock.move", "read", row["outgoing_moves"],
                                  ["product", "quantity", "origin", "state"]) if row["outgoing_moves"] else []
        moves = [move for move in moves if move["state"] == "done" and move["quantity"]]
        origins = [int(move["origin"].split(",")[1]) for move in moves
                   if isinstance(move.get("origin"), str) and move["origin"].startswith("sale.line,")]
        if not origins:
            return []  # a shipment with no sale behind it: not a store order
        sale_of_line = {line["id"]: line["sale"] for line in self.client.model("sale.line", "read", origins, ["sale"])}
        sales = {sale["id"]: sale for sale in self.client.model(
            "sale.sale", "read", sorted(set(sale_of_line.values())), ["reference", "shipment_state"])}
        codes = {product["id"]: product["code"] for product in self.client.model(
            "product.product", "read", sorted({move["product"] for move in moves}), ["code"])}
        # Per store order: a complementary sale's lines count with its main sale's.
        quantities: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        sales_of: dict[str, list[int]] = defaultdict(list)
        for move in moves:
            origin = move.get("origin") or ""
            if not origin.startswith("sale.line,") or not codes.get(move["product"]):
                continue
            sale = sale_of_line[int(origin.split(",")[1])]
            reference = amendments.order_reference(sales[sale].get("reference") or "")
            quantities[reference][codes[move["product"]]] += Decimal(str(move["quantity"]))
            if sale not in sales_of[reference]:
                sales_of[reference].append(sale)
        tracking = self._tracking(row)
        carrier = self._carrier(row["carrier"]) if row.get("carrier") else None
        shipped_at = mapping.as_utc(mapping.move_stamp(row))
        assert shipped_at is not None
        result = []
        for reference, lines in sorted(quantities.items(), key=lambda item: min(sales_of[item[0]])):
            if ":" not in reference:
                continue  # a sale entered in the ERP, not a store order
            source_id = str(row["id"]) if len(quantities) == 1 else f"{row['id']}-{min(sales_of[reference])}"
            result.append(Shipment(
                source_id=source_id, number=row.get("number"), order_reference=reference, carrier=carrier,
                tracking=tracking, shipped_at=shipped_at,
                lines=tuple(ShippedLine(sku=sku, quantity=int(qty)) for sku, qty in sorted(lines.items()) if qty),
                complete=all(sales[sale].get("shipment_state") == "sent" for sale in sales_of[reference])))
        return result

    def _tracking(self, row: dict[str, Any]) -> tuple[Tracking, ...]:
        parcels = []
        if row.get("packages"):
            for package in self.client.model("stock.package", "read", row["packages"],
                                             ["shipping_reference", "shipping_tracking_url"]):
                if package.get("shipping_reference"):
                    parcels.append(Tracking(number=package["shipping_reference"],
                                            url=package.get("shipping_tracking_url") or None))
        if row.get("shipping_reference") and row["shipping_reference"] not in {p.number for p in parcels}:
            parcels.insert(0, Tracking(number=row["shipping_reference"]))
        return tuple(parcels)

    def _carrier(self, carrier_id: int) -> str:
        """The carrier's company name (what a store calls the tracking company, e.g. "UPS")."""
        if carrier_id not in self._carriers:
            carrier, = self.client.model("carrier", "read", [carrier_id], ["party", "rec_name"])
            party, = self.client.model("party.party", "read", [carrier["party"]], ["name"])
            self._carriers[carrier_id] = party["name"] or carrier["rec_name"]
        return self._carriers[carrier_id]

    # -- sink ------------------------------------------------------------------------------------

    def close_shipments(self, fulfillment: StoreFulfillment) -> list[str]:
        sales = self.client.model("sale.sale", "search_read", [("reference", "=", fulfillment.order_reference)],
                                  0, 1, [("id", "ASC")], ["shipments", "state"])
        if not sales:  # the order may still be on its way to the ERP: retried, then parked
            raise TransientError(f"no ERP sale for {fulfillment.order_reference} yet", reason="sale_not_found",
                                 retry_after=30)
        # The order's complementary sales (lines an edit added after processing) ship with it.
        extra = amendments.complement_rows(self.client, fulfillment.order_reference, ["shipments", "state"])
        shipment_ids = sorted({shipment for sale in (sales[0], *extra) for shipment in sale["shipments"]})
        rows = self.client.model(SHIPMENT, "read", shipment_ids, ["state", "inventory_moves", "outgoing_moves",
                                                                   "warehouse_storage", "warehouse_output"]) \
            if shipment_ids else []
        open_rows = [row for row in sorted(rows, key=lambda r: r["id"]) if row["state"] not in _CLOSED]
        if not open_rows:
            return []
        wanted = self._wanted(fulfillment)
        carrier = self._carrier_id(fulfillment.carrier)
        closed = []
        for row in open_rows:
            if wanted is not None and not any(wanted.values()):
                break
            self._ship(row, wanted, carrier, fulfillment.tracking)
            closed.append(str(row["id"]))
        logger.info("ERP shipments closed from the store", extra={"shipments": closed})
        return closed

    def _wanted(self, fulfillment: StoreFulfillment) -> dict[int, Decimal] | None:
        """ERP product id -> quantity the store shipped; None: the whole order."""
        if not fulfillment.lines:
            return None
        skus = sorted({line.sku for line in fulfillment.lines})
        products = {row["code"]: row["id"] for row in self.client.model(
            "product.product", "search_read", [("code", "in", skus)], 0, None, [("id", "ASC")], ["code"])}
        unknown = [sku for sku in skus if sku not in products]
        if unknown:
            raise PermanentError(f"fulfilled SKUs unknown to the ERP: {', '.join(unknown)}", reason="unknown_sku")
        wanted: dict[int, Decimal] = defaultdict(Decimal)
        for line in fulfillment.lines:
            wanted[products[line.sku]] += line.quantity
        return wanted

    def _carrier_id(self, name: str | None) -> int | None:
        if not name:
            return None
        found = self.client.model("carrier", "search", [("party.name", "ilike", name)], 0, 1, [("id", "ASC")])
        return found[0] if found else None

    def _ship(self, row: dict[str, Any], wanted: dict[int, Decimal] | None, carrier: int | None,
              tracking: tuple[Tracking, ...]) -> None:
        shipment_id, state = row["id"], row["state"]
        if state == "draft":
            self.client.model(SHIPMENT, "wait", [shipment_id])
            row = self.client.model(SHIPMENT, "read", [shipment_id], ["state", "inventory_moves", "outgoing_moves",
                                                                      "warehouse_storage", "warehouse_output"])[0]
            state = row["state"]
        two_step = row["warehouse_storage"] != row["warehouse_output"]
        if wanted is not None and state in ("waiting", "assigned") and two_step:
            self._limit(row["inventory_moves"], wanted)
        values: dict[str, Any] = {}
        if carrier is not None:
            values["carrier"] = carrier
        if tracking:
            values["shipping_reference"] = tracking[0].number
        if values:
            self.client.model(SHIPMENT, "write", [shipment_id], values)
        if state == "waiting" and two_step:
            if not self.client.model(SHIPMENT, "assign_try", [shipment_id]):
                self.client.model(SHIPMENT, "assign_force", [shipment_id])  # the goods already left (3PL)
            state = "assigned"
        if state == "assigned":
            self.client.model(SHIPMENT, "pick", [shipment_id])
            state = "picked"
        if state in ("picked", "waiting"):
            self._skip_carrier_warning(shipment_id)
            self.client.model(SHIPMENT, "pack", [shipment_id])
        self.client.model(SHIPMENT, "done", [shipment_id])

    def _limit(self, move_ids: list[int], wanted: dict[int, Decimal]) -> None:
        """Ship only what the store fulfilled: inventory moves cut to the quantities left to ship. Packing
        then shortens the outgoing moves, and the sale creates a new shipment for the rest."""
        moves = self.client.model("stock.move", "read", move_ids, ["product", "quantity"])
        for move in sorted(moves, key=lambda m: m["id"]):
            quantity = Decimal(str(move["quantity"]))
            take = min(quantity, wanted.get(move["product"], Decimal(0)))
            wanted[move["product"]] = wanted.get(move["product"], Decimal(0)) - take
            if take != quantity:
                self.client.model("stock.move", "write", [move["id"]], {"quantity": float(take)})

    def _skip_carrier_warning(self, shipment_id: int) -> None:
        """Packing a shipment with no carrier asks the user to confirm (stock_package_shipping's warning);
        answer it as the Tryton client would, once for this shipment."""
        users = self.client.model("res.user", "search", [("login", "=", self.client.username)], 0, 1, None)
        name = f"shipment_out_no_carrier_{SHIPMENT},{shipment_id}"
        if users:
            self.client.model("res.user.warning", "create", [{"user": users[0], "name": name, "always": False}])
