"""The OData query options the Business Central sandbox serves: `$filter` (eq ne gt ge lt le, and/or/not,
parentheses; string literals with doubled quotes, numbers, booleans, dates, GUIDs), `$orderby`, `$select`,
`$top`/`$skip`, and server-driven paging (`@odata.nextLink` with `$skiptoken`)."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<open>\()|(?P<close>\))|(?P<word>[^\s()]+))")
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}


class ODataError(ValueError):
    """A query option BC would refuse (BadRequest)."""


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ODataError(f"Syntax error at position {position} in '{text}'")
        kind = match.lastgroup or "word"
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _literal(kind: str, text: str) -> Any:
    if kind == "str":
        return text[1:-1].replace("''", "'")
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    try:
        return Decimal(text)
    except ArithmeticError:
        pass
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text  # a GUID or an enum member


def _compare(have: Any, op: str, want: Any) -> bool:
    if isinstance(want, Decimal) and have is not None and not isinstance(have, bool):
        have = Decimal(str(have))
    elif isinstance(want, dt.datetime) and isinstance(have, str):
        have = dt.datetime.fromisoformat(have.replace("Z", "+00:00"))
    elif isinstance(want, str) and isinstance(have, str):
        have, want = have.lower(), want.lower()  # BC compares Code and GUID values case-insensitively
    if op == "eq":
        return bool(have == want)
    if op == "ne":
        return bool(have != want)
    if have is None or want is None:
        return False
    return {"gt": have > want, "ge": have >= want, "lt": have < want, "le": have <= want}[op]


def parse_filter(text: str | None, fields: set[str]) -> Predicate:
    if not text:
        return lambda row: True
    tokens = _tokens(text)
    position = 0

    def peek() -> tuple[str, str] | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal position
        if position >= len(tokens):
            raise ODataError(f"Expression expected at position {len(text)} in '{text}'")
        position += 1
        return tokens[position - 1]

    def expression() -> Predicate:
        left = conjunction()
        while (token := peek()) and token[1].lower() == "or":
            take()
            right, first = conjunction(), left
            left = (lambda a, b: lambda row: a(row) or b(row))(first, right)
        return left

    def conjunction() -> Predicate:
        left = unary()
        while (token := peek()) and token[1].lower() == "and":
            take()
            right, first = unary(), left
            left = (lambda a, b: lambda row: a(row) and b(row))(first, right)
        return left

    def unary() -> Predicate:
        kind, value = take()
        if value.lower() == "not":
            inner = unary()
            return lambda row: not inner(row)
        if kind == "open":
            inner = expression()
            if take()[0] != "close":
                raise ODataError(f"')' expected in '{text}'")
            return inner
        field = value
        if field not in fields:
            raise ODataError(f"Could not find a property named '{field}' on type 'Microsoft.NAV.entity'.")
        _, op = take()
        if op.lower() not in _OPS:
            raise ODataError(f"Syntax error: operator '{op}' in '{text}'")
        want = _literal(*take())
        return lambda row: _compare(row.get(field), op.lower(), want)

    predicate = expression()
    if position != len(tokens):
        raise ODataError(f"Syntax error at position {position} in '{text}'")
    return predicate


def order_rows(rows: list[dict[str, Any]], orderby: str | None) -> list[dict[str, Any]]:
    for part in reversed([p.strip() for p in (orderby or "").split(",") if p.strip()]):
        field, _, direction = part.partition(" ")
        rows = sorted(rows, key=lambda row: (row.get(field) is None, row.get(field) if row.get(field) is not None
                                             else ""), reverse=direction.strip().lower() == "desc")
    return rows


def select(row: dict[str, Any], fields: str | None) -> dict[str, Any]:
    if not fields:
        return dict(row)
    wanted = {field.strip() for field in fields.split(",")}
    return {key: value for key, value in row.items() if key in wanted or key.startswith("@odata.")}


def split_expand(expand: str | None) -> dict[str, str | None]:
    """`salesOrderLines($select=a,b)` -> {"salesOrderLines": "a,b"}."""
    found: dict[str, str | None] = {}
    for match in re.finditer(r"(\w+)(?:\(\$select=([^)]*)\))?", expand or ""):
        found[match.group(1)] = match.group(2)
    return found
