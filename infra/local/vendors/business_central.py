"""Business Central locally: the API v2.0 sandbox (with Entra's token endpoint), seeded from the demo catalogue."""
from __future__ import annotations

import secrets

from infra.local.sandboxes import business_central
from infra.local.vendors import LocalVendor, LocalVendorContext, serve

CLIENT_ID = "3c1a9f5e-0b7d-4e52-9a61-5d2f8c4b7e10"  # the local app registration's (public) client id


def start(context: LocalVendorContext) -> LocalVendor:
    client_secret = context.credential("client_secret", lambda: secrets.token_urlsafe(30))
    settings = context.connections[0].settings
    app = business_central.create_app(CLIENT_ID, client_secret, tenant=settings.tenant,
                                      environment=settings.environment, catalog=context.catalog)
    server, port = serve(app, context.port)
    url = f"http://127.0.0.1:{port}"
    return LocalVendor(
        url=url, handle=app, stop=server.shutdown,
        secret=lambda connection: {"client_id": CLIENT_ID, "client_secret": client_secret},
        settings=lambda connection: {"api_url": url, "authority_url": url, "company_id": app.company_id},
        info={"kind": "business_central", "url": url, "tenant": settings.tenant, "environment": settings.environment,
              "company_id": app.company_id, "client_id": CLIENT_ID, "client_secret": client_secret})
