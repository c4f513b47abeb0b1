"""NetSuite request authentication: Token-Based Authentication (OAuth 1.0a, HMAC-SHA256, signed by oauthlib) and
OAuth 2.0 machine-to-machine (client credentials with a certificate-signed JWT assertion, signed by PyJWT).

Both give `authorization(method, url)`: the header value for one request. TBA signs each request (method, full
URL with its query, a nonce and a timestamp, realm = account id); M2M asks the token endpoint for a one-hour
access token with a fresh assertion (NetSuite gives no refresh token) and reuses it until shortly before expiry.
No secret ever reaches a log line or an error message.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from synchub.errors import PermanentError, TransientError

VENDOR = "netsuite"
CREDENTIALS = "erp_credentials_invalid"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_EARLY = 120.0  # seconds before expiry a token is renewed, so no request carries one that dies in flight


class CredentialsRefused(PermanentError):
    """NetSuite refused the credentials (INVALID_LOGIN, a revoked token, an unknown certificate)."""

    reason = CREDENTIALS


class Authenticator(Protocol):
    def authorization(self, method: str, url: str) -> str: ...

    def invalidate(self) -> None:
        """Forget any cached token (NetSuite answered 401 to it)."""
        ...


class TokenBasedAuth:
    """OAuth 1.0a with HMAC-SHA256, as NetSuite's TBA requires (HMAC-SHA1 is refused)."""

    def __init__(self, *, realm: str, consumer_key: str, consumer_secret: str, token_id: str,
                 token_secret: str) -> None:
        from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

        self._client = Client(consumer_key, client_secret=consumer_secret, resource_owner_key=token_id,
                              resource_owner_secret=token_secret, signature_method=SIGNATURE_HMAC_SHA256,
                              realm=realm)

    def authorization(self, method: str, url: str) -> str:
        # The JSON body is not part of an OAuth 1.0a signature (only form bodies are): sign method + URL.
        _, headers, _ = self._client.sign(url, http_method=method)
        return str(headers["Authorization"])

    def invalidate(self) -> None:
        return None


class MachineToMachineAuth:
    """OAuth 2.0 client credentials: a JWT (PS256/ES256..., `kid` = the certificate id of the M2M mapping) signed
    with the integration's private key, exchanged at the token endpoint for a bearer access token."""

    def __init__(self, *, token_url: str, client_id: str, certificate_id: str, private_key: str,
                 algorithm: str = "PS256", scopes: tuple[str, ...] = ("rest_webservices",),
                 post: Callable[..., httpx.Response], clock: Callable[[], float] = time.time) -> None:
        self.token_url = token_url
        self._client_id, self._kid, self._key = client_id, certificate_id, private_key
        self.algorithm, self.scopes = algorithm, scopes
        self._post, self._clock = post, clock
        self._token: tuple[str, float] | None = None  # (access token, expires at)
        self.tokens_issued = 0

    def assertion(self) -> str:
        import jwt

        now = int(self._clock())
        claims = {"iss": self._client_id, "scope": ",".join(self.scopes), "aud": self.token_url, "iat": now,
                  "exp": now + 3000, "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self._key, algorithm=self.algorithm, headers={"kid": self._kid, "typ": "JWT"})

    def authorization(self, method: str, url: str) -> str:
        if self._token is None or self._clock() >= self._token[1] - _EARLY:
            self._token = self._fetch()
        return f"Bearer {self._token[0]}"

    def invalidate(self) -> None:
        self._token = None

    def _fetch(self) -> tuple[str, float]:
        try:
            assertion = self.assertion()
        except Exception as exc:  # noqa: BLE001 - a malformed key or an algorithm the key cannot do: configuration, not outage
            raise CredentialsRefused(f"{VENDOR}: cannot sign the M2M assertion ({type(exc).__name__}): check "
                                     "private_key and jwt_algorithm", reason=CREDENTIALS) from None
        try:
            response = self._post(self.token_url, data={"grant_type": "client_credentials",
                                                        "client_assertion_type": ASSERTION_TYPE,
                                                        "client_assertion": assertion})
        except (httpx.TimeoutException, httpx.NetworkError) as exc:
            raise TransientError(f"{VENDOR}: token endpoint: {type(exc).__name__}", reason="network") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(f"{VENDOR}: token endpoint: HTTP {response.status_code}",
                                 reason="vendor_unavailable", status=response.status_code)
        body: Any = _json(response)
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            error = body.get("error") if isinstance(body, dict) else None
            raise CredentialsRefused(f"{VENDOR}: the token endpoint refused the M2M assertion "
                                     f"({error or f'HTTP {response.status_code}'}): check client_id, certificate_id "
                                     "and the certificate's M2M mapping", status=response.status_code)
        self.tokens_issued += 1
        return str(body["access_token"]), self._clock() + float(body.get("expires_in") or 3600)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def authenticator(settings: Any, secret: dict[str, Any], post: Callable[..., httpx.Response]) -> Authenticator:
    """The connection's authenticator, chosen by `settings.auth`; a secret lacking its keys is a clear error."""
    needed = (("consumer_key", "consumer_secret", "token_id", "token_secret") if settings.auth == "tba"
              else ("client_id", "certificate_id", "private_key"))
    missing = [key for key in needed if not secret.get(key)]
    if missing:
        raise CredentialsRefused(f"{VENDOR}: the connection secret lacks {', '.join(missing)} for auth "
                                 f"{settings.auth!r}", reason=CREDENTIALS)
    if settings.auth == "tba":
        return TokenBasedAuth(realm=settings.realm, consumer_key=secret["consumer_key"],
                              consumer_secret=secret["consumer_secret"], token_id=secret["token_id"],
                              token_secret=secret["token_secret"])
    return MachineToMachineAuth(token_url=settings.token_url, client_id=secret["client_id"],
                                certificate_id=secret["certificate_id"], private_key=secret["private_key"],
                                algorithm=settings.jwt_algorithm, scopes=settings.scopes, post=post)
