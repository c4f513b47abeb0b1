"""Test credentials for the NetSuite sandbox: TBA tokens and an M2M certificate (an EC P-256 key made once per
test session, so no private key is kept in the repository)."""
from __future__ import annotations

from functools import cache

TBA = {"consumer_key": "ck-conformance-0123456789abcdef", "consumer_secret": "cs-conformance-0123456789abcdef",
       "token_id": "tk-conformance-0123456789abcdef", "token_secret": "ts-conformance-0123456789abcdef"}


@cache
def _pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def private_key() -> str:
    return _pair()[0]


CLIENT_ID, CERTIFICATE_ID = "m2m-client-0123456789abcdef", "cert-ZmFrZS1jZXJ0aWZpY2F0ZQ"


def m2m() -> dict[str, str]:
    """What the sandbox knows of the M2M mapping: client id, certificate id and the certificate's public key."""
    return {"client_id": CLIENT_ID, "certificate_id": CERTIFICATE_ID, "public_key": _pair()[1]}


def m2m_secret() -> dict[str, str]:
    """The connection secret of an M2M connection."""
    return {"client_id": CLIENT_ID, "certificate_id": CERTIFICATE_ID, "private_key": private_key()}
