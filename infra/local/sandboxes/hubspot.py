"""HubSpot CRM sandbox: a werkzeug WSGI app following HubSpot's documented CRM v3/v4 contract.

Contacts, deals and line items; single and batch-upsert writes; search; the properties API with
hasUniqueValue; v4 default associations; bearer auth; the ten-secondly rolling rate limit with its
headers and 429 body; fault injection (outage, fail_next) and inspection for tests and local mode.
Built on the sandbox kit; the property model, associations, error bodies and search language live in the
`hubspot_properties`, `hubspot_associations`, `hubspot_errors` and `hubspot_search` modules.
"""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from infra.local.sandboxes import hubspot_properties as schema
from infra.local.sandboxes import hubspot_search as search
from infra.local.sandboxes.hubspot_associations import Associations, default_labels, has_default_type
from infra.local.sandboxes.hubspot_errors import ApiError, rate_limited, timestamp, unauthorised, validation
from infra.local.sandboxes.kit import Fault, FixedWindow, RateHeaders, RateLimiter, RollingWindow, Sandbox, json_object

OBJECT_TYPES = {"contacts": "contacts", "contact": "contacts", "0-1": "contacts",
                "deals": "deals", "deal": "deals", "0-3": "deals",
                "line_items": "line_items", "line_item": "line_items", "0-8": "line_items"}
BATCH_LIMIT = 100
SEARCH_PAGE_LIMIT = 200
SEARCH_RESULT_CAP = 10_000
MAX_FILTER_GROUPS, MAX_FILTERS_PER_GROUP = 5, 6
WINDOW_MS = 10_000
DAY_SECONDS = 86_400


class HubSpotSandbox(Sandbox):
    """The WSGI app. Every state change happens under the kit's lock: local mode serves it threaded."""

    ROUTES: ClassVar[list[Rule]] = [
        Rule("/crm/v3/objects/<kind>", methods=["GET", "POST"], endpoint="collection"),
        Rule("/crm/v3/objects/<kind>/batch/upsert", methods=["POST"], endpoint="batch_upsert"),
        Rule("/crm/v3/objects/<kind>/search", methods=["POST"], endpoint="search"),
        Rule("/crm/v3/objects/<kind>/<object_id>", methods=["GET", "PATCH"], endpoint="record"),
        Rule("/crm/v3/properties/<kind>", methods=["GET", "POST"], endpoint="properties"),
        Rule("/crm/v3/properties/<kind>/<name>", methods=["GET"], endpoint="property"),
        Rule("/crm/v4/objects/<kind>/<object_id>/associations/default/<to_kind>/<to_id>", methods=["PUT"],
             endpoint="associate_default"),
        Rule("/crm/v4/associations/<kind>/<to_kind>/batch/associate/default", methods=["POST"],
             endpoint="batch_associate_default"),
        Rule("/crm/v4/associations/<kind>/<to_kind>/labels", methods=["GET"], endpoint="labels"),
        Rule("/crm/v4/objects/<kind>/<object_id>/associations/<to_kind>", methods=["GET"],
             endpoint="associations"),
        Rule("/_sandbox/objects/<kind>", methods=["GET"], endpoint="inspect"),
    ]
    JSON_CONTENT_TYPE = "application/json;charset=utf-8"
    JSON_OPTIONS: ClassVar[Mapping[str, Any]] = {"ensure_ascii": False}

    def __init__(self, token: str, requests_per_10s: int, daily_limit: int, search_requests_per_second: int,
                 clock: Callable[[], float]) -> None:
        super().__init__(clock=clock)
        self.token = token
        self.ten_secondly = RollingWindow(
            "TEN_SECONDLY_ROLLING", requests_per_10s, WINDOW_MS / 1000, headers=RateHeaders(
                "X-HubSpot-RateLimit-Max", "X-HubSpot-RateLimit-Remaining", "X-HubSpot-RateLimit-Interval-Milliseconds"))
        self.limiter = RateLimiter(clock, [
            FixedWindow("DAILY", daily_limit, DAY_SECONDS, headers=RateHeaders(
                "X-HubSpot-RateLimit-Daily", "X-HubSpot-RateLimit-Daily-Remaining")),
            self.ten_secondly,
            RollingWindow("SECONDLY", search_requests_per_second, 1.0, endpoints={"search"}),
        ])
        self._records: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in schema.DEFAULT_PROPERTIES}
        self._properties = schema.builtin_properties()
        self._associations = Associations()
        self._next_id = 1001
        # (object type, unique property) -> normalised value -> record id: a portal of 10,000 deals answers
        # a 100-input batch upsert without scanning every record per input (the flash-sale benchmark).
        self._unique: dict[tuple[str, str], dict[str, str]] = {}
        self._refused: dict[tuple[str, str], tuple[str, str]] = {}  # (type, id value) -> (category, code)

    @property
    def requests_per_10s(self) -> int:
        return self.ten_secondly.limit

    @requests_per_10s.setter
    def requests_per_10s(self, limit: int) -> None:  # benchmarks lift the limit on a running sandbox
        self.ten_secondly.limit = limit

    # ----- per-input faults ---------------------------------------------------------------------
    def refuse_input(self, kind: str, id_value: str, *, category: str = "VALIDATION_ERROR",
                     code: str = "INVALID_OPTION") -> None:
        """Batch writes of this input (by its idProperty value) fail alone with a per-input error, the rest
        of the batch succeeding: HubSpot's 207 Multi-Status. INTERNAL_ERROR makes it a retryable one."""
        with self._lock:
            self._refused[(self._kind(kind), id_value)] = (category, code)

    def accept_input(self, kind: str, id_value: str) -> None:
        with self._lock:
            self._refused.pop((self._kind(kind), id_value), None)

    # ----- inspection ---------------------------------------------------------------------------
    def objects(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(json.dumps(r)) for r in self._records[self._kind(kind)].values()]

    def associated_ids(self, kind: str, object_id: str, to_kind: str) -> list[str]:
        with self._lock:
            return self._associations.ids(self._kind(kind), str(object_id), self._kind(to_kind))

    def property_definitions(self, kind: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            return json.loads(json.dumps(self._properties[self._kind(kind)]))

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {**super().state(), "objects": {kind: len(records) for kind, records in self._records.items()},
                    "associations": len(self._associations)}

    def _on_inspect(self, request: Request, kind: str) -> Response:
        if not self._authorised(request):
            return self.error_response(unauthorised())
        return self.json({"results": self.objects(kind)}, 200)

    # ----- the kit's hooks: HubSpot's wire conventions ----------------------------------------------
    def no_route(self, exc: HTTPException) -> Response:
        return self.json({"status": "error", "message": exc.description or exc.name,
                          "correlationId": str(uuid.uuid4()), "category": "OBJECT_NOT_FOUND"}, exc.code or 404)

    def gate(self, request: Request, endpoint: str) -> Response | None:
        if (fault := self.fault_answer()) is not None:
            return fault
        if not self._authorised(request):
            return self.error_response(unauthorised())
        assert self.limiter is not None
        if (refused := self.limiter.admit(endpoint)) is not None:
            return self.json(rate_limited(refused.name).body(), 429, self.limiter.headers())
        return None

    def serve(self, request: Request, endpoint: str, args: dict[str, Any]) -> Response:
        kind = self._kind(args.pop("kind"))
        if "to_kind" in args:
            args["to_kind"] = self._kind(args["to_kind"])
        body = json_object(request)
        if request.method in ("POST", "PATCH") and body is None:
            raise ApiError(400, "VALIDATION_ERROR", "Invalid input JSON on line 1, column 1")
        status, payload = getattr(self, f"_on_{endpoint}")(request, kind, body, **args)
        return self.json(payload, status)

    def fault_response(self, fault: Fault) -> Response:
        if fault.status == 429:
            assert self.limiter is not None
            return self.json(rate_limited("TEN_SECONDLY_ROLLING").body(), 429,
                             {**fault.headers(), **self.limiter.headers()})
        category = "INTERNAL_ERROR" if fault.status >= 500 else "VALIDATION_ERROR"
        return self.json(ApiError(fault.status, category, "The service is temporarily unavailable.").body(),
                         fault.status, fault.headers())

    def _authorised(self, request: Request) -> bool:
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and credential == self.token

    # ----- objects ------------------------------------------------------------------------------
    @staticmethod
    def _kind(kind: str) -> str:
        if kind not in OBJECT_TYPES:
            raise ApiError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {kind}")
        return OBJECT_TYPES[kind]

    def _unique_key(self, kind: str, name: str, value: str) -> str:
        return value.strip().lower() if name == "email" else value

    def _find(self, kind: str, name: str, value: str) -> dict[str, Any] | None:
        if name == "hs_object_id":
            return self._records[kind].get(value)
        wanted = self._unique_key(kind, name, value)
        index = self._unique_index(kind, name)
        if index is not None:
            found = index.get(wanted)
            return self._records[kind].get(found) if found else None
        return next((r for r in self._records[kind].values()
                     if self._unique_key(kind, name, r["properties"].get(name) or "") == wanted), None)

    def _unique_index(self, kind: str, name: str) -> dict[str, str] | None:
        """The value index of a unique property (built on first use), None for other properties."""
        definition = self._properties[kind].get(name)
        if not definition or not definition["hasUniqueValue"]:
            return None
        if (kind, name) not in self._unique:
            self._unique[(kind, name)] = {self._unique_key(kind, name, r["properties"][name]): r["id"]
                                          for r in self._records[kind].values() if r["properties"].get(name)}
        return self._unique[(kind, name)]

    def _invalid(self, kind: str, properties: dict[str, Any], own_id: str | None = None) -> list[dict[str, Any]]:
        """HubSpot's per-property validation details; empty when every value is acceptable."""
        problems = []
        for name, raw in properties.items():
            definition, value = self._properties[kind].get(name), search.as_text(raw)
            problem = schema.value_problem(name, definition, value)
            if (problem is None and value and definition and definition["hasUniqueValue"]
                    and (other := self._find(kind, name, value)) and other["id"] != own_id):
                problem = ("UNIQUE_VALUE_ALREADY_EXISTS", f"{value} already has that value. Existing ID: {other['id']}")
            if problem:
                code, message = problem
                problems.append({"message": message, "code": code, "context": {"propertyName": [name]}})
        return problems

    def _write(self, kind: str, record: dict[str, Any] | None, properties: dict[str, Any]) -> dict[str, Any]:
        now = timestamp()
        if record is None:
            object_id = str(self._next_id)
            self._next_id += 1
            record = {"id": object_id, "properties": {"hs_object_id": object_id, "createdate": now},
                      "createdAt": now, "updatedAt": now, "archived": False}
            self._records[kind][object_id] = record
        for name, raw in properties.items():
            value = search.as_text(raw)
            index = self._unique.get((kind, name))
            if index is not None and (old := record["properties"].get(name)):
                index.pop(self._unique_key(kind, name, old), None)
            record["properties"][name] = value.strip().lower() if name == "email" else value
            if index is not None and value:
                index[self._unique_key(kind, name, value)] = record["id"]
        record["properties"][schema.MODIFIED[kind]] = now
        record["updatedAt"] = now
        return record

    def _view(self, kind: str, record: dict[str, Any], wanted: Iterable[str] | None = None) -> dict[str, Any]:
        names = list(wanted) if wanted else list(schema.DEFAULT_PROPERTIES[kind])
        names += [n for n in ("hs_object_id", "createdate", schema.MODIFIED[kind]) if n not in names]
        return {"id": record["id"], "properties": {n: record["properties"].get(n) for n in names},
                "createdAt": record["createdAt"], "updatedAt": record["updatedAt"], "archived": False}

    def _on_collection(self, request: Request, kind: str, body: Any) -> tuple[int, Any]:
        if request.method == "GET":
            limit, after = min(int(request.args.get("limit", 10)), 100), int(request.args.get("after", 0) or 0)
            records = sorted(self._records[kind].values(), key=lambda r: int(r["id"]))
            page = [self._view(kind, r, self._wanted(request)) for r in records if int(r["id"]) > after][:limit]
            more = page and any(int(r["id"]) > int(page[-1]["id"]) for r in records)
            return 200, {"results": page, **({"paging": {"next": {"after": page[-1]["id"]}}} if more else {})}
        properties = body.get("properties") or {}
        if not isinstance(properties, dict):
            raise ApiError(400, "VALIDATION_ERROR", "properties must be an object")
        for name, definition in self._properties[kind].items():
            value = search.as_text(properties.get(name))
            if definition["hasUniqueValue"] and value and (existing := self._find(kind, name, value)):
                label = {"contacts": "Contact", "deals": "Deal", "line_items": "Line item"}[kind]
                raise ApiError(409, "CONFLICT", f"{label} already exists. Existing ID: {existing['id']}")
        if problems := self._invalid(kind, properties):
            raise validation(problems)
        return 201, self._view(kind, self._write(kind, None, properties), properties.keys())

    @staticmethod
    def _wanted(request: Request) -> list[str] | None:
        names = [n for value in request.args.getlist("properties") for n in value.split(",") if n]
        return names or None

    def _on_record(self, request: Request, kind: str, body: Any, object_id: str) -> tuple[int, Any]:
        id_property = request.args.get("idProperty") or "hs_object_id"
        record = self._find(kind, id_property, object_id)
        if record is None:
            raise ApiError(404, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.")
        if request.method == "GET":
            return 200, self._view(kind, record, self._wanted(request))
        properties = body.get("properties") or {}
        if problems := self._invalid(kind, properties, own_id=record["id"]):
            raise validation(problems)
        return 200, self._view(kind, self._write(kind, record, properties), properties.keys())

    def _on_batch_upsert(self, request: Request, kind: str, body: Any) -> tuple[int, Any]:
        started, inputs = timestamp(), body.get("inputs")
        if not isinstance(inputs, list):
            raise ApiError(400, "VALIDATION_ERROR", "Invalid input JSON: inputs must be an array")
        if len(inputs) > BATCH_LIMIT:
            raise ApiError(400, "VALIDATION_ERROR", f"Batch input limit exceeded: {len(inputs)} inputs were "
                           f"provided but the limit is {BATCH_LIMIT}.", context={"limit": [str(BATCH_LIMIT)]})
        seen: set[str] = set()
        for item in inputs:
            id_property = item.get("idProperty")
            definition = self._properties[kind].get(id_property or "")
            if not definition or not definition["hasUniqueValue"] or id_property == "hs_object_id":
                raise ApiError(400, "VALIDATION_ERROR", f"idProperty {id_property} is not a unique property; "
                               "upsert requires a property with hasUniqueValue.")
            key = self._unique_key(kind, id_property, search.as_text(item.get("id")))
            if key in seen:
                raise ApiError(400, "VALIDATION_ERROR", "Duplicate IDs found in batch input.")
            seen.add(key)
        results, errors = [], []
        for item in inputs:
            id_property, object_key = item["idProperty"], search.as_text(item.get("id"))
            properties = {**(item.get("properties") or {}), id_property: object_key}
            existing = self._find(kind, id_property, object_key) if object_key else None
            problems = self._invalid(kind, properties, own_id=existing["id"] if existing else None)
            if not object_key:
                problems.append({"message": "id must not be empty", "code": "MISSING_ID",
                                 "context": {"propertyName": [id_property]}})
            trace = item.get("objectWriteTraceId")
            context = {"ids": [object_key], **({"objectWriteTraceId": [trace]} if trace else {})}
            if (refused := self._refused.get((kind, object_key))) is not None:
                category, code = refused
                errors.append({"status": "error", "category": category, "context": context,
                               "message": f"The input {object_key} was refused ({code}).",
                               "errors": [{"message": f"refused: {code}", "code": code}]})
                continue
            if problems:
                errors.append({**validation(problems).body(), "context": context})
                continue
            record = self._write(kind, existing, properties)
            result = {**self._view(kind, record, properties.keys()), "new": existing is None}
            if trace:
                result["objectWriteTraceId"] = trace
            results.append(result)
        for error in errors:
            error.pop("correlationId", None)
        payload: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started,
                                   "completedAt": timestamp()}
        if errors:
            payload.update(errors=errors, numErrors=len(errors))
        return (207 if errors else 200), payload

    # ----- search -------------------------------------------------------------------------------
    def _on_search(self, request: Request, kind: str, body: Any) -> tuple[int, Any]:
        groups = body.get("filterGroups") or []
        limit, after = body.get("limit", 10), int(body.get("after") or 0)
        if not isinstance(limit, int) or not 0 < limit <= SEARCH_PAGE_LIMIT:
            raise ApiError(400, "VALIDATION_ERROR", f"limit must be between 1 and {SEARCH_PAGE_LIMIT}")
        if after >= SEARCH_RESULT_CAP:
            raise ApiError(400, "VALIDATION_ERROR", f"The search API returns at most {SEARCH_RESULT_CAP} results "
                           "for a query; narrow the filters instead of paging further.")
        if len(groups) > MAX_FILTER_GROUPS or any(len(g.get("filters") or []) > MAX_FILTERS_PER_GROUP
                                                  for g in groups):
            raise ApiError(400, "VALIDATION_ERROR", f"At most {MAX_FILTER_GROUPS} filterGroups with "
                           f"{MAX_FILTERS_PER_GROUP} filters each are allowed.")
        for group in groups:
            for condition in group.get("filters") or []:
                if condition.get("propertyName") not in self._properties[kind]:
                    raise ApiError(400, "VALIDATION_ERROR",
                                   f"There was a problem with the request: unknown property "
                                   f"{condition.get('propertyName')}")
        try:
            matches = search.sorted_matches(self._records[kind].values(), groups, body.get("sorts") or [])
        except search.UnsupportedOperator as error:
            raise ApiError(400, "VALIDATION_ERROR", str(error)) from None
        visible = matches[:SEARCH_RESULT_CAP]
        page = visible[after:after + limit]
        payload: dict[str, Any] = {"total": len(matches),
                                   "results": [self._view(kind, r, body.get("properties")) for r in page]}
        if after + limit < len(visible):
            payload["paging"] = {"next": {"after": str(after + limit), "link": f"?after={after + limit}"}}
        return 200, payload

    # ----- properties ---------------------------------------------------------------------------
    def _on_properties(self, request: Request, kind: str, body: Any) -> tuple[int, Any]:
        if request.method == "GET":
            return 200, {"results": list(self._properties[kind].values())}
        name = body.get("name") or ""
        missing = [f for f in ("name", "label", "type", "fieldType", "groupName") if not body.get(f)]
        if missing or not schema.PROPERTY_NAME.match(name):
            raise ApiError(400, "VALIDATION_ERROR", f"Invalid property definition: missing {missing} or bad name")
        if name in self._properties[kind]:
            raise ApiError(409, "OBJECT_ALREADY_EXISTS", f"A property named '{name}' already exists.")
        definition = {**schema.definition(name, body["type"], body["fieldType"], unique=bool(body.get("hasUniqueValue")),
                                    group=body["groupName"]),
                      "label": body["label"], "description": body.get("description", ""), "hubspotDefined": False,
                      "createdAt": timestamp(), "updatedAt": timestamp()}
        self._properties[kind][name] = definition
        return 201, definition

    def _on_property(self, request: Request, kind: str, body: Any, name: str) -> tuple[int, Any]:
        if name not in self._properties[kind]:
            raise ApiError(404, "OBJECT_NOT_FOUND", f"Unable to find property {name} for object type {kind}")
        return 200, self._properties[kind][name]

    # ----- associations v4 ----------------------------------------------------------------------
    def _associate(self, kind: str, object_id: str, to_kind: str, to_id: str) -> list[dict[str, Any]]:
        if not has_default_type(kind, to_kind):
            raise ApiError(400, "VALIDATION_ERROR", f"No default association from {kind} to {to_kind}")
        for k, i in ((kind, object_id), (to_kind, to_id)):
            if i not in self._records[k]:
                raise ApiError(404, "OBJECT_NOT_FOUND", f"No {k} with ID {i} exists")
        return self._associations.link(kind, object_id, to_kind, to_id)

    def _on_associate_default(self, request: Request, kind: str, body: Any, object_id: str, to_kind: str,
                           to_id: str) -> tuple[int, Any]:
        started = timestamp()
        results = self._associate(kind, object_id, to_kind, to_id)
        return 200, {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": timestamp()}

    def _on_batch_associate_default(self, request: Request, kind: str, body: Any, to_kind: str) -> tuple[int, Any]:
        started, results, errors = timestamp(), [], []
        for item in body.get("inputs") or []:
            try:
                results += self._associate(kind, str(item["from"]["id"]), to_kind, str(item["to"]["id"]))
            except ApiError as exc:
                errors.append({**exc.body(), "context": {"fromId": [str(item["from"]["id"])]}})
            except (KeyError, TypeError):
                raise ApiError(400, "VALIDATION_ERROR", "each input needs from.id and to.id") from None
        payload: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started,
                                   "completedAt": timestamp()}
        if errors:
            payload.update(errors=errors, numErrors=len(errors))
        return (207 if errors else 200), payload

    def _on_labels(self, request: Request, kind: str, body: Any, to_kind: str) -> tuple[int, Any]:
        return 200, {"results": default_labels(kind, to_kind)}

    def _on_associations(self, request: Request, kind: str, body: Any, object_id: str, to_kind: str) -> tuple[int, Any]:
        if object_id not in self._records[kind]:
            raise ApiError(404, "OBJECT_NOT_FOUND", f"No {kind} with ID {object_id} exists")
        return 200, {"results": self._associations.targets(kind, object_id, to_kind)}


def create_app(token: str, requests_per_10s: int = 100, daily_limit: int = 250_000,
               clock: Callable[[], float] = time.monotonic, *, search_requests_per_second: int = 5) -> HubSpotSandbox:
    """A fresh, empty HubSpot portal answering to `token` with the given rate limits."""
    return HubSpotSandbox(token, requests_per_10s, daily_limit, search_requests_per_second, clock)
