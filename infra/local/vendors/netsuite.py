"""NetSuite locally: the SuiteTalk REST sandbox, seeded from the demo catalogue, answering to an OAuth 2.0 M2M
certificate (an EC P-256 key made once per checkout, ES256) or to TBA tokens, as the connection's `auth` says."""
from __future__ import annotations

import json
import secrets

from infra.local.sandboxes import netsuite
from infra.local.vendors import LocalVendor, LocalVendorContext, serve


def _key_pair() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return json.dumps({"private": private, "public": public})


def public_key_of(private_pem: str) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def start(context: LocalVendorContext) -> LocalVendor:
    settings = context.connections[0].settings
    keys = json.loads(context.credential("m2m_keys", _key_pair))
    m2m = {"client_id": context.credential("client_id", lambda: secrets.token_hex(32)),
           "certificate_id": context.credential("certificate_id", lambda: secrets.token_urlsafe(24)),
           "public_key": keys["public"]}
    tba = {name: context.credential(name, lambda: secrets.token_hex(32))
           for name in ("consumer_key", "consumer_secret", "token_id", "token_secret")}
    app = netsuite.create_app(settings.account_id, tba=tba, m2m=m2m, catalog=context.catalog)
    server, port = serve(app, context.port)
    url = f"http://127.0.0.1:{port}/services/rest"

    def secret(connection: object) -> dict[str, str]:
        if getattr(getattr(connection, "settings", None), "auth", "m2m") == "tba":
            return dict(tba)
        return {"client_id": m2m["client_id"], "certificate_id": m2m["certificate_id"], "private_key": keys["private"]}

    return LocalVendor(
        url=url, handle=app, stop=server.shutdown, secret=secret,
        settings=lambda connection: {"api_url": url, "jwt_algorithm": "ES256"},
        info={"kind": "netsuite", "url": url, "account_id": settings.account_id, "auth": settings.auth})
