"""HubSpot locally: the CRM sandbox (objects, search, associations, rate limits, fault injection)."""
from __future__ import annotations

import secrets

from infra.local.sandboxes import hubspot
from infra.local.vendors import LocalVendor, LocalVendorContext, serve


def start(context: LocalVendorContext) -> LocalVendor:
    token = context.credential("token", lambda: "pat-local-" + secrets.token_hex(16))
    app = hubspot.create_app(token)
    server, port = serve(app, context.port)
    url = f"http://127.0.0.1:{port}"
    return LocalVendor(url=url, handle=app, stop=server.shutdown,
                       secret=lambda connection: {"access_token": token},
                       settings=lambda connection: {"api_url": url},
                       info={"api_url": url, "access_token": token})
