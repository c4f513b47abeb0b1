"""Odoo locally: the external API sandbox (JSON-2 and JSON-RPC), seeded from the demo catalogue."""
from __future__ import annotations

import secrets

from infra.local.sandboxes import odoo
from infra.local.vendors import LocalVendor, LocalVendorContext, serve


def start(context: LocalVendorContext) -> LocalVendor:
    api_key = context.credential("api_key", lambda: secrets.token_hex(20))  # Odoo's keys: 160 random bits
    settings = context.connections[0].settings
    login = settings.login or "admin"
    # JSON-2 came with Odoo 19; a "jsonrpc" connection gets the 17 series, which has only /jsonrpc.
    app = odoo.create_app(api_key, database=settings.database, login=login,
                          version=19 if settings.api == "json2" else 17, catalog=context.catalog)
    server, port = serve(app, context.port)
    url = f"http://127.0.0.1:{port}"
    return LocalVendor(
        url=url, handle=app, stop=server.shutdown,
        secret=lambda connection: {"api_key": api_key},
        settings=lambda connection: {"url": url, "login": login},
        info={"kind": "odoo", "url": url, "database": settings.database, "api": settings.api, "login": login,
              "api_key": api_key})
