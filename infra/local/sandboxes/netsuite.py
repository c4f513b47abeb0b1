"""NetSuite SuiteTalk REST sandbox on the sandbox kit, following Oracle's documented contract (NetSuite Help
Center: REST web services record service, SuiteQL, collection paging, error handling, OAuth 2.0 M2M, TBA,
concurrency governance; see events/README.md for the sections).

- Auth: `Authorization: OAuth realm="<ACCOUNT>", oauth_signature_method="HMAC-SHA256", ...` verified with
  oauthlib's own signature code (realm, consumer, token, timestamp within 5 min, nonce used once, signature over
  method + URL with its query), or `Authorization: Bearer <token>` from `POST /services/rest/auth/oauth2/v1/token`
  (client credentials, a JWT assertion verified with PyJWT against the registered certificate's public key:
  `kid`, `iss`, `aud` = the token URL, `scope` with rest_webservices, PS*/ES* only, lifetime at most 60 min).
  A refused login is 401 INVALID_LOGIN in the documented body.
- Records (`/services/rest/record/v1/...`): customer (GET, PUT upsert by `eid:`), salesOrder (POST 204 +
  Location, GET by id or `eid:` with `expandSubResources`, PATCH with `replace=item` or by `line`), item lookup.
  A duplicate external id is refused; orderStatus A -> B commits stock, A -> C cancels, closing every line of an
  approved order releases its commitment and leaves it Closed (H). Line taxes follow each line's tax code (items
  default to a 15 % code, as an account with tax set up would).
- SuiteQL (`/services/rest/query/v1/suiteql`, `Prefer: transient`, `limit` <= 1000 and `offset`): the subset
  in netsuite_suiteql.py over customer, item, location, transaction, transactionline and inventoryitemlocations;
  answers with `links` (self/next/...), `count`, `hasMore`, `items`, `offset`, `totalResults`.
- Concurrency: the account's limit (default 15) counts requests in flight, this integration's plus
  `other_integrations`; over it: 429 CONCURRENCY_LIMIT_EXCEEDED in NetSuite's error shape.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from infra.local.sandboxes import netsuite_suiteql as suiteql
from infra.local.sandboxes.kit import Fault, Sandbox, VendorError

DEMO_CATALOG = Path(__file__).resolve().parent.parent / "demo_catalog.json"
REST = "/services/rest"
TYPES = {400: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1",
         401: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
         404: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.5",
         429: "https://www.rfc-editor.org/rfc/rfc6585#section-4"}
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
          429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
INVALID_LOGIN = ("Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > "
                 "Users/Roles > User Management > View Login Audit Trail.")
STATUS_NAMES = {"A": "Pending Approval", "B": "Pending Fulfillment", "C": "Cancelled", "H": "Closed"}
NOT_TAXABLE, DEFAULT_TAX = "-7", "15"
ALGORITHMS = ["PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]


class NetSuiteError(VendorError):
    def __init__(self, status: int, code: str, detail: str, path: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.path = status, code, detail, path

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.code, self.detail, self.path)


def error_body(status: int, code: str, detail: str, path: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"detail": detail, "o:errorCode": code}
    if path:
        item["o:errorPath"] = path
    return {"type": TYPES.get(status, TYPES[400]), "title": TITLES.get(status, "Error"), "status": status,
            "o:errorDetails": [item]}


class NetSuiteSandbox(Sandbox):
    ROUTES: ClassVar[list[Rule]] = [
        Rule(f"{REST}/auth/oauth2/v1/token", endpoint="token", methods=["POST"]),
        Rule(f"{REST}/query/v1/suiteql", endpoint="suiteql", methods=["POST"]),
        Rule(f"{REST}/record/v1/<kind>", endpoint="records", methods=["POST"]),
        Rule(f"{REST}/record/v1/<kind>/<key>", endpoint="record", methods=["GET", "PUT", "PATCH"]),
        Rule(f"{REST}/system/v1/governanceLimits", endpoint="governance", methods=["GET"]),
    ]

    def __init__(self, account: str = "123456_SB1", *, tba: dict[str, str] | None = None,
                 m2m: dict[str, Any] | None = None, catalog: Path | None = None, account_limit: int = 15,
                 now: Callable[[], dt.datetime] | None = None, wall: Callable[[], float] = time.time,
                 **kit: Any) -> None:
        super().__init__(**kit)
        self.account = account.upper()
        self.tba = dict(tba or {})  # consumer_key, consumer_secret, token_id, token_secret
        self.m2m = dict(m2m or {})  # client_id, certificate_id, public_key (PEM)
        self.now: Callable[[], dt.datetime] = now or (lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None))
        self.wall = wall
        self.account_limit, self.other_integrations = account_limit, 0
        self.allocated: int | None = None  # the limit the administrator allocated to this integration record
        self.peak_in_flight, self._in_flight = 0, 0
        self._flight = threading.Lock()
        self.tokens: dict[str, float] = {}  # access token -> expires at (wall clock)
        self.tokens_issued = 0
        self._nonces: set[str] = set()
        self.unordered_queries: list[str] = []  # paged SuiteQL without ORDER BY (the connector must send none)
        self.tables: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in (
            "customer", "item", "location", "transaction", "transactionline", "currency")}
        self.levels: dict[int, dict[int, dict[str, Decimal]]] = {}  # item -> location -> onhand, committed
        self._ids: dict[str, int] = {}
        self._seed(json.loads((catalog or DEMO_CATALOG).read_text(encoding="utf-8")))

    # -- concurrency: requests in flight, counted before the kit's lock --------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._flight:
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        try:
            return super().__call__(environ, start_response)
        finally:
            with self._flight:
                self._in_flight -= 1

    # -- seeding and inspection ------------------------------------------------------------------
    def _next(self, table: str, start: int = 1) -> int:
        self._ids[table] = self._ids.get(table, start - 1) + 1
        return self._ids[table]

    def _seed(self, catalog: dict[str, Any]) -> None:
        for symbol in (catalog.get("currency", "USD"), "EUR", "GBP", "CAD"):
            if not any(row["symbol"] == symbol for row in self.tables["currency"].values()):
                self._insert("currency", {"symbol": symbol, "name": symbol})
        self.location_id = self._insert("location", {"name": catalog.get("warehouse", "WH"), "isinactive": False})
        self._insert("location", {"name": "Returns", "isinactive": False})
        for item in catalog["products"]:
            item_id = self._insert("item", {"itemid": item["sku"], "displayname": item["title"],
                                            "itemtype": "InvtPart", "isinactive": False, "taxcode": DEFAULT_TAX},
                                   start=100)
            self._stock(item_id, self.location_id)["onhand"] = Decimal(str(item.get("stock", 0)))
        for item in catalog.get("services", []):
            kind = "Discount" if item["code"] == "DISCOUNT" else "OthCharge"
            self._insert("item", {"itemid": item["code"], "displayname": item["title"], "itemtype": kind,
                                  "isinactive": False, "taxcode": DEFAULT_TAX}, start=100)

    def _insert(self, table: str, values: dict[str, Any], start: int = 1) -> int:
        record_id = self._next(table, start)
        self.tables[table][record_id] = {"id": record_id, **values}
        return record_id

    def _stock(self, item: int, location: int) -> dict[str, Decimal]:
        return self.levels.setdefault(item, {}).setdefault(location, {"onhand": Decimal(0), "committed": Decimal(0)})

    def sales_orders(self, external_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(json.dumps(self._order_view(row, True))) for row in self.tables["transaction"].values()
                    if row["recordtype"] == "salesorder" and (external_id is None or row["externalid"] == external_id)]

    def customers(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(row) for row in self.tables["customer"].values()]

    def committed(self, sku: str) -> Decimal:
        with self._lock:
            item = self._item_by_sku(sku)
            return sum((level["committed"] for level in self.levels.get(item, {}).values()), Decimal(0))

    def set_stock(self, sku: str, quantity: float) -> None:
        """An inventory adjustment made in NetSuite behind SyncHub's back: a transaction with one line."""
        with self._lock:
            item = self._item_by_sku(sku)
            self._stock(item, self.location_id)["onhand"] = Decimal(str(quantity))
            tran = self._insert("transaction", {"recordtype": "inventoryadjustment", "type": "InvAdjst",
                                                "externalid": None, "lastmodifieddate": self.now()})
            self._insert("transactionline", {"transaction": tran, "line": 1, "item": item})

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {**super().state(), "sales_orders": len(self.sales_orders()),
                    "customers": len(self.tables["customer"]), "peak_in_flight": self.peak_in_flight}

    def _item_by_sku(self, sku: str) -> int:
        return next(i for i, row in self.tables["item"].items() if row["itemid"] == sku)

    # -- answers in NetSuite's shapes ------------------------------------------------------------
    def no_route(self, exc: HTTPException) -> Response:
        status = exc.code or 404
        return self.json(error_body(status, "INVALID_URL" if status == 404 else "METHOD_NOT_ALLOWED",
                                    exc.description or TITLES.get(status, "")), status)

    def fault_response(self, fault: Fault) -> Response:
        code = "CONCURRENCY_LIMIT_EXCEEDED" if fault.status == 429 else "UNEXPECTED_ERROR"
        return self.json(error_body(fault.status, code, "The sandbox was told to fail this request."),
                         fault.status, fault.headers())

    def gate(self, request: Request, endpoint: str) -> Response | None:
        refusal = self.fault_answer()
        if refusal is not None:
            return refusal
        with self._flight:
            busy = self._in_flight + self.other_integrations
        if busy > self.account_limit:
            raise NetSuiteError(429, "CONCURRENCY_LIMIT_EXCEEDED",
                                "Concurrent request limit exceeded. Request blocked.")
        if endpoint != "token":
            self._authenticate(request)
        return None

    # -- auth --------------------------------------------------------------------------------------
    def _url(self, request: Request) -> str:
        environ = request.environ
        query = environ.get("QUERY_STRING") or ""
        return (f"{environ['wsgi.url_scheme']}://{environ.get('HTTP_HOST') or environ['SERVER_NAME']}"
                f"{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}" + (f"?{query}" if query else ""))

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("Authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme == "Bearer" and self.m2m:
            expires = self.tokens.get(value)
            if expires is not None and expires > self.wall():
                return
        elif scheme == "OAuth" and self.tba and self._oauth_valid(request, header):
            return
        raise NetSuiteError(401, "INVALID_LOGIN", INVALID_LOGIN)

    def _oauth_valid(self, request: Request, header: str) -> bool:
        from oauthlib.common import Request as OAuthRequest
        from oauthlib.oauth1.rfc5849 import signature, utils

        params = {key: utils.unescape(value) for key, value in utils.parse_authorization_header(header)}
        if (params.get("realm") != self.account or params.get("oauth_signature_method") != "HMAC-SHA256"
                or params.get("oauth_consumer_key") != self.tba["consumer_key"]
                or params.get("oauth_token") != self.tba["token_id"]):
            return False
        try:
            stamp = int(params.get("oauth_timestamp", "0"))
        except ValueError:
            return False
        nonce = params.get("oauth_nonce", "")
        if abs(self.wall() - stamp) > 300 or not nonce or nonce in self._nonces:
            return False
        uri = self._url(request)
        oauth = OAuthRequest(uri, http_method=request.method, headers={"Authorization": header})
        oauth.params = signature.collect_parameters(uri_query=request.environ.get("QUERY_STRING", ""),
                                                    headers={"Authorization": header}, exclude_oauth_signature=True)
        oauth.signature = params.get("oauth_signature", "")
        if not signature.verify_hmac_sha256(oauth, self.tba["consumer_secret"], self.tba["token_secret"]):
            return False
        self._nonces.add(nonce)
        return True

    def _on_token(self, request: Request) -> Response:
        import jwt

        form = request.form
        def refuse(error: str) -> Response:
            return self.json({"error": error}, 400 if error != "invalid_client" else 401)

        if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != \
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" or not self.m2m:
            return refuse("invalid_request")
        assertion = form.get("client_assertion") or ""
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            return refuse("invalid_request")
        if header.get("kid") != self.m2m["certificate_id"] or header.get("alg") not in ALGORITHMS:
            return refuse("invalid_client")
        token_url = self._url(request).split("?", 1)[0]
        try:
            claims = jwt.decode(assertion, self.m2m["public_key"], algorithms=ALGORITHMS, audience=token_url,
                                issuer=self.m2m["client_id"], options={"require": ["exp", "iat", "iss", "aud"]})
        except jwt.PyJWTError:
            return refuse("invalid_grant")
        scopes = str(claims.get("scope") or "").replace(" ", ",").split(",")
        if "rest_webservices" not in scopes or int(claims["exp"]) - int(claims["iat"]) > 3600:
            return refuse("invalid_scope")
        token = secrets.token_urlsafe(32)
        self.tokens[token] = self.wall() + 3600
        self.tokens_issued += 1
        return self.json({"access_token": token, "expires_in": "3600", "token_type": "bearer"})

    def revoke_tokens(self) -> None:
        with self._lock:
            self.tokens.clear()

    def _on_governance(self, request: Request) -> Response:
        answer: dict[str, Any] = {"accountConcurrencyLimit": self.account_limit,
                                  "accountUnallocatedConcurrencyLimit": self.account_limit - (self.allocated or 0)}
        if self.allocated:
            answer.update(integrationConcurrencyLimit=self.allocated, integrationLimitType="integrationSpecific")
        else:
            answer["integrationLimitType"] = "accountLimit"
        return self.json(answer)

    # -- SuiteQL -----------------------------------------------------------------------------------
    def _on_suiteql(self, request: Request) -> Response:
        args = request.args
        try:
            limit, offset = int(args.get("limit", 1000)), int(args.get("offset", 0))
        except ValueError:
            raise NetSuiteError(400, "INVALID_PARAMETER",
                                "Invalid value for the query parameter limit or offset.") from None
        if not 1 <= limit <= 1000 or offset < 0:
            raise NetSuiteError(400, "INVALID_PARAMETER",
                                "Invalid query parameter value: limit must be between 1 and 1000.")
        body = request.get_json(silent=True)
        text = body.get("q") if isinstance(body, dict) else None
        if not isinstance(text, str):
            raise NetSuiteError(400, "INVALID_CONTENT", "The request body must contain the parameter 'q'.")
        try:
            query = suiteql.parse(text)
            rows = suiteql.run(query, self._views())
        except suiteql.SuiteQLError as exc:
            raise NetSuiteError(400, "INVALID_PARAMETER", "Invalid search query. Detailed unprocessed description "
                                f"follows. Search error occurred: {exc}") from None
        if not query.order and len(rows) > limit:
            self.unordered_queries.append(text)
        page = rows[offset:offset + limit]
        base = self._url(request).split("?", 1)[0]
        links = [{"rel": "self", "href": f"{base}?limit={limit}&offset={offset}"}]
        if offset + limit < len(rows):
            last = (len(rows) - 1) // limit * limit
            links = [{"rel": "next", "href": f"{base}?limit={limit}&offset={offset + limit}"},
                     {"rel": "last", "href": f"{base}?limit={limit}&offset={last}"}, *links]
        return self.json({"links": links, "count": len(page), "hasMore": offset + limit < len(rows), "items": page,
                          "offset": offset, "totalResults": len(rows)})

    def _views(self) -> dict[str, Callable[[], Iterable[dict[str, Any]]]]:
        def stock() -> Iterable[dict[str, Any]]:
            for item, places in self.levels.items():
                for location, level in places.items():
                    yield {"item": item, "location": location, "quantityonhand": level["onhand"],
                           "quantitycommitted": level["committed"],
                           "quantityavailable": level["onhand"] - level["committed"]}

        def table(name: str) -> Callable[[], Iterable[dict[str, Any]]]:
            return lambda: [dict(row) for row in self.tables[name].values()]

        return {"customer": table("customer"), "item": table("item"), "location": table("location"),
                "transaction": table("transaction"), "transactionline": table("transactionline"),
                "currency": table("currency"),
                "inventoryitemlocations": stock}

    # -- records -----------------------------------------------------------------------------------
    def _on_records(self, request: Request, kind: str) -> Response:
        if kind != "salesOrder":
            raise NetSuiteError(404, "INVALID_URL", f"Record type '{kind}' is not supported by this sandbox.")
        body = self._body(request)
        external = body.get("externalId")
        if external and any(row.get("externalid") == external for row in self.tables["transaction"].values()
                            if row["recordtype"] == "salesorder"):
            raise NetSuiteError(400, "DUP_RCRD", "This record already exists.", "externalId")
        order_id = self._create_order(body)
        return self._no_content(request, "salesOrder", order_id)

    def _on_record(self, request: Request, kind: str, key: str) -> Response:
        if kind == "customer":
            if request.method == "PUT" and key.startswith("eid:"):
                return self._no_content(request, "customer", self._upsert_customer(key[4:], self._body(request)))
            row = self._find("customer", key)
            if row is None or request.method != "GET":
                raise NetSuiteError(404, "NONEXISTENT_ID", "The record instance does not exist. Provide a valid "
                                    "record instance ID.", None)
            return self.json({"id": str(row["id"]), "externalId": row["externalid"], "email": row["email"],
                              "firstName": row["firstname"], "lastName": row["lastname"]})
        if kind != "salesOrder":
            raise NetSuiteError(404, "INVALID_URL", f"Record type '{kind}' is not supported by this sandbox.")
        order = self._find("transaction", key)
        if order is None or order["recordtype"] != "salesorder":
            raise NetSuiteError(404, "NONEXISTENT_ID", "The record instance does not exist. Provide a valid record "
                                "instance ID.")
        if request.method == "GET":
            return self.json(self._order_view(order, request.args.get("expandSubResources") == "true"))
        if request.method != "PATCH":
            raise NetSuiteError(405, "METHOD_NOT_ALLOWED", "PUT is supported on external ids only.")
        self._patch_order(order, self._body(request), replace=request.args.get("replace", ""))
        return self._no_content(request, "salesOrder", order["id"])

    def _no_content(self, request: Request, kind: str, record_id: int) -> Response:
        base = self._url(request).split("/record/v1/", 1)[0]
        return Response(status=204, headers={"Location": f"{base}/record/v1/{kind}/{record_id}"})

    def _body(self, request: Request) -> dict[str, Any]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise NetSuiteError(400, "INVALID_CONTENT", "The request body is not a valid JSON object.")
        return body

    def _find(self, table: str, key: str) -> dict[str, Any] | None:
        if key.startswith("eid:"):
            return next((row for row in self.tables[table].values() if row.get("externalid") == key[4:]), None)
        return self.tables[table].get(int(key)) if key.isdigit() else None

    def _upsert_customer(self, external: str, body: dict[str, Any]) -> int:
        if not external or any(not (c.isalnum() or c in "_-") for c in external):
            raise NetSuiteError(400, "INVALID_ID", "Invalid external ID.", "externalId")
        values = {"externalid": external, "isperson": bool(body.get("isPerson")),
                  "firstname": body.get("firstName") or None, "lastname": body.get("lastName") or None,
                  "email": body.get("email") or None, "phone": body.get("phone") or None,
                  "addressbook": (body.get("addressBook") or {}).get("items", []),
                  "lastmodifieddate": self.now()}
        row = self._find("customer", f"eid:{external}")
        if row is None:
            return self._insert("customer", values, start=500)
        row.update(values)
        return int(row["id"])

    # -- sales orders --------------------------------------------------------------------------------
    def _lines(self, items: Any, start: int = 1) -> list[dict[str, Any]]:
        if not isinstance(items, list):
            raise NetSuiteError(400, "INVALID_CONTENT", "item.items must be a list.", "item.items")
        lines = []
        for index, line in enumerate(items):
            item_id = str((line.get("item") or {}).get("id") or "")
            if not item_id.isdigit() or int(item_id) not in self.tables["item"]:
                raise NetSuiteError(400, "INVALID_CONTENT", "Error while accessing resource: You have entered an "
                                    f"Invalid Field Value {item_id} for the following field: item",
                                    f"item.items[{index}].item")
            quantity = Decimal(str(line.get("quantity", 1)))
            rate = Decimal(str(line.get("rate", 0)))
            tax = str((line.get("taxCode") or {}).get("id") or self.tables["item"][int(item_id)]["taxcode"])
            lines.append({"line": start + index, "item": int(item_id), "quantity": quantity, "rate": rate,
                          "amount": (quantity * rate).quantize(Decimal("0.01")), "taxcode": tax,
                          "description": line.get("description") or "", "isclosed": False,
                          "quantityfulfilled": Decimal(0)})
        return lines

    def _create_order(self, body: dict[str, Any]) -> int:
        entity = str((body.get("entity") or {}).get("id") or "")
        if not entity.isdigit() or int(entity) not in self.tables["customer"]:
            raise NetSuiteError(400, "INVALID_CONTENT", "Error while accessing resource: You have entered an "
                                f"Invalid Field Value {entity} for the following field: entity", "entity")
        status = str((body.get("orderStatus") or {}).get("id") or "A")
        if status not in ("A", "B"):
            raise NetSuiteError(400, "INVALID_CONTENT", f"Invalid orderStatus {status} for a new order.",
                                "orderStatus")
        location = int((body.get("location") or {}).get("id") or self.location_id)
        currency = str((body.get("currency") or {}).get("id") or "1")
        if not currency.isdigit() or int(currency) not in self.tables["currency"]:
            raise NetSuiteError(400, "INVALID_CONTENT", "Error while accessing resource: You have entered an "
                                f"Invalid Field Value {currency} for the following field: currency", "currency")
        lines = self._lines((body.get("item") or {}).get("items"))
        order_id = self._insert("transaction", {
            "recordtype": "salesorder", "type": "SalesOrd", "externalid": body.get("externalId"),
            "entity": int(entity), "status": status, "location": location, "currency": int(currency), "otherrefnum": body.get("otherRefNum"),
            "memo": body.get("memo"), "lastmodifieddate": self.now(), "lines": lines}, start=1000)
        order = self.tables["transaction"][order_id]
        order["tranid"] = f"SO{order_id}"
        self._sync_lines(order)
        if status == "B":
            self._commit(order, 1)
        return order_id

    def _patch_order(self, order: dict[str, Any], body: dict[str, Any], *, replace: str) -> None:
        status = str((body.get("orderStatus") or {}).get("id") or order["status"])
        if order["status"] in ("C", "H"):
            raise NetSuiteError(400, "USER_ERROR", "You cannot edit a cancelled or closed order.")
        was_committed = order["status"] == "B"
        if was_committed:
            self._commit(order, -1)
        items = (body.get("item") or {}).get("items")
        if items is not None and "item" in replace.split(","):
            order["lines"] = self._lines(items)
        elif items is not None:
            by_line = {line["line"]: line for line in order["lines"]}
            for change in items:
                line = by_line.get(change.get("line"))
                if line is None:
                    order["lines"] += self._lines([change], start=max(by_line, default=0) + 1)
                elif change.get("isClosed"):
                    line["isclosed"] = True
        if "otherRefNum" in body:
            order["otherrefnum"] = body["otherRefNum"]
        if status == "C" and order["status"] != "A":
            raise NetSuiteError(400, "USER_ERROR", "Only an order pending approval can be cancelled; close its "
                                "lines instead.", "orderStatus")
        order["status"] = status
        if order["lines"] and all(line["isclosed"] for line in order["lines"]) and status != "C":
            order["status"] = "H"
        if order["status"] == "B":
            self._commit(order, 1)
        order["lastmodifieddate"] = self.now()
        self._sync_lines(order)

    def _commit(self, order: dict[str, Any], sign: int) -> None:
        for line in order["lines"]:
            item = self.tables["item"][line["item"]]
            if item["itemtype"] != "InvtPart" or line["isclosed"]:
                continue
            level = self._stock(line["item"], order["location"])
            level["committed"] = max(Decimal(0), level["committed"] + sign * line["quantity"])

    def _sync_lines(self, order: dict[str, Any]) -> None:
        """The order's rows in `transactionline`, as SuiteQL sees them."""
        table = self.tables["transactionline"]
        for key in [k for k, row in table.items() if row["transaction"] == order["id"]]:
            del table[key]
        for line in order["lines"]:
            self._insert("transactionline", {"transaction": order["id"], "line": line["line"], "item": line["item"],
                                             "quantity": line["quantity"]})

    def _order_view(self, order: dict[str, Any], expand: bool) -> dict[str, Any]:
        open_lines = [line for line in order["lines"]]
        subtotal = sum((line["amount"] for line in open_lines), Decimal(0))
        tax = sum((line["amount"] * (Decimal(0) if line["taxcode"] == NOT_TAXABLE else Decimal(line["taxcode"]))
                   / 100 for line in open_lines), Decimal(0)).quantize(Decimal("0.01"))
        view: dict[str, Any] = {
            "id": str(order["id"]), "tranId": order["tranid"], "externalId": order["externalid"],
            "entity": {"id": str(order["entity"])}, "location": {"id": str(order["location"])},
            "currency": {"id": str(order["currency"])},
            "orderStatus": {"id": order["status"], "refName": STATUS_NAMES.get(order["status"], order["status"])},
            "otherRefNum": order["otherrefnum"], "memo": order["memo"],
            "lastModifiedDate": order["lastmodifieddate"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "subtotal": float(subtotal), "taxTotal": float(tax), "total": float(subtotal + tax)}
        if expand:
            view["item"] = {"items": [{"line": line["line"], "item": {"id": str(line["item"])},
                                       "quantity": float(line["quantity"]), "rate": float(line["rate"]),
                                       "amount": float(line["amount"]), "taxCode": {"id": line["taxcode"]},
                                       "description": line["description"], "isClosed": line["isclosed"],
                                       "quantityFulfilled": float(line["quantityfulfilled"])}
                                      for line in order["lines"]], "totalResults": len(order["lines"])}
        else:
            view["item"] = {"links": [{"rel": "self", "href": f"{REST}/record/v1/salesOrder/{order['id']}/item"}]}
        return view


def create_app(account: str = "123456_SB1", **options: Any) -> NetSuiteSandbox:
    """A NetSuite account seeded from the demo catalogue; pass `tba` and/or `m2m` credentials it accepts."""
    return NetSuiteSandbox(account, **options)


def form_fields(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode()))
