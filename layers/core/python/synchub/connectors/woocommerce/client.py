"""WooCommerce REST API v3 client: Basic auth, `page`/`per_page` paging, batch calls, typed errors.

Transport and retries come from VendorHttp (5xx and 429 are transient there); this module only
knows WooCommerce's URLs, its pagination headers and its error body `{"code","message","data"}`.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from synchub.connectors.http import DEFAULT_TIMEOUT, RetryPolicy, VendorHttp
from synchub.connectors.woocommerce.settings import WooCommerceSettings
from synchub.errors import VendorError, VendorRejected

VENDOR = "woocommerce"
API_PATH = "/wp-json/wc/v3/"
MAX_PER_PAGE = 100  # WordPress rejects per_page above 100
MAX_BATCH_ITEMS = 100  # create + update + delete of one batch call; more gets 413
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def api_base_url(store: WooCommerceSettings) -> str:
    """`<site url>/wp-json/wc/v3/`; `api_url` wins, and may be a site URL or the full API base."""
    url = (store.api_url or store.domain).strip()
    if "://" not in url:
        url = f"https://{url}"
    if "/wp-json/" in url:
        return url.rstrip("/") + "/"
    return url.rstrip("/") + API_PATH


def woocommerce_http_client(base_url: str, consumer_key: str, consumer_secret: str, *,
                            query_string_auth: bool = False,
                            transport: httpx.BaseTransport | None = None,
                            timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.Client:
    """An httpx.Client for one store. Basic auth is only sent over HTTPS (or to a loopback sandbox).

    `query_string_auth` sends the key and secret as `consumer_key`/`consumer_secret` parameters
    instead, which WooCommerce accepts over HTTPS for hosts whose server strips `Authorization`.
    """
    parts = urlsplit(base_url)
    if parts.scheme != "https" and parts.hostname not in _LOOPBACK:
        raise ValueError("WooCommerce Basic auth needs HTTPS: the site URL must start with https://")
    client = httpx.Client(base_url=base_url, transport=transport, timeout=timeout,
                          headers={"Accept": "application/json", "User-Agent": "SyncHub"})
    _authorise(client, consumer_key, consumer_secret, query_string_auth=query_string_auth)
    return client


def _authorise(client: httpx.Client, key: str, secret: str, *, query_string_auth: bool) -> None:
    if query_string_auth:
        client.params = client.params.merge({"consumer_key": key, "consumer_secret": secret})
    else:
        client.auth = httpx.BasicAuth(key, secret)


def prepare_injected_client(client: httpx.Client, store: WooCommerceSettings,
                            secret: Mapping[str, str]) -> httpx.Client:
    """Give a caller's client (tests, local mode) the store's base URL and credentials if it lacks them."""
    if not str(client.base_url):
        client.base_url = httpx.URL(api_base_url(store))
    if client.auth is None and "authorization" not in client.headers and "consumer_key" not in client.params:
        _authorise(client, secret["consumer_key"], secret["consumer_secret"], query_string_auth=False)
    return client


class WooCommerceClient:
    """Thin REST v3 client. Paths are relative to the API base: `products`, `products/12/variations`."""

    def __init__(self, http: VendorHttp, *, per_page: int = MAX_PER_PAGE) -> None:
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be 1..{MAX_PER_PAGE}")
        self.http = http
        self.per_page = per_page

    @classmethod
    def for_store(cls, store: WooCommerceSettings, secret: Mapping[str, str], *,
                  http_client: httpx.Client | None = None, policy: RetryPolicy | None = None,
                  per_page: int = MAX_PER_PAGE, query_string_auth: bool = False) -> WooCommerceClient:
        if http_client is None:
            key, secret_key = secret["consumer_key"], secret["consumer_secret"]
            http_client = woocommerce_http_client(api_base_url(store), key, secret_key,
                                                  query_string_auth=query_string_auth)
        else:
            prepare_injected_client(http_client, store, secret)
        return cls(VendorHttp(VENDOR, http_client, policy=policy), per_page=per_page)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return _json(self._send("GET", path, params=dict(params or {})))

    def put(self, path: str, body: Mapping[str, Any]) -> Any:
        return _json(self._send("PUT", path, json=body))

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        return _json(self._send("POST", path, json=body))

    def iter_pages(self, path: str,
                   params: Mapping[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]:
        """Every page of a collection, `per_page` items at a time, until `X-WP-TotalPages`.

        Ordered by id ascending unless the caller says otherwise: the default (newest first)
        shifts pages while the store creates records, and a page walk then skips some.
        """
        query = {"orderby": "id", "order": "asc", **(params or {}), "per_page": self.per_page}
        page = 1
        while True:
            items, total_pages = self.get_page(path, {**query, "page": page})
            if items:
                yield items
            if not items or (total_pages is not None and page >= total_pages) \
                    or (total_pages is None and len(items) < self.per_page):
                return
            page += 1

    def get_page(self, path: str, params: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int | None]:
        """One page of a collection and the store's `X-WP-TotalPages` (None when it sends none)."""
        response = self._send("GET", path, params=dict(params))
        items = _json(response)
        if not isinstance(items, list):
            raise VendorError(f"{VENDOR}: {path} did not answer a list", vendor=VENDOR, status=response.status_code)
        return items, _int_header(response, "x-wp-totalpages")

    def iter_all(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        for items in self.iter_pages(path, params):
            yield from items

    def batch(self, path: str, *, create: Sequence[Mapping[str, Any]] = (),
              update: Sequence[Mapping[str, Any]] = (),
              delete: Sequence[int] = ()) -> dict[str, list[dict[str, Any]]]:
        """One `POST <path>/batch`. Items that failed come back in place as `{"id", "error":{...}}`."""
        if len(create) + len(update) + len(delete) > MAX_BATCH_ITEMS:
            raise ValueError(f"a WooCommerce batch holds at most {MAX_BATCH_ITEMS} items")
        body: dict[str, Any] = {}
        for key, items in (("create", create), ("update", update), ("delete", delete)):
            if items:
                body[key] = list(items)
        answer = self.post(f"{path.rstrip('/')}/batch", body)
        return answer if isinstance(answer, dict) else {}

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, path.lstrip("/"), **kwargs)
        except VendorError as exc:
            raise _typed(exc) from exc


def error_code(exc: VendorError) -> str | None:
    """WooCommerce's own error code (`woocommerce_rest_product_invalid_id`, ...) of a typed error."""
    return exc.category


def _typed(exc: VendorError) -> VendorError:
    """Re-raise with the WooCommerce `code` as the error's category, so callers can branch on it."""
    body = exc.body if isinstance(exc.body, dict) else {}
    code = body.get("code") if isinstance(body.get("code"), str) else None
    message = body.get("message") if isinstance(body.get("message"), str) else None
    text = f"{VENDOR}: HTTP {exc.status}: {code or 'error'}: {message or str(exc)}"
    kind = VendorRejected if isinstance(exc, VendorRejected) else VendorError
    return kind(text, vendor=VENDOR, status=exc.status, category=code, body=exc.body)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:  # a caching or security plugin answering HTML with 200
        raise VendorError(f"{VENDOR}: HTTP {response.status_code}: body is not JSON", vendor=VENDOR,
                          status=response.status_code) from exc


def _int_header(response: httpx.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None
