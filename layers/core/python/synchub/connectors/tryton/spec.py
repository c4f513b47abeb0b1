"""Tryton as an ERP: customers (parties), confirmed sales, product lookup, stock per warehouse and customer
shipments (done ones published with their tracking; store-side fulfilments closing open ones)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from synchub.connectors.tryton.settings import TrytonSettings
from synchub.ports import (
    CUSTOMER_ACCOUNTS,
    PRODUCT_LOOKUP,
    SALES_ORDERS,
    SHIPMENT_SINK,
    SHIPMENT_SOURCE,
    STOCK_SOURCE,
    ConnectionContext,
    VendorSpec,
)

if TYPE_CHECKING:
    from synchub.connectors.tryton.erp import TrytonErp
    from synchub.connectors.tryton.shipments import TrytonShipments


def _erp(context: ConnectionContext) -> TrytonErp:
    from synchub.connectors.tryton.erp import tryton_erp_from_config

    return context.shared("erp", lambda: tryton_erp_from_config(context.settings, context.secret,
                                                                 http_client=context.http_client))


def _shipments(context: ConnectionContext) -> TrytonShipments:
    from synchub.connectors.tryton.shipments import TrytonShipments

    return context.shared("shipments", lambda: TrytonShipments(_erp(context).client))


SPEC = VendorSpec(
    vendor="tryton",
    roles=("erp",),
    settings=TrytonSettings,
    secret_fields=("username", "password"),
    placeholder_secret_field="password",
    provides=(CUSTOMER_ACCOUNTS.provided_by(_erp), SALES_ORDERS.provided_by(_erp),
              PRODUCT_LOOKUP.provided_by(_erp), STOCK_SOURCE.provided_by(_erp),
              SHIPMENT_SOURCE.provided_by(_shipments), SHIPMENT_SINK.provided_by(_shipments)),
    local_sandbox="infra.local.vendors.tryton:start",
    description="Tryton ERP over JSON-RPC",
)
