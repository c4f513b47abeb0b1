"""The SuiteQL subset the NetSuite sandbox understands: exactly the query shapes the connector sends.

    SELECT col | TO_CHAR(col, 'YYYY-MM-DD HH24:MI:SS') AS alias [, ...] FROM table
    [WHERE cond [AND cond ...]] [ORDER BY col [ASC|DESC] [, ...]]
    cond: col (= | <> | != | < | <= | > | >=) value | col IN (value, ...)
    value: 'text' | number | TO_TIMESTAMP('...', 'YYYY-MM-DD HH24:MI:SS')

Anything else raises SuiteQLError, which the sandbox answers as NetSuite answers a query it cannot run (400
INVALID_PARAMETER, "Invalid search query"). Names are case-insensitive; result columns come back lower case.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

STAMP_FORMAT = "YYYY-MM-DD HH24:MI:SS"
STAMP = "%Y-%m-%d %H:%M:%S"
_TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<op><>|!=|<=|>=|[=<>(),*])"
                    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "<>": lambda a, b: a != b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


class SuiteQLError(Exception):
    pass


@dataclass(frozen=True)
class Column:
    name: str
    alias: str
    to_char: bool = False


@dataclass(frozen=True)
class Condition:
    column: str
    operator: str  # one of _OPS, or "in"
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Query:
    columns: tuple[Column, ...]
    table: str
    where: tuple[Condition, ...]
    order: tuple[tuple[str, bool], ...]  # (column, descending)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip().rstrip(";")
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise SuiteQLError(f"unexpected text at {position}: {text[position:position + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> str:
        return self.tokens[self.at][1].upper() if self.at < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.at >= len(self.tokens):
            raise SuiteQLError(f"query ends early{f', expected {expected}' if expected else ''}")
        token = self.tokens[self.at]
        if expected is not None and token[1].upper() != expected:
            raise SuiteQLError(f"expected {expected}, found {token[1]!r}")
        self.at += 1
        return token

    def word(self) -> str:
        kind, value = self.take()
        if kind != "word":
            raise SuiteQLError(f"expected a name, found {value!r}")
        return value.lower()

    def string(self) -> str:
        kind, value = self.take()
        if kind != "string":
            raise SuiteQLError(f"expected a quoted text, found {value!r}")
        return value[1:-1].replace("''", "'")

    def parse(self) -> Query:
        self.take("SELECT")
        columns = [self.column()]
        while self.peek() == ",":
            self.take(",")
            columns.append(self.column())
        self.take("FROM")
        table = self.word()
        where: list[Condition] = []
        if self.peek() == "WHERE":
            self.take("WHERE")
            where.append(self.condition())
            while self.peek() == "AND":
                self.take("AND")
                where.append(self.condition())
        order: list[tuple[str, bool]] = []
        if self.peek() == "ORDER":
            self.take("ORDER")
            self.take("BY")
            order.append(self.order_term())
            while self.peek() == ",":
                self.take(",")
                order.append(self.order_term())
        if self.at != len(self.tokens):
            raise SuiteQLError(f"unsupported clause at {self.tokens[self.at][1]!r}")
        return Query(tuple(columns), table, tuple(where), tuple(order))

    def column(self) -> Column:
        if self.peek() == "TO_CHAR":
            self.take()
            self.take("(")
            name = self.word()
            self.take(",")
            if self.string() != STAMP_FORMAT:
                raise SuiteQLError("TO_CHAR: only the format 'YYYY-MM-DD HH24:MI:SS' is supported")
            self.take(")")
            self.take("AS")
            return Column(name, self.word(), to_char=True)
        name = self.word()
        if self.peek() == "AS":
            self.take("AS")
            return Column(name, self.word())
        return Column(name, name)

    def condition(self) -> Condition:
        column = self.word()
        if self.peek() == "IN":
            self.take("IN")
            self.take("(")
            values = [self.value()]
            while self.peek() == ",":
                self.take(",")
                values.append(self.value())
            self.take(")")
            if len(values) > 1000:
                raise SuiteQLError("ORA-01795: maximum number of expressions in a list is 1000")
            return Condition(column, "in", tuple(values))
        _, operator = self.take()
        if operator not in _OPS:
            raise SuiteQLError(f"unsupported operator {operator!r}")
        return Condition(column, operator, (self.value(),))

    def value(self) -> Any:
        if self.peek() == "TO_TIMESTAMP":
            self.take()
            self.take("(")
            text = self.string()
            self.take(",")
            if self.string() != STAMP_FORMAT:
                raise SuiteQLError("TO_TIMESTAMP: only the format 'YYYY-MM-DD HH24:MI:SS' is supported")
            self.take(")")
            try:
                return dt.datetime.strptime(text, STAMP)
            except ValueError:
                raise SuiteQLError(f"TO_TIMESTAMP: {text!r} does not match the format") from None
        kind, value = self.take()
        if kind == "string":
            return value[1:-1].replace("''", "'")
        if kind == "number":
            return Decimal(value)
        raise SuiteQLError(f"expected a value, found {value!r}")

    def order_term(self) -> tuple[str, bool]:
        column = self.word()
        descending = False
        if self.peek() in ("ASC", "DESC"):
            descending = self.take()[1].upper() == "DESC"
        return column, descending


def parse(text: str) -> Query:
    return _Parser(text).parse()


def _comparable(have: Any, want: Any) -> tuple[Any, Any]:
    if isinstance(have, bool):  # SuiteQL's checkboxes compare as 'T' / 'F'
        return ("T" if have else "F"), want
    if isinstance(want, Decimal) and not isinstance(have, Decimal) and have is not None:
        try:
            return Decimal(str(have)), want
        except InvalidOperation:
            return str(have), str(want)
    if isinstance(want, str) and not isinstance(have, str) and have is not None:
        return str(have), want
    return have, want


def _matches(row: dict[str, Any], condition: Condition) -> bool:
    if condition.column not in row:
        raise SuiteQLError(f"field {condition.column!r} not found")
    have = row[condition.column]
    if have is None:
        return False
    if condition.operator == "in":
        return any(a == b for a, b in (_comparable(have, value) for value in condition.values))
    a, b = _comparable(have, condition.values[0])
    return _OPS[condition.operator](a, b)


def run(query: Query, tables: dict[str, Callable[[], Iterable[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """The query's rows (every page), as NetSuite returns them: lower-case keys, text values, nulls left out."""
    if query.table not in tables:
        raise SuiteQLError(f"Record '{query.table}' was not found.")
    rows = [row for row in tables[query.table]() if all(_matches(row, c) for c in query.where)]
    for name, descending in reversed(query.order):
        if rows and name not in rows[0]:
            raise SuiteQLError(f"field {name!r} not found")
        rows.sort(key=functools.partial(_ordering, name), reverse=descending)
    out = []
    for row in rows:
        item: dict[str, Any] = {"links": []}
        for column in query.columns:
            if column.name not in row:
                raise SuiteQLError(f"field {column.name!r} not found")
            value = row[column.name]
            if value is None:
                continue  # SuiteQL leaves null columns out of an item
            if column.to_char and isinstance(value, dt.datetime):
                value = value.strftime(STAMP)
            item[column.alias] = _text(value)
        out.append(item)
    return out


def _ordering(name: str, row: dict[str, Any]) -> tuple[bool, Any]:
    return row.get(name) is None, _sort_key(row.get(name))


def _sort_key(value: Any) -> Any:
    if isinstance(value, (int, float, Decimal)):
        return (0, Decimal(str(value)), "")
    if isinstance(value, dt.datetime):
        return (0, Decimal(value.timestamp()), "")
    return (1, Decimal(0), "" if value is None else str(value))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, float):
        return format(Decimal(str(value)).normalize(), "f")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime):
        return value.strftime("%-m/%-d/%Y")  # SuiteQL's default rendering of a date: the user's date format
    return str(value)
