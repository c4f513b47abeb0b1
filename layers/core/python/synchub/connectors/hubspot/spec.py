"""HubSpot as a CRM: contacts upserted by e-mail and deals upserted by our order reference."""
from __future__ import annotations

from typing import TYPE_CHECKING

from synchub.connectors.hubspot.settings import HubSpotSettings
from synchub.ports import CONTACTS, DEALS, ConnectionContext, VendorSpec

if TYPE_CHECKING:
    from synchub.connectors.hubspot.crm import HubSpotCrm


def _crm(context: ConnectionContext) -> HubSpotCrm:
    from synchub.connectors.hubspot.crm import hubspot_crm_from_config

    return context.shared("crm", lambda: hubspot_crm_from_config(context.settings, context.secret,
                                                                  http_client=context.http_client))


SPEC = VendorSpec(
    vendor="hubspot",
    roles=("crm",),
    settings=HubSpotSettings,
    secret_fields=("access_token",),
    placeholder_secret_field="access_token",
    provides=(CONTACTS.provided_by(_crm), DEALS.provided_by(_crm)),
    local_sandbox="infra.local.vendors.hubspot:start",
    description="HubSpot CRM v3 objects and v4 associations (private app token)",
)
