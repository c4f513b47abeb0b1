"""Odoo as an ERP (17/18 over JSON-RPC, 19+ over JSON-2): customers, confirmed sale orders, products, stock."""
from __future__ import annotations

from typing import TYPE_CHECKING

from synchub.connectors.odoo.settings import OdooSettings
from synchub.ports import CUSTOMER_ACCOUNTS, PRODUCT_LOOKUP, SALES_ORDERS, STOCK_SOURCE, ConnectionContext, VendorSpec

if TYPE_CHECKING:
    from synchub.connectors.odoo.erp import OdooErp


def _erp(context: ConnectionContext) -> OdooErp:
    from synchub.connectors.odoo.erp import odoo_erp_from_config

    return context.shared("erp", lambda: odoo_erp_from_config(context.settings, context.secret,
                                                               http_client=context.http_client))


SPEC = VendorSpec(
    vendor="odoo",
    roles=("erp",),
    settings=OdooSettings,
    secret_fields=("api_key",),
    placeholder_secret_field="api_key",
    provides=(CUSTOMER_ACCOUNTS.provided_by(_erp), SALES_ORDERS.provided_by(_erp),
              PRODUCT_LOOKUP.provided_by(_erp), STOCK_SOURCE.provided_by(_erp)),
    local_sandbox="infra.local.vendors.odoo:start",
    description="Odoo ERP over JSON-2 (19+) or JSON-RPC execute_kw (17/18)",
)
