"""Business Central as an ERP: customers, sales orders, items and stock over API v2.0 (OData), Entra tokens."""
from __future__ import annotations

from typing import TYPE_CHECKING

from synchub.connectors.business_central.settings import BusinessCentralSettings
from synchub.ports import CUSTOMER_ACCOUNTS, PRODUCT_LOOKUP, SALES_ORDERS, STOCK_SOURCE, ConnectionContext, VendorSpec

if TYPE_CHECKING:
    from synchub.connectors.business_central.erp import BusinessCentralErp


def _erp(context: ConnectionContext) -> BusinessCentralErp:
    from synchub.connectors.business_central.erp import business_central_erp_from_config

    return context.shared("erp", lambda: business_central_erp_from_config(context.settings, context.secret,
                                                                           http_client=context.http_client))


SPEC = VendorSpec(
    vendor="business_central",
    roles=("erp",),
    settings=BusinessCentralSettings,
    secret_fields=("client_id", "client_secret"),
    placeholder_secret_field="client_secret",
    provides=(CUSTOMER_ACCOUNTS.provided_by(_erp), SALES_ORDERS.provided_by(_erp),
              PRODUCT_LOOKUP.provided_by(_erp), STOCK_SOURCE.provided_by(_erp)),
    local_sandbox="infra.local.vendors.business_central:start",
    description="Microsoft Dynamics 365 Business Central ERP over API v2.0 (OData), Entra client credentials",
)
