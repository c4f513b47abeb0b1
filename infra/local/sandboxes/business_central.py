"""Business Central sandbox on the sandbox kit: Entra's token endpoint and API v2.0 over OData, following Microsoft's
documented contract (MicrosoftDocs/dynamics365smb-devitpro-pb dev-itpro/api-reference/v2.0, webservices/
use-odata-batch.md and dynamics-error-codes.md, administration/operational-limits-online.md).

- Tokens: `GET /<tenant>/v2.0/.well-known/openid-configuration`, `POST /<tenant>/oauth2/v2.0/token` (client
  credentials, scope `https://api.businesscentral.dynamics.com/.default`), `expires_in` 3599; a wrong secret gets
  Entra's 401 `invalid_client` (AADSTS7000215).
- API: `/v2.0/<tenant>/<environment>/api/v2.0/companies(<id>)/<entity set>[(<id>)][/<navigation>]` with bearer
  tokens; `@odata.context`, `@odata.etag` on every entity, `@odata.nextLink` under `Prefer: odata.maxpagesize`;
  PATCH and DELETE need `If-Match` (a stale one: 412 Request_EntityChanged); deep insert of salesOrderLines;
  JSON `$batch` (with `Isolation: snapshot` all-or-nothing); a custom API page for stock per location under
  `api/synchub/inventory/v1.0` (the extension the connector's settings can name).
- Errors: `{"error": {"code", "message"}}` with BC's codes; 429 once the per-user window (6,000 requests per
  5 minutes by default) is used, with Retry-After.
- Business rules: orders are created "Draft" (BC's Open); `release()` makes one "Open" (Released), after which
  lines cannot change nor the order be deleted; `inventory` is the sum of item ledger entries (`set_stock`
  posts one); tax is added per line unless the line's taxCode is a zero rate (NONTAXABLE).
"""
from __future__ import annotations

import base64
import copy
import datetime as dt
import itertools
import json
import re
import secrets
import uuid
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from infra.local.sandboxes.business_central_odata import ODataError, order_rows, parse_filter, select, split_expand
from infra.local.sandboxes.kit import Fault, RateLimiter, RollingWindow, Sandbox, VendorError

DEMO_CATALOG = Path(__file__).resolve().parent.parent / "demo_catalog.json"
TAX_RATES = {"TAXABLE": Decimal(10), "NONTAXABLE": Decimal(0)}
CURRENCY_PLACES = {"JPY": 0, "KWD": 3}
_SEGMENT = re.compile(r"^(?P<name>[A-Za-z$]+)(?:\((?P<key>[^)]*)\))?$")
CUSTOMER_LENGTHS = {"number": 20, "displayName": 100, "email": 80, "phoneNumber": 30, "addressLine1": 100,
                    "addressLine2": 50, "city": 30, "state": 30, "postalCode": 20}


class BcError(VendorError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> Any:
        return {"error": {"code": self.code, "message": f"{self.message}  CorrelationId:  {uuid.uuid4()}."}}


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class BusinessCentralSandbox(Sandbox):
    ROUTES: ClassVar[list[Rule]] = [
        Rule("/<tenant>/v2.0/.well-known/openid-configuration", endpoint="discovery", methods=["GET"]),
        Rule("/<tenant>/oauth2/v2.0/token", endpoint="token", methods=["POST"]),
        Rule("/v2.0/<tenant>/<environment>/api/<path:rest>", endpoint="api",
             methods=["GET", "POST", "PATCH", "DELETE"]),
    ]

    def __init__(self, client_id: str, client_secret: str, *, tenant: str = "synchub.onmicrosoft.com",
                 environment: str = "production", catalog: Path | None = None, manual_customer_numbers: bool = True,
                 requests_per_window: int = 6000, window_seconds: float = 300.0, **kit: Any) -> None:
        super().__init__(**kit)
        self.client_id, self.client_secret = client_id, client_secret
        self.tenant, self.environment = tenant, environment
        self.manual_customer_numbers = manual_customer_numbers
        self.tokens: dict[str, float] = {}  # access token -> expiry (sandbox clock)
        self.tokens_issued = 0
        self.limiter = RateLimiter(self.clock, [RollingWindow("user", requests_per_window, window_seconds)])
        self.company_id = str(uuid.uuid4())
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
        # BC's validation call to a subscriber: (notificationUrl, token) -> the answer's body if 200, else None.
        self.handshake: Callable[[str, str], str | None] = _handshake_over_http
        self.currencies = {"USD", "EUR", "GBP", "CAD", "JPY", "KWD", "PYG", "AUD"}  # USD is the LCY
        self.tables: dict[str, dict[str, dict[str, Any]]] = {
            name: {} for name in ("customers", "items", "salesOrders", "salesOrderLines", "itemLedgerEntries",
                                  "itemLocationStocks")}
        self._numbers = itertools.count(101001)
        self._entries = itertools.count(1)
        self._versions = itertools.count(1)
        self._seed(json.loads((catalog or DEMO_CATALOG).read_text(encoding="utf-8")))

    # -- control (Python side) -------------------------------------------------------------------
    def records(self, entity: str, **equal: Any) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(row) for row in self.tables[entity].values()
                    if all(row.get(key) == value for key, value in equal.items())]

    def sales_orders(self, reference: str) -> list[dict[str, Any]]:
        return self.records("salesOrders", externalDocumentNumber=reference)

    def order_lines(self, order_id: str) -> list[dict[str, Any]]:
        return self.records("salesOrderLines", documentId=order_id)

    def release(self, order_id: str) -> None:
        """What a user's Release does in BC: the API then shows the order as "Open" (Released)."""
        with self._lock:
            self._touch("salesOrders", order_id, status="Open")

    def set_stock(self, sku: str, quantity: float, location: str = "WH") -> None:
        """An inventory adjustment posted in BC: an item ledger entry for the difference."""
        with self._lock:
            item = self._item_by_number(sku)
            difference = Decimal(str(quantity)) - self._inventory(item["number"], location)
            if difference:
                self._post_entry(item["number"], difference, location)

    def rotate_secret(self) -> str:
        with self._lock:
            self.client_secret = secrets.token_urlsafe(30)
            self.tokens.clear()
            return self.client_secret

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {**super().state(), **{name: len(rows) for name, rows in self.tables.items()}}

    # -- seeding ---------------------------------------------------------------------------------
    def _seed(self, catalog: dict[str, Any]) -> None:
        warehouse = catalog.get("warehouse", "WH")
        for item in catalog["products"]:
            self._insert("items", {"number": item["sku"].upper(), "displayName": item["title"], "type": "Inventory",
                                   "gtin": "", "unitPrice": float(item["price"]), "taxGroupCode": "TAXABLE",
                                   "blocked": False, "baseUnitOfMeasureCode": "PCS"})
            self._post_entry(item["sku"].upper(), Decimal(str(item.get("stock", 0))), warehouse)
        for item in catalog.get("services", []):
            self._insert("items", {"number": item["code"], "displayName": item["title"], "type": "Service", "gtin": "",
                                   "unitPrice": 0.0, "taxGroupCode": "NONTAXABLE", "blocked": False,
                                   "baseUnitOfMeasureCode": "PCS"})

    def _insert(self, entity: str, values: dict[str, Any]) -> dict[str, Any]:
        row = {"id": str(uuid.uuid4()), **values, "lastModifiedDateTime": _now(), "_version": next(self._versions)}
        self.tables[entity][row["id"]] = row
        return row

    def _touch(self, entity: str, row_id: str, **values: Any) -> dict[str, Any]:
        row = self.tables[entity][row_id]
        row.update(values, lastModifiedDateTime=_now(), _version=next(self._versions))
        return row

    def _post_entry(self, number: str, quantity: Decimal, location: str) -> None:
        self._insert("itemLedgerEntries", {"entryNumber": next(self._entries), "itemNumber": number,
                                           "entryType": "Positive Adjmt." if quantity > 0 else "Negative Adjmt.",
                                           "quantity": float(quantity), "locationCode": location,
                                           "postingDate": dt.date.today().isoformat()})

    def _inventory(self, number: str, location: str | None = None) -> Decimal:
        return sum((Decimal(str(e["quantity"])) for e in self.tables["itemLedgerEntries"].values()
                    if e["itemNumber"] == number and (location is None or e["locationCode"] == location)), Decimal(0))

    def _item_by_number(self, number: str) -> dict[str, Any]:
        for row in self.tables["items"].values():
            if row["number"].upper() == number.upper():
                return row
        raise KeyError(number)

    # -- gate: faults and the per-user window ------------------------------------------------------
    def gate(self, request: Request, endpoint: str) -> Response | None:
        refusal = self.fault_answer()
        if refusal is not None:
            return refusal
        if endpoint == "api" and self.limiter is not None and self.limiter.admit(endpoint) is not None:
            # BC documents the 429 and its per-user limits, not a body; this one has BC's error shape.
            return self.json(BcError(429, "Application_TooManyRequests", "Too many requests reached.").body(), 429,
                             {"Retry-After": "1"})
        return None

    def no_route(self, exc: HTTPException) -> Response:
        return self.json(BcError(exc.code or 404, "BadRequest_NotFound", exc.description or "Not found").body(),
                         exc.code or 404)

    def fault_response(self, fault: Fault) -> Response:
        code = "Internal_ServerError" if fault.status >= 500 else "Application_TooManyRequests"
        return self.json(BcError(fault.status, code, "The service is temporarily unavailable.").body(), fault.status,
                         fault.headers())

    # -- Entra -----------------------------------------------------------------------------------
    def _on_discovery(self, request: Request, tenant: str) -> Response:
        base = f"https://{request.host}/{tenant}"
        return self.json({"token_endpoint": f"{base}/oauth2/v2.0/token",
                          "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                          "issuer": f"https://login.microsoftonline.com/{tenant}/v2.0",
                          "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                                    "client_secret_basic"]})

    def _on_token(self, request: Request, tenant: str) -> Response:
        form = request.form
        if form.get("grant_type") != "client_credentials":
            return self._entra_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        if form.get("client_id") != self.client_id or tenant != self.tenant:
            return self._entra_error(400, "unauthorized_client", 700016,
                                     f"Application with identifier '{form.get('client_id')}' was not found in the "
                                     f"directory '{tenant}'.")
        if form.get("client_secret") != self.client_secret:
            return self._entra_error(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the "
                                     "secret being sent in the request is the client secret value, not the client "
                                     "secret ID, for a secret added to app '" + self.client_id + "'.")
        if "https://api.businesscentral.dynamics.com/.default" not in (form.get("scope") or "").split():
            return self._entra_error(400, "invalid_scope", 1002012, "The provided value for scope is not valid.")
        token = secrets.token_urlsafe(48)
        self.tokens[token] = self.clock() + 3599
        self.tokens_issued += 1
        return self.json({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token})

    def _entra_error(self, status: int, error: str, code: int, text: str) -> Response:
        return self.json({"error": error, "error_description": f"AADSTS{code}: {text}", "error_codes": [code],
                          "timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
                          "trace_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4())}, status)

    # -- API -------------------------------------------------------------------------------------
    def _on_api(self, request: Request, tenant: str, environment: str, rest: str) -> Response:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or self.tokens.get(token, -1.0) < self.clock():
            raise BcError(401, "Authentication_InvalidCredentials", "The server has rejected the client credentials.")
        if tenant != self.tenant or environment != self.environment:
            raise BcError(404, "BadRequest_NotFound", f"Environment '{environment}' was not found.")
        if rest == "v2.0/$batch" and request.method == "POST":
            return self._batch(request)
        body = request.get_json(silent=True) if request.get_data() else None
        status, payload, headers = self._dispatch(request.method, rest, request.args.to_dict(), body,
                                                  request.headers.get("If-Match"),
                                                  request.headers.get("Prefer") or "", request.base_url)
        return self.json(payload, status, headers) if status != 204 else Response(status=204)

    def _dispatch(self, method: str, rest: str, args: dict[str, str], body: Any, if_match: str | None,
                  prefer: str, base_url: str) -> tuple[int, Any, dict[str, str]]:
        if rest.startswith("v2.0/subscriptions"):
            return self._subscription(method, rest[len("v2.0/subscriptions"):], body, if_match)
        api, _, path = rest.partition("/companies")
        if api not in ("v2.0", "synchub/inventory/v1.0"):
            raise BcError(404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{api}'.")
        if not path:
            return 200, {"value": [{"id": self.company_id, "systemVersion": "24.0", "name": "SyncHub Demo",
                                    "displayName": "SyncHub Demo", "businessProfileId": ""}]}, {}
        segments = [_SEGMENT.match(part) for part in ("companies" + path).split("/")]
        if any(match is None for match in segments) or segments[0]["key"] != self.company_id:  # type: ignore[index]
            raise BcError(404, "BadRequest_NotFound", "Bad Request - Error in query syntax.")
        parts = [(m["name"], m["key"]) for m in segments[1:] if m is not None]
        if api != "v2.0":
            if parts != [("itemLocationStocks", None)] or method != "GET":
                raise BcError(404, "BadRequest_ResourceNotFound", "Resource not found.")
            return 200, self._collection("itemLocationStocks", self._location_rows(), args, prefer, base_url), {}
        if not parts or parts[0][0] not in self.tables:
            raise BcError(404, "BadRequest_ResourceNotFound",
                          f"Resource not found for the segment '{parts[0][0] if parts else ''}'.")
        (entity, key), rest_parts = parts[0], parts[1:]
        if rest_parts:  # salesOrders(<id>)/salesOrderLines
            if entity != "salesOrders" or rest_parts[0][0] != "salesOrderLines" or key is None:
                raise BcError(404, "BadRequest_ResourceNotFound", "Resource not found.")
            self._row(entity, key)
            entity, parent, key = "salesOrderLines", key, rest_parts[0][1]
        else:
            parent = None
        try:
            return self._method(method, entity, key, parent, args, body, if_match, prefer, base_url)
        except ODataError as exc:
            raise BcError(400, "BadRequest", str(exc)) from None

    def _method(self, method: str, entity: str, key: str | None, parent: str | None, args: dict[str, str],
                body: Any, if_match: str | None, prefer: str, base_url: str) -> tuple[int, Any, dict[str, str]]:
        if method == "GET" and key is None:
            rows = [row for row in self._view_rows(entity) if parent is None or row.get("documentId") == parent]
            return 200, self._collection(entity, rows, args, prefer, base_url), {}
        if method == "GET":
            return 200, self._entity(entity, self._view(entity, self._row(entity, _key(key))), args), {}
        if method == "POST" and key is None:
            if not isinstance(body, dict):
                raise BcError(400, "BadRequest", "Invalid Request Body")
            row = self._create(entity, body, parent)
            return 201, self._entity(entity, self._view(entity, row), {}), {}
        if key is None:
            raise BcError(405, "BadRequest_MethodNotAllowed", f"'{method}' requests for '{entity}' of EdmType "
                          "'EntityCollection' are not allowed.")
        row = self._row(entity, _key(key))
        self._check_etag(entity, row, if_match)
        if method == "PATCH":
            return 200, self._entity(entity, self._view(entity, self._update(entity, row, body or {})), {}), {}
        self._delete(entity, row)
        return 204, None, {}

    # -- shapes ----------------------------------------------------------------------------------
    def etag(self, entity: str, row: dict[str, Any]) -> str:
        inner = f"'{len(row['id'])};{row['id']};{row['_version']};'"
        return 'W/"' + base64.b64encode(inner.encode()).decode() + '"'

    def _context(self, entity: str, single: bool = False) -> str:
        root = f"https://api.businesscentral.dynamics.com/v2.0/{self.tenant}/{self.environment}/api/v2.0"
        return f"{root}/$metadata#companies({self.company_id})/{entity}{'/$entity' if single else ''}"

    def _entity(self, entity: str, row: dict[str, Any], args: dict[str, str]) -> dict[str, Any]:
        out = {"@odata.context": self._context(entity, True), **self._shape(entity, row, args)}
        return out

    def _shape(self, entity: str, row: dict[str, Any], args: dict[str, str]) -> dict[str, Any]:
        shown = {"@odata.etag": self.etag(entity, row), **{k: v for k, v in row.items() if not k.startswith("_")}}
        shown = select(shown, args.get("$select"))
        for navigation, fields in split_expand(args.get("$expand")).items():
            if entity != "salesOrders" or navigation != "salesOrderLines":
                raise BcError(400, "BadRequest", f"Could not find a property named '{navigation}'.")
            lines = sorted((line for line in self.tables["salesOrderLines"].values() if line["documentId"] == row["id"]),
                           key=lambda line: line["sequence"])
            shown[navigation] = [select({"@odata.etag": self.etag(navigation, line),
                                         **{k: v for k, v in line.items() if not k.startswith("_")}}, fields)
                                 for line in lines]
        return shown

    def _collection(self, entity: str, rows: list[dict[str, Any]], args: dict[str, str], prefer: str,
                    base_url: str) -> dict[str, Any]:
        fields = set().union(*(row.keys() for row in rows)) if rows else {"id", "number"}
        rows = [row for row in rows if parse_filter(args.get("$filter"), fields | _FILTERABLE)(row)]
        rows = order_rows(rows, args.get("$orderby") or "")
        rows = rows[int(args.get("$skip") or 0):]
        if args.get("$top"):
            rows = rows[:int(args["$top"])]
        offset = int(args.get("$skiptoken") or 0)
        match = re.search(r"odata\.maxpagesize=(\d+)", prefer)
        size = min(int(match.group(1)), 20000) if match else 20000
        page = rows[offset:offset + size]
        answer: dict[str, Any] = {"@odata.context": self._context(entity),
                                  "value": [self._shape(entity, row, args) for row in page]}
        if offset + size < len(rows):
            query = {k: v for k, v in args.items() if k != "$skiptoken"}
            answer["@odata.nextLink"] = f"{base_url}?{urlencode({**query, '$skiptoken': str(offset + size)})}"
        return answer

    # -- entities --------------------------------------------------------------------------------
    def _row(self, entity: str, key: str) -> dict[str, Any]:
        row = self.tables[entity].get(key.lower())
        if row is None:
            raise BcError(404, "BadRequest_NotFound", f"The {entity} does not exist. Identification fields and values:"
                          f" Id='{key}'")
        return row

    def _view_rows(self, entity: str) -> list[dict[str, Any]]:
        return [self._view(entity, row) for row in self.tables[entity].values()]

    def _view(self, entity: str, row: dict[str, Any]) -> dict[str, Any]:
        if entity == "items":
            return {**row, "inventory": float(self._inventory(row["number"]))}
        return row

    def _location_rows(self) -> list[dict[str, Any]]:
        totals: dict[tuple[str, str], Decimal] = {}
        for entry in self.tables["itemLedgerEntries"].values():
            key = (entry["itemNumber"], entry["locationCode"])
            totals[key] = totals.get(key, Decimal(0)) + Decimal(str(entry["quantity"]))
        return [{"id": f"{number}|{location}", "itemNumber": number, "locationCode": location,
                 "inventory": float(quantity), "_version": 1} for (number, location), quantity in sorted(totals.items())]

    def _check_etag(self, entity: str, row: dict[str, Any], if_match: str | None) -> None:
        if not if_match:
            raise BcError(400, "BadRequest_InvalidToken", "Could not validate the client concurrency token required by "
                          "the service. Please provide a valid token in the client request.")
        if if_match != "*" and if_match != self.etag(entity, row):
            raise BcError(412, "Request_EntityChanged", "Another user has already changed the record.")

    def _create(self, entity: str, body: dict[str, Any], parent: str | None) -> dict[str, Any]:
        if entity == "customers":
            return self._create_customer(body)
        if entity == "salesOrders":
            return self._create_order(body)
        if entity == "salesOrderLines" and parent is not None:
            order = self._row("salesOrders", parent)
            self._editable(order)
            line = self._insert_line(order, body)
            self._total(order)
            return line
        raise BcError(405, "BadRequest_MethodNotAllowed", f"'POST' requests for '{entity}' are not allowed.")

    def _update(self, entity: str, row: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        read_only = {"id", "number", "lastModifiedDateTime", "inventory", "totalAmountIncludingTax", "status"}
        for field in body:
            if field in read_only:
                raise BcError(400, "BadRequest_InvalidOperation", f"Control '{field}' is read-only.")
        if entity == "customers":
            _lengths(body)
        if entity == "salesOrders":
            self._editable(row)
        return self._touch(entity, row["id"], **body)

    def _delete(self, entity: str, row: dict[str, Any]) -> None:
        if entity == "salesOrders":
            self._editable(row)
            for line in [line for line in self.tables["salesOrderLines"].values() if line["documentId"] == row["id"]]:
                del self.tables["salesOrderLines"][line["id"]]
        elif entity == "salesOrderLines":
            order = self.tables["salesOrders"][row["documentId"]]
            self._editable(order)
            del self.tables[entity][row["id"]]
            self._total(order)
            return
        elif entity != "customers":
            raise BcError(405, "BadRequest_MethodNotAllowed", f"'DELETE' requests for '{entity}' are not allowed.")
        del self.tables[entity][row["id"]]

    def _create_customer(self, body: dict[str, Any]) -> dict[str, Any]:
        _lengths(body)
        number = str(body.get("number") or "")
        if number and not self.manual_customer_numbers:
            raise BcError(400, "Application_DialogException", "You may not enter numbers manually. If you want to enter "
                          "numbers manually, please activate Manual Nos. in No. Series C.")
        number = number.upper() or f"C{next(self._numbers):05d}"
        if any(row["number"] == number for row in self.tables["customers"].values()):
            raise BcError(400, "Internal_EntityWithSameKeyExists", f"The Customer already exists. Identification "
                          f"fields and values: No.='{number}'")
        values = {field: body.get(field, "") for field in ("displayName", "type", "addressLine1", "addressLine2", "city",
                                                           "state", "country", "postalCode", "phoneNumber", "email")}
        return self._insert("customers", {"number": number, **values, "type": body.get("type") or "Company",
                                          "currencyCode": "", "blocked": " "})

    def _create_order(self, body: dict[str, Any]) -> dict[str, Any]:
        customer = None
        if body.get("customerId"):
            customer = self.tables["customers"].get(str(body["customerId"]).lower())
        elif body.get("customerNumber"):
            customer = next((c for c in self.tables["customers"].values() if c["number"] == body["customerNumber"]), None)
        else:
            raise BcError(400, "Application_DialogException", "A customerNumber or a customerID must be provided.")
        if customer is None:
            raise BcError(400, "Internal_RecordNotFound", "The Customer does not exist.")
        currency = str(body.get("currencyCode") or "USD").upper()
        if currency not in self.currencies:
            raise BcError(400, "Internal_InvalidTableRelation", f"The field Currency Code of table Sales Header contains a"
                          f" value ({currency}) that cannot be found in the related table (Currency).")
        external = str(body.get("externalDocumentNumber") or "")
        if len(external) > 35:
            raise BcError(400, "Application_StringExceededLength", f"The length of the string is {len(external)}, but "
                          f"it must be less than or equal to 35 characters. Value: {external}")
        header = {**_ORDER_DEFAULTS, "billToName": customer["displayName"], "billToCustomerId": customer["id"],
                  "billToCustomerNumber": customer["number"], "shipToName": customer["displayName"],
                  "email": customer.get("email", ""), "postingDate": dt.date.today().isoformat(),
                  **{key: value for key, value in body.items() if key.startswith("shipTo") or key == "orderDate"}}
        snapshot = copy.deepcopy(self.tables)
        order = self._insert("salesOrders", {
            "number": f"S-ORD{next(self._numbers)}", "externalDocumentNumber": external, "customerId": customer["id"],
            "customerNumber": customer["number"], "customerName": customer["displayName"],
            "currencyCode": "" if currency == "USD" else currency, "pricesIncludeTax": False, "status": "Draft",
            "orderDate": dt.date.today().isoformat(), **header, "totalAmountExcludingTax": 0.0, "totalTaxAmount": 0.0,
            "totalAmountIncludingTax": 0.0, "fullyShipped": False})
        try:
            for line in body.get("salesOrderLines") or []:
                self._insert_line(order, line)
        except BcError:
            self.tables = snapshot  # a deep insert is one transaction
            raise
        return self._total(order)

    def _insert_line(self, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        kind = body.get("lineType") or "Item"
        item = None
        if kind == "Item":
            if body.get("itemId"):
                item = self.tables["items"].get(str(body["itemId"]).lower())
            elif body.get("lineObjectNumber"):
                item = next((i for i in self.tables["items"].values() if i["number"] == body["lineObjectNumber"]), None)
            if item is None:
                raise BcError(400, "Internal_InvalidTableRelation", "The field No. of table Sales Line contains a value "
                              f"({body.get('lineObjectNumber') or body.get('itemId')}) that cannot be found in the "
                              "related table (Item).")
        elif kind != "Account" or not body.get("lineObjectNumber"):
            raise BcError(400, "Application_DialogException", f"Line type {kind} needs a lineObjectNumber.")
        tax_code = body.get("taxCode") or (item["taxGroupCode"] if item else "TAXABLE")
        if tax_code not in TAX_RATES:
            raise BcError(400, "Internal_InvalidTableRelation", f"The field Tax Group Code of table Sales Line contains a"
                          f" value ({tax_code}) that cannot be found in the related table (Tax Group).")
        sequence = 10000 * (1 + sum(1 for line in self.tables["salesOrderLines"].values()
                                    if line["documentId"] == order["id"]))
        quantity, price = Decimal(str(body.get("quantity") or 0)), Decimal(str(body.get("unitPrice") or 0))
        places = Decimal(1).scaleb(-CURRENCY_PLACES.get(order.get("currencyCode") or "USD", 2))
        amount = (quantity * price).quantize(places, ROUND_HALF_EVEN)
        tax = (amount * TAX_RATES[tax_code] / 100).quantize(places, ROUND_HALF_EVEN)
        return self._insert("salesOrderLines", {
            "documentId": order["id"], "sequence": sequence, "itemId": item["id"] if item else
            "00000000-0000-0000-0000-000000000000", "accountId": "00000000-0000-0000-0000-000000000000",
            "lineType": kind, "lineObjectNumber": item["number"] if item else body["lineObjectNumber"],
            "description": str(body.get("description") or (item["displayName"] if item else ""))[:100],
            "quantity": float(quantity), "unitPrice": float(price), "taxCode": tax_code,
            "amountExcludingTax": float(amount), "totalTaxAmount": float(tax), "amountIncludingTax": float(amount + tax),
            "shippedQuantity": 0.0, "invoicedQuantity": 0.0})

    def _total(self, order: dict[str, Any]) -> dict[str, Any]:
        lines = [line for line in self.tables["salesOrderLines"].values() if line["documentId"] == order["id"]]
        net = sum((Decimal(str(line["amountExcludingTax"])) for line in lines), Decimal(0))
        tax = sum((Decimal(str(line["totalTaxAmount"])) for line in lines), Decimal(0))
        return self._touch("salesOrders", order["id"], totalAmountExcludingTax=float(net), totalTaxAmount=float(tax),
                           totalAmountIncludingTax=float(net + tax))

    def _editable(self, order: dict[str, Any]) -> None:
        if order["status"] != "Draft":
            raise BcError(400, "Application_FieldValidationException", f"Status must be equal to 'Open'  in Sales "
                          f"Header: Document Type=Order, No.={order['number']}. Current value is 'Released'.")

    # -- webhook subscriptions (dynamics-subscriptions.md) -----------------------------------------
    def _subscription(self, method: str, key: str, body: Any, if_match: str | None) -> tuple[int, Any, dict[str, str]]:
        match = re.fullmatch(r"(?:\('([^']*)'\))?", key)
        if match is None:
            raise BcError(404, "BadRequest_NotFound", "Bad Request - Error in query syntax.")
        subscription_id, table = match.group(1), self.subscriptions
        if method == "GET" and subscription_id is None:
            return 200, {"value": [self._subscription_view(row) for row in table.values()]}, {}
        if method == "POST" and subscription_id is None:
            body = body if isinstance(body, dict) else {}
            if len(table) >= 200:
                raise BcError(400, "Application_DialogException", "The maximum number of subscriptions is 200.")
            self._handshake(str(body.get("notificationUrl") or ""))
            new = {"subscriptionId": uuid.uuid4().hex, "notificationUrl": body.get("notificationUrl"),
                   "resource": body.get("resource"), "clientState": str(body.get("clientState") or "")[:2048],
                   "userId": str(uuid.uuid4()), "_version": next(self._versions)}
            table[new["subscriptionId"]] = new
            self._expire_in_three_days(new)
            return 201, self._subscription_view(new), {}
        found = table.get(subscription_id or "")
        if found is None:
            raise BcError(404, "BadRequest_NotFound", f"The subscription '{subscription_id}' does not exist.")
        row = found
        if method == "GET":
            return 200, self._subscription_view(row), {}
        self._check_etag("subscriptions", {**row, "id": row["subscriptionId"]}, if_match)
        if method == "DELETE":
            del table[row["subscriptionId"]]
            return 204, None, {}
        self._handshake(str(row["notificationUrl"]))
        row.update({k: v for k, v in (body or {}).items() if k in ("clientState", "notificationUrl")},
                   _version=next(self._versions))
        self._expire_in_three_days(row)
        return 200, self._subscription_view(row), {}

    def _expire_in_three_days(self, row: dict[str, Any]) -> None:
        now = self.now()
        row["lastModifiedDateTime"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        row["expirationDateTime"] = (now + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _subscription_view(self, row: dict[str, Any]) -> dict[str, Any]:
        return {"@odata.etag": self.etag("subscriptions", {**row, "id": row["subscriptionId"]}),
                **{k: v for k, v in row.items() if not k.startswith("_")}}

    def _handshake(self, url: str) -> None:
        """BC calls notificationUrl?validationToken=... and registers only if the 200 body is the token."""
        token = secrets.token_urlsafe(16)
        if self.handshake(url, token) != token:
            raise BcError(400, "Application_DialogException", f"The notification URL '{url}' did not answer the "
                          "validation request with the validation token.")

    # -- $batch ------------------------------------------------------------------------------------
    def _batch(self, request: Request) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("requests"), list) or len(body["requests"]) > 100:
            raise BcError(400, "BadRequest", "Invalid batch request: at most 100 requests in 'requests'.")
        atomic = (request.headers.get("Isolation") or "").lower() == "snapshot"
        snapshot = copy.deepcopy(self.tables) if atomic else None
        responses, failed = [], False
        for inner in body["requests"]:
            url = urlsplit(str(inner.get("url") or ""))
            headers = {k.lower(): v for k, v in (inner.get("headers") or {}).items()}
            args = {k: v[0] for k, v in parse_qs(url.query).items()}
            try:
                status, payload, _ = self._dispatch(str(inner.get("method") or "GET").upper(), f"v2.0/{url.path}",
                                                    args, inner.get("body"), headers.get("if-match"), "",
                                                    request.base_url)
            except BcError as error:
                status, payload, failed = error.status, error.body(), True
            entry: dict[str, Any] = {"id": inner.get("id"), "status": status,
                                     "headers": {"content-type": "application/json; odata.metadata=minimal",
                                                 "odata-version": "4.0"} if payload is not None else {}}
            if payload is not None:
                entry["body"] = payload
            responses.append(entry)
        if failed and snapshot is not None:
            self.tables = snapshot
        return self.json({"responses": responses})


_GUID0 = "00000000-0000-0000-0000-000000000000"
# The documented salesOrder properties SyncHub does not set, with a fresh company's values.
_ORDER_DEFAULTS: dict[str, Any] = {
    "shipToContact": "", "shipToAddressLine1": "", "shipToAddressLine2": "", "shipToCity": "", "shipToCountry": "",
    "shipToState": "", "shipToPostCode": "", "sellToAddressLine1": "", "sellToAddressLine2": "", "sellToCity": "", "sellToCountry": "",
    "sellToState": "", "sellToPostCode": "", "billToAddressLine1": "", "billToAddressLine2": "", "billToCity": "",
    "billToCountry": "", "billToState": "", "billToPostCode": "", "shortcutDimension1Code": "",
    "shortcutDimension2Code": "", "currencyId": _GUID0, "paymentTermsId": _GUID0, "shipmentMethodId": _GUID0,
    "salesperson": "", "partialShipping": True, "requestedDeliveryDate": "0001-01-01", "discountAmount": 0,
    "discountAppliedBeforeTax": False, "phoneNumber": ""}
_FILTERABLE = {"id", "number", "externalDocumentNumber", "entryNumber", "itemNumber", "locationCode", "gtin", "type",
               "lastModifiedDateTime", "documentId", "status"}


def _handshake_over_http(url: str, token: str) -> str | None:
    import httpx

    try:
        answer = httpx.post(url, params={"validationToken": token}, timeout=5.0)
    except httpx.HTTPError:
        return None
    return answer.text if answer.status_code == 200 else None


def _key(key: str | None) -> str:
    return (key or "").strip("'").lower()


def _lengths(body: dict[str, Any]) -> None:
    for field, limit in CUSTOMER_LENGTHS.items():
        value = str(body.get(field) or "")
        if len(value) > limit:
            raise BcError(400, "Application_StringExceededLength", f"The length of the string is {len(value)}, but it "
                          f"must be less than or equal to {limit} characters. Value: {value}")


def create_app(client_id: str, client_secret: str, *, tenant: str = "synchub.onmicrosoft.com",
               environment: str = "production", catalog: Path | None = None, **options: Any) -> BusinessCentralSandbox:
    """A Business Central company seeded from the demo catalogue, answering to one Entra app registration."""
    return BusinessCentralSandbox(client_id, client_secret, tenant=tenant, environment=environment, catalog=catalog,
                                  **options)
