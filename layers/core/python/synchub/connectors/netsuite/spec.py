"""NetSuite as an ERP over SuiteTalk REST (record service + SuiteQL): customers, sales orders, items, stock."""
from __future__ import annotations

from typing import TYPE_CHECKING

from synchub.connectors.netsuite.settings import NetSuiteSettings
from synchub.ports import CUSTOMER_ACCOUNTS, PRODUCT_LOOKUP, SALES_ORDERS, STOCK_SOURCE, ConnectionContext, VendorSpec

if TYPE_CHECKING:
    from synchub.connectors.netsuite.erp import NetSuiteErp


def _erp(context: ConnectionContext) -> NetSuiteErp:
    from synchub.connectors.netsuite.erp import netsuite_erp_from_config

    return context.shared("erp", lambda: netsuite_erp_from_config(context.settings, context.secret,
                                                                   http_client=context.http_client))


SPEC = VendorSpec(
    vendor="netsuite",
    roles=("erp",),
    settings=NetSuiteSettings,
    # OAuth 2.0 M2M (the default); a TBA connection's secret holds consumer_key, consumer_secret, token_id and
    # token_secret instead.
    secret_fields=("client_id", "certificate_id", "private_key"),
    placeholder_secret_field="private_key",
    provides=(CUSTOMER_ACCOUNTS.provided_by(_erp), SALES_ORDERS.provided_by(_erp),
              PRODUCT_LOOKUP.provided_by(_erp), STOCK_SOURCE.provided_by(_erp)),
    local_sandbox="infra.local.vendors.netsuite:start",
    description="Oracle NetSuite ERP over SuiteTalk REST web services and SuiteQL (OAuth 2.0 M2M or TBA)",
)
