"""Bulk query operations of the Shopify sandbox: validation as documented (one top-level connection, at most
five connections, two levels of nesting, `id` on the parent of a nested connection), the CREATED -> RUNNING ->
COMPLETED life cycle, the per-version concurrency limit, and the JSONL file with `__parentId` lines.
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
)

from infra.local.sandboxes.shopify_store import gid, now

MAX_CONNECTIONS = 5
MAX_NESTING = 2
ACTIVE = ("CREATED", "RUNNING")
CONCURRENCY_SINCE = "2026-01"  # five bulk queries at once from this version; one before


@dataclass
class BulkOp:
    id: int
    query: str
    group_objects: bool
    base_url: str
    version: str = "unstable"
    status: str = "CREATED"
    type: str = "QUERY"
    created_at: datetime = field(default_factory=now)
    completed_at: datetime | None = None
    error_code: str | None = None
    object_count: int = 0
    root_object_count: int = 0
    file: bytes | None = None
    token: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    reads: int = 0
    fail_with: str | None = None

    def url(self) -> str | None:
        if self.status != "COMPLETED":
            return None
        return f"{self.base_url}/_sandbox/bulk/{self.id}/{self.token}.jsonl"

    def graphql(self) -> dict[str, Any]:
        return {"id": gid("BulkOperation", self.id), "status": self.status, "type": self.type, "query": self.query,
                "errorCode": self.error_code, "createdAt": self.created_at, "completedAt": self.completed_at,
                "objectCount": self.object_count, "rootObjectCount": self.root_object_count,
                "fileSize": len(self.file) if self.file is not None else None, "url": self.url(),
                "partialDataUrl": None}


class BulkOperations:
    """The app's bulk operations in one shop. `run` executes a validated document in bulk mode."""

    def __init__(self, schema_for: Callable[[str], GraphQLSchema], run: Callable[[GraphQLSchema, DocumentNode], Any],
                 *, reads_to_complete: int = 2, concurrency: int | None = None) -> None:
        self._schema_for = schema_for
        self._run = run
        self.reads_to_complete = reads_to_complete
        self.concurrency = concurrency
        self.operations: dict[int, BulkOp] = {}
        self._next_id = 7_000_000_000
        self._fail_next: str | None = None

    def fail_next(self, error_code: str = "INTERNAL_SERVER_ERROR") -> None:
        self._fail_next = error_code

    # -- GraphQL entry points --------------------------------------------------------------------
    def run_query(self, query: str, group_objects: bool, version: str, base_url: str) -> dict[str, Any]:
        problem = self._invalid(query, version)
        if problem is not None:
            return {"bulkOperation": None, "userErrors": [{"code": "INVALID", "field": ["query"], "message": problem}]}
        limit = self.concurrency or (5 if version == "unstable" or version >= CONCURRENCY_SINCE else 1)
        active = [op for op in self.operations.values() if op.status in ACTIVE]
        if len(active) >= limit:
            if limit == 1:
                message = (f"A bulk query operation for this app and shop is already in progress: "
                           f"{gid('BulkOperation', active[0].id)}.")
                return {"bulkOperation": None,
                        "userErrors": [{"code": "OPERATION_IN_PROGRESS", "field": None, "message": message}]}
            return {"bulkOperation": None, "userErrors": [
                {"code": "LIMIT_REACHED", "field": None, "message": "Bulk operations limit reached. Please try again later."}]}
        self._next_id += 1
        op = BulkOp(self._next_id, query, group_objects, base_url, version, fail_with=self._fail_next)
        self._fail_next = None
        self.operations[op.id] = op
        return {"bulkOperation": op.graphql(), "userErrors": []}

    def current(self, type_: str = "QUERY") -> dict[str, Any] | None:
        mine = [op for op in self.operations.values() if op.type == type_]
        return self._observe(mine[-1]).graphql() if mine else None

    def get(self, number: int) -> dict[str, Any] | None:
        op = self.operations.get(number)
        return self._observe(op).graphql() if op else None

    def file(self, number: int, token: str) -> bytes | None:
        op = self.operations.get(number)
        if op is None or not secrets.compare_digest(op.token, token) or op.status != "COMPLETED":
            return None
        return op.file

    # -- life cycle --------------------------------------------------------------------------------
    def _observe(self, op: BulkOp) -> BulkOp:
        """Each status read moves an active operation one step on, so a poller sees every state."""
        if op.status not in ACTIVE:
            return op
        op.reads += 1
        if op.reads < self.reads_to_complete:
            op.status = "RUNNING"
            return op
        if op.fail_with:
            op.status, op.error_code = "FAILED", op.fail_with
            return op
        schema = self._schema_for(op.version)
        data = self._run(schema, parse(op.query))
        lines = flatten(schema, parse(op.query), data, op.group_objects)
        op.file = ("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines[0])).encode()
        op.object_count, op.root_object_count = len(lines[0]), lines[1]
        op.status, op.completed_at = "COMPLETED", now()
        return op

    def _invalid(self, query: str, version: str) -> str | None:
        try:
            document = parse(query)
        except GraphQLError as exc:
            return f"Invalid bulk query: {exc.message}"
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1 or operations[0].operation.value != "query":
            return "Bulk queries must contain exactly one query operation."
        schema = self._schema_for(version)
        errors = validate(schema, document)
        if errors:
            return f"Invalid bulk query: {errors[0].message}"
        roots = [s for s in operations[0].selection_set.selections if isinstance(s, FieldNode)]
        if len(roots) != 1:
            return "Bulk queries must contain exactly one top-level field."
        if roots[0].name.value in ("node", "nodes"):
            return "Bulk queries cannot contain top level `node` or `nodes` fields."
        assert schema.query_type is not None  # the SDL declares `type Query`
        definition = schema.query_type.fields[roots[0].name.value]
        if not get_named_type(definition.type).name.endswith("Connection"):
            return "Bulk queries must contain at least one connection."
        count = _connections(schema, roots[0], definition, 0)
        if isinstance(count, str):
            return count
        if count > MAX_CONNECTIONS:
            return f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections."
        return None


def _connections(schema: GraphQLSchema, node: FieldNode, definition: Any, depth: int) -> int | str:
    """Count connections under `node`, checking nesting depth and `id` on parents of nested connections."""
    named = get_named_type(definition.type)
    if is_leaf_type(named) or node.selection_set is None:
        return 0
    is_connection = named.name.endswith("Connection")
    if is_connection and depth >= MAX_NESTING:
        return f"Bulk queries cannot contain connections with a nesting depth greater than {MAX_NESTING}."
    total = 1 if is_connection else 0
    for child in _fields(node):
        child_def = named.fields.get(child.name.value)
        if child_def is None:
            continue
        if is_connection and child.name.value in ("edges", "nodes"):
            node_field = child if child.name.value == "nodes" else next(
                (f for f in _fields(child) if f.name.value == "node"), None)
            if node_field is None:
                continue
            node_type = get_named_type(named.fields["nodes"].type)
            has_id = any(f.name.value == "id" and f.alias is None for f in _fields(node_field))
            for inner in _fields(node_field):
                inner_def = node_type.fields.get(inner.name.value)
                if inner_def is None:
                    continue
                nested = _connections(schema, inner, inner_def, depth + 1)
                if isinstance(nested, str):
                    return nested
                if nested and not has_id:
                    return ("The parent 'node' field for a nested connection must select the 'id' field without an "
                            f"alias and must be of 'Node' type. Connection field: '{inner.name.value}'")
                total += nested
        elif not is_connection:
            nested = _connections(schema, child, child_def, depth)
            if isinstance(nested, str):
                return nested
            total += nested
    return total


def _fields(node: FieldNode) -> list[FieldNode]:
    return [s for s in (node.selection_set.selections if node.selection_set else ()) if isinstance(s, FieldNode)]


# -- JSONL ----------------------------------------------------------------------------------------------
def flatten(schema: GraphQLSchema, document: DocumentNode, data: dict[str, Any],
            group_objects: bool) -> tuple[list[dict[str, Any]], int]:
    """Every connection node on its own line; nested ones carry `__parentId` (the enclosing node's id)."""
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    root = next(s for s in operation.selection_set.selections if isinstance(s, FieldNode))
    assert schema.query_type is not None  # the SDL declares `type Query`
    plan = _plan(schema.query_type.fields[root.name.value], root)
    roots = _nodes(data.get(_key(root)), plan[2])
    grouped: list[dict[str, Any]] = []
    parents: list[dict[str, Any]] = []
    children: list[dict[str, Any]] = []

    def emit(value: dict[str, Any], sub: dict[str, Any], parent: str | None, out: list[dict[str, Any]]) -> None:
        found: list[tuple[dict[str, Any], list[Any]]] = []
        line = _strip(value, sub, found)
        if parent is not None:
            line["__parentId"] = parent
        out.append(line)
        for child_plan, nodes in found:
            for child in nodes:
                emit(child, child_plan, value.get("id"), grouped if group_objects else children)

    for value in roots:
        emit(value, plan[1], None, grouped if group_objects else parents)
    lines = grouped if group_objects else parents + children
    return lines, len(roots)


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def _plan(definition: Any, node: FieldNode) -> tuple[str, dict[str, Any], tuple[str, ...]]:
    """("conn", node plan, path to the nodes) or ("obj", plan); plans keep only keys leading to connections."""
    named = get_named_type(definition.type)
    if named.name.endswith("Connection"):
        node_type = get_named_type(named.fields["nodes"].type)
        for child in _fields(node):
            if child.name.value == "nodes":
                return "conn", _object_plan(node_type, child), (_key(child),)
            if child.name.value == "edges":
                inner = next(f for f in _fields(child) if f.name.value == "node")
                return "conn", _object_plan(node_type, inner), (_key(child), _key(inner))
        return "conn", {}, ()
    return "obj", _object_plan(named, node), ()


def _object_plan(named: Any, node: FieldNode) -> dict[str, Any]:
    plan: dict[str, Any] = {}
    for child in _fields(node):
        definition = named.fields.get(child.name.value)
        if definition is None or is_leaf_type(get_named_type(definition.type)):
            continue
        entry = _plan(definition, child)
        if entry[0] == "conn" or entry[1]:
            plan[_key(child)] = entry
    return plan


def _nodes(value: Any, path: tuple[str, ...]) -> list[Any]:
    if value is None or not path:
        return []
    items = value.get(path[0]) or []
    return [item.get(path[1]) for item in items] if len(path) == 2 else list(items)


def _strip(value: dict[str, Any], plan: dict[str, Any], found: list[tuple[dict[str, Any], list[Any]]]) -> dict[str, Any]:
    if not plan:
        return dict(value)
    line = dict(value)
    for key, (kind, sub, path) in plan.items():
        inner = value.get(key)
        if inner is None:
            continue
        if kind == "conn":
            del line[key]
            found.append((sub, _nodes(inner, path)))
        elif isinstance(inner, list):
            line[key] = [_strip(item, sub, found) for item in inner]
        else:
            line[key] = _strip(inner, sub, found)
    return line
