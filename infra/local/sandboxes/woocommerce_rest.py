"""WordPress REST conventions the WooCommerce sandbox follows: the WP_Error body, parameter errors,
site dates, money fields and paginated listings."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request

from infra.local.sandboxes.kit import VendorError

MAX_PER_PAGE = 100


class ApiError(VendorError):
    """A WP_Error as the REST server renders it."""

    def __init__(self, status: int, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}


def invalid_param(name: str, why: str) -> ApiError:
    return ApiError(400, "rest_invalid_param", f"Invalid parameter(s): {name}", params={name: why})


def site_now() -> tuple[str, str]:
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()
    return now, now  # the site runs on UTC: local and _gmt dates agree


def money(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value or "0"))
    except InvalidOperation:
        raise invalid_param(field, f"{field} is not of type string.") from None


def int_arg(args: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(args.get(name, default))
    except ValueError:
        raise invalid_param(name, f"{name} is not of type integer.") from None


def listing(request: Request, records: list[dict[str, Any]], *, default_orderby: str,
         default_order: str) -> tuple[list[dict[str, Any]], int, dict[str, str]]:
    """A WordPress listing: one page of `records` (per_page, page, orderby, order, _fields), with X-WP-Total,
    X-WP-TotalPages and Link headers, as (body, status, headers)."""
    args = request.args
    per_page, page = int_arg(args, "per_page", 10), int_arg(args, "page", 1)
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise invalid_param("per_page",
                            f"per_page must be between 1 (inclusive) and {MAX_PER_PAGE} (inclusive)")
    if page < 1:
        raise invalid_param("page", "page must be greater than or equal to 1")
    orderby, order = args.get("orderby", default_orderby), args.get("order", default_order)
    if order not in ("asc", "desc"):
        raise invalid_param("order", "order is not one of asc and desc.")
    # Ids grow with creation time, so they break ties between records created in the same second.
    keys = {"id": lambda r: r["id"], "date": lambda r: (r.get("date_created_gmt", ""), r["id"]),
            "modified": lambda r: (r.get("date_modified_gmt", ""), r["id"]),
            "title": lambda r: (r.get("name", ""), r["id"]),
            "name": lambda r: (r.get("last_name", ""), r.get("first_name", ""), r["id"])}
    if orderby not in keys:
        raise invalid_param("orderby", f"orderby is not one of {', '.join(keys)}.")
    ordered = sorted(records, key=keys[orderby], reverse=order == "desc")
    total, pages = len(ordered), -(-len(ordered) // per_page)
    fields = [f for f in args.get("_fields", "").split(",") if f]
    items = [public(r, fields) for r in ordered[(page - 1) * per_page: page * per_page]]
    links = []
    query = {k: v for k, v in args.items(multi=True) if k not in ("consumer_key", "consumer_secret")}
    for rel, target in (("prev", page - 1), ("next", page + 1)):
        if 1 <= target <= pages:
            links.append(f'<{request.base_url}?{urlencode({**query, "page": target})}>; rel="{rel}"')
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
    if links:
        headers["Link"] = ", ".join(links)
    return items, 200, headers


def public(record: dict[str, Any], fields: list[str] | None = None) -> dict[str, Any]:
    if not fields:
        return dict(record)
    return {k: v for k, v in record.items() if k in fields or k == "id"}  # WordPress always keeps id
