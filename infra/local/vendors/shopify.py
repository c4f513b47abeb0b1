"""Shopify locally: the Admin GraphQL sandbox, seeded from the demo catalogue."""
from __future__ import annotations

import secrets

from infra.local.sandboxes import shopify
from infra.local.vendors import LocalVendor, LocalVendorContext, serve


def start(context: LocalVendorContext) -> LocalVendor:
    token = context.credential("access_token", lambda: "shpat_" + secrets.token_hex(16))
    webhook_secret = context.credential("webhook_secret", lambda: secrets.token_hex(24))
    domain = context.connections[0].settings.domain
    app = shopify.create_app(token, domain, catalog=context.catalog)
    server, port = serve(app, context.port)
    url = f"http://127.0.0.1:{port}"
    location = app.locations()[0]["id"]
    version = context.connections[0].settings.api_version
    return LocalVendor(
        url=url, handle=app, stop=server.shutdown,
        secret=lambda connection: {"webhook_secret": webhook_secret, "access_token": token},
        settings=lambda connection: {"api_url": url, "locations": {"WH": location}},
        info={"graphql_url": f"{url}/admin/api/{version}/graphql.json", "access_token": token,
              "webhook_secret": webhook_secret})
