"""What a warehouse worker does in Tryton to ship a customer shipment, over plain JSON-RPC (for the demo and
the tests): name the carrier and tracking number, ship all or part of the goods (assign, pick, pack, done)."""
from __future__ import annotations

from typing import Any

SHIPMENT = "stock.shipment.out"


def open_shipment(client: Any, sale_id: int) -> dict[str, Any]:
    sale, = client.model("sale.sale", "read", [sale_id], ["shipments"])
    rows = client.model(SHIPMENT, "read", sale["shipments"], ["state", "inventory_moves"])
    return next(row for row in sorted(rows, key=lambda r: r["id"]) if row["state"] not in ("done", "cancelled"))


def ship(client: Any, sale_id: int, *, carrier: str | None = "UPS", reference: str | None = None,
         quantities: dict[str, int] | None = None) -> int:
    """Ship the sale's open shipment; `quantities` (SKU -> units) ships only those, the rest stays to ship."""
    row = open_shipment(client, sale_id)
    shipment_id = row["id"]
    if row["state"] == "draft":
        client.model(SHIPMENT, "wait", [shipment_id])
        row = open_shipment(client, sale_id)
    if quantities is not None:
        moves = client.model("stock.move", "read", row["inventory_moves"], ["product.code", "quantity"])
        for move in moves:
            wanted = quantities.get(move["product."]["code"], 0)
            if wanted != move["quantity"]:
                client.model("stock.move", "write", [move["id"]], {"quantity": float(wanted)})
    values: dict[str, Any] = {}
    if carrier:
        values["carrier"], = client.model("carrier", "search", [("party.name", "=", carrier)], 0, 1, None)
    if reference:
        values["shipping_reference"] = reference
    if values:
        client.model(SHIPMENT, "write", [shipment_id], values)
    if not client.model(SHIPMENT, "assign_try", [shipment_id]):
        client.model(SHIPMENT, "assign_force", [shipment_id])
    client.model(SHIPMENT, "pick", [shipment_id])
    client.model(SHIPMENT, "pack", [shipment_id])
    client.model(SHIPMENT, "done", [shipment_id])
    return shipment_id


def set_tracking(client: Any, shipment_id: int, reference: str) -> None:
    client.model(SHIPMENT, "write", [shipment_id], {"shipping_reference": reference})
