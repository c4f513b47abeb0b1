"""The HubSpot sandbox's search language: filterGroups (OR of ANDed filters) and sorts, as HubSpot
documents them (EQ, NEQ, IN, NOT_IN, GT/GTE/LT/LTE, BETWEEN, HAS_PROPERTY, NOT_HAS_PROPERTY,
CONTAINS_TOKEN; numbers and dates compare as values, text without case)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

_Ordered = TypeVar("_Ordered", Decimal, str)


class UnsupportedOperator(ValueError):
    pass


def number(value: str) -> Decimal | None:
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def instant(value: str) -> Decimal | None:
    """Epoch milliseconds of an epoch-ms string, an ISO date or an ISO datetime."""
    if (value_number := number(value)) is not None:
        return value_number
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return Decimal(int(parsed.timestamp() * 1000))


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sorted_matches(records: Iterable[dict[str, Any]], groups: list[dict[str, Any]],
                   sorts: list[Any]) -> list[dict[str, Any]]:
    """Records matching any group (all of its filters), by id, then by each sort; empty values last."""
    found = [r for r in records if not groups or any(all(matches(r, c) for c in g.get("filters") or [])
                                                     for g in groups)]
    found.sort(key=lambda r: int(r["id"]))
    for sort in reversed(sorts):
        name = sort if isinstance(sort, str) else sort.get("propertyName")
        descending = isinstance(sort, dict) and sort.get("direction") == "DESCENDING"
        if isinstance(sort, str) and name.startswith("-"):
            name, descending = name[1:], True
        present = [r for r in found if r["properties"].get(name) not in (None, "")]
        absent = [r for r in found if r["properties"].get(name) in (None, "")]
        present.sort(key=lambda r: _sort_key(r["properties"][name]), reverse=descending)
        found = present + absent
    return found


def _sort_key(value: str) -> tuple:
    moment = instant(value)
    return (0, moment, "") if moment is not None else (1, Decimal(0), value.lower())


def matches(record: dict[str, Any], condition: dict[str, Any]) -> bool:
    operator, actual = condition.get("operator", "EQ"), record["properties"].get(condition["propertyName"])
    present = actual not in (None, "")
    if operator == "HAS_PROPERTY":
        return present
    if operator == "NOT_HAS_PROPERTY":
        return not present
    if operator in ("IN", "NOT_IN"):
        wanted = {as_text(v).lower() for v in condition.get("values") or []}
        return ((actual or "").lower() in wanted) == (operator == "IN") and (present or operator == "NOT_IN")
    expected = as_text(condition.get("value"))
    if operator == "CONTAINS_TOKEN":
        token = expected.lower().strip("*")
        return present and token in (actual or "").lower()
    if operator == "NEQ":
        return not present or not _equal(actual, expected)
    if not present:
        return False
    if operator == "EQ":
        return _equal(actual, expected)
    left, right = instant(actual), instant(expected)
    if operator == "BETWEEN":
        high = instant(as_text(condition.get("highValue")))
        return left is not None and right is not None and high is not None and right <= left <= high
    if left is None or right is None:
        comparisons = _comparisons(actual.lower(), expected.lower())
    else:
        comparisons = _comparisons(left, right)
    if operator not in comparisons:
        raise UnsupportedOperator(f"Unsupported filter operator {operator}")
    return comparisons[operator]


def _comparisons(left: _Ordered, right: _Ordered) -> dict[str, bool]:
    """GT/GTE/LT/LTE of two values of one kind: both numbers (or instants), or both lower-case text."""
    return {"GT": left > right, "GTE": left >= right, "LT": left < right, "LTE": left <= right}


def _equal(actual: str, expected: str) -> bool:
    left, right = number(actual), number(expected)
    if left is not None and right is not None:
        return left == right
    return actual.strip().lower() == expected.strip().lower()
