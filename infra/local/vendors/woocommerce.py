"""WooCommerce locally: the REST v3 sandbox, seeded from the demo catalogue."""
from __future__ import annotations

import secrets

from infra.local.sandboxes import woocommerce
from infra.local.vendors import LocalVendor, LocalVendorContext, serve


def start(context: LocalVendorContext) -> LocalVendor:
    key = context.credential("consumer_key", lambda: "ck_" + secrets.token_hex(20))
    secret_key = context.credential("consumer_secret", lambda: "cs_" + secrets.token_hex(20))
    webhook_secret = context.credential("webhook_secret", lambda: secrets.token_hex(24))
    app = woocommerce.create_app(key, secret_key, context.catalog)
    server, port = serve(app, context.port)
    url = f"http://127.0.0.1:{port}"
    return LocalVendor(
        url=url, handle=app, stop=server.shutdown,
        secret=lambda connection: {"webhook_secret": webhook_secret, "consumer_key": key,
                                   "consumer_secret": secret_key},
        settings=lambda connection: {"api_url": url},
        info={"api_url": url + "/wp-json/wc/v3/", "consumer_key": key, "consumer_secret": secret_key,
              "webhook_secret": webhook_secret})
