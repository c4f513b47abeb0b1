"""Settings of an Odoo connection: server, database, API flavour, and where stock and SKUs live."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from synchub.ports.kit import ErpSettings


class OdooSettings(ErpSettings):
    url: str  # the Odoo server, e.g. https://mycompany.odoo.com
    database: str
    # "json2": Odoo 19+ (`POST /json/2/<model>/<method>`, bearer API key);
    # "jsonrpc": Odoo 17/18 (`POST /jsonrpc`, `object.execute_kw` with the API key in the password slot).
    api: Literal["json2", "jsonrpc"] = "json2"
    login: str | None = None  # the API user's login; `common.authenticate` needs it for "jsonrpc"
    # Our warehouse code -> the stock.location id whose stock (children included) reaches the stores.
    # A code left out is looked up as stock.warehouse `code` -> its `lot_stock_id`.
    locations: dict[str, int] = Field(default_factory=dict)
    product_field: str = "default_code"  # the product.product field holding the SKU
    # sale.order.line's tax field: `tax_ids` from Odoo 19, `tax_id` before. None: chosen by `api`.
    line_tax_field: str | None = None

    @property
    def tax_field(self) -> str:
        return self.line_tax_field or ("tax_ids" if self.api == "json2" else "tax_id")
