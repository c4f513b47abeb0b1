"""The Odoo sandbox's records and ORM methods: the models SyncHub uses, with their fields, Odoo's domain
language (prefix `&`/`|`/`!`, dotted paths, `child_of`), `search_read` with offset/limit/order, x2many
commands, and the sale.order business methods (`action_confirm` reserves stock, `action_cancel` releases it).

Errors are raised as OdooException carrying Odoo's exception name and HTTP status (UserError 422,
AccessError/AccessDenied 403, MissingError 404, ValueError 500), as odoo/exceptions.py declares them.
"""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

STAMP = "%Y-%m-%d %H:%M:%S"


class OdooException(Exception):
    def __init__(self, name: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.name, self.message, self.status = name, message, status


def user_error(message: str) -> OdooException:
    return OdooException("odoo.exceptions.UserError", message, 422)


# model -> field -> kind ("char", "m2o:<comodel>", "o2m:<comodel>:<inverse>", "m2m:<comodel>", "num", "bool")
def _models(tax_field: str) -> dict[str, dict[str, str]]:
    return {
        "res.company": {"name": "char", "currency_id": "m2o:res.currency", "sequence": "num"},
        "res.currency": {"name": "char"},
        "res.country": {"name": "char", "code": "char"},
        "res.users": {"name": "char", "login": "char"},
        "account.tax": {"name": "char", "amount": "num"},
        "product.pricelist": {"name": "char", "currency_id": "m2o:res.currency", "sequence": "num"},
        "res.partner": {"name": "char", "ref": "char", "email": "char", "phone": "char", "street": "char",
                        "street2": "char", "city": "char", "zip": "char", "country_id": "m2o:res.country",
                        "is_company": "bool", "active": "bool"},
        "product.product": {"name": "char", "default_code": "char", "barcode": "char", "type": "char",
                            "is_storable": "bool", "list_price": "num", "taxes_id": "m2m:account.tax"},
        "stock.location": {"name": "char", "complete_name": "char", "usage": "char",
                           "location_id": "m2o:stock.location"},
        "stock.warehouse": {"name": "char", "code": "char", "lot_stock_id": "m2o:stock.location"},
        "stock.quant": {"product_id": "m2o:product.product", "location_id": "m2o:stock.location",
                        "quantity": "num", "reserved_quantity": "num"},
        "sale.order": {"name": "char", "state": "char", "locked": "bool", "partner_id": "m2o:res.partner",
                       "client_order_ref": "char", "origin": "char", "pricelist_id": "m2o:product.pricelist",
                       "warehouse_id": "m2o:stock.warehouse", "currency_id": "m2o:res.currency",
                       "order_line": "o2m:sale.order.line:order_id", "amount_untaxed": "num", "amount_tax": "num",
                       "amount_total": "num"},
        "sale.order.line": {"order_id": "m2o:sale.order", "product_id": "m2o:product.product", "name": "char",
                            "product_uom_qty": "num", "price_unit": "num", tax_field: "m2m:account.tax",
                            "display_type": "char", "price_subtotal": "num"},
    }


READONLY = {"sale.order": {"amount_untaxed", "amount_tax", "amount_total", "state", "locked"},
            "sale.order.line": {"price_subtotal"}}
PARENT = {"stock.location": "location_id"}  # what `child_of` climbs


class Orm:
    """In-memory records per model; every record has id, create_date and write_date (UTC, seconds)."""

    def __init__(self, *, tax_field: str, now: Callable[[], dt.datetime]) -> None:
        self.fields = _models(tax_field)
        self.tax_field = tax_field
        self.now = now
        self.tables: dict[str, dict[int, dict[str, Any]]] = {model: {} for model in self.fields}
        self._next: dict[str, int] = {model: 1 for model in self.fields}

    def stamp(self) -> str:
        return self.now().strftime(STAMP)

    # -- generic ORM -----------------------------------------------------------------------------
    def table(self, model: str) -> dict[int, dict[str, Any]]:
        if model not in self.tables:
            raise OdooException("builtins.KeyError", model, 404)
        return self.tables[model]

    def insert(self, model: str, values: dict[str, Any]) -> int:
        """Seeding and create(): checks field names, applies x2many commands and defaults."""
        table = self.table(model)
        record_id = self._next[model]
        self._next[model] += 1
        record: dict[str, Any] = {"id": record_id, "create_date": self.stamp(), "write_date": self.stamp()}
        record.update({field: self._default(kind) for field, kind in self.fields[model].items()
                       if not kind.startswith("o2m")})
        table[record_id] = record
        self._assign(model, record, values, creating=True)
        self._after_write(model, record)
        return record_id

    def _default(self, kind: str) -> Any:
        if kind.startswith("m2m"):
            return []
        return 0.0 if kind == "num" else False

    def _assign(self, model: str, record: dict[str, Any], values: dict[str, Any], *, creating: bool) -> None:
        for field, value in values.items():
            kind = self.fields[model].get(field)
            if kind is None:
                raise OdooException("builtins.ValueError", f"Invalid field {field!r} on model {model!r}", 500)
            if kind.startswith("o2m"):
                _, comodel, inverse = kind.split(":")
                self._o2m(comodel, inverse, record["id"], value)
            elif kind.startswith("m2m"):
                record[field] = self._m2m(record.get(field) or [], value)
            elif kind.startswith("m2o"):
                record[field] = int(value) if value else False
                if value and int(value) not in self.table(kind.split(":")[1]):
                    raise OdooException("odoo.exceptions.MissingError",
                                        f"Record does not exist or has been deleted.\n(Record: {kind[4:]}({value},))",
                                        404)
            else:
                record[field] = value
        if model == "sale.order.line" and creating and self.tax_field not in values and record["product_id"]:
            record[self.tax_field] = list(self.table("product.product")[record["product_id"]]["taxes_id"])

    def _o2m(self, comodel: str, inverse: str, parent: int, commands: list[Any]) -> None:
        for command in commands:
            code = command[0]
            if code == 0:
                self.insert(comodel, {**command[2], inverse: parent})
            elif code == 1:
                self.write(comodel, [command[1]], command[2])
            elif code == 2:
                self.table(comodel).pop(command[1], None)
            elif code == 5:
                for line_id in [i for i, row in self.table(comodel).items() if row[inverse] == parent]:
                    del self.table(comodel)[line_id]
            else:
                raise OdooException("builtins.ValueError", f"unsupported command {code}", 500)

    @staticmethod
    def _m2m(current: list[int], commands: list[Any]) -> list[int]:
        ids = list(current)
        for command in commands:
            if command[0] == 6:
                ids = list(command[2])
            elif command[0] == 4:
                ids.append(command[1])
            elif command[0] == 3:
                ids = [i for i in ids if i != command[1]]
            elif command[0] == 5:
                ids = []
        return ids

    def write(self, model: str, ids: list[int], values: dict[str, Any]) -> bool:
        readonly = READONLY.get(model, set()) & values.keys()
        if readonly:
            raise user_error(f"You cannot write {', '.join(sorted(readonly))} on {model}")
        for record in self.browse(model, ids):
            self._assign(model, record, values, creating=False)
            record["write_date"] = self.stamp()
            self._after_write(model, record)
        return True

    def browse(self, model: str, ids: list[int]) -> list[dict[str, Any]]:
        table = self.table(model)
        missing = [i for i in ids if i not in table]
        if missing:
            raise OdooException("odoo.exceptions.MissingError",
                                f"Record does not exist or has been deleted.\n(Record: {model}({missing[0]},))", 404)
        return [table[i] for i in ids]

    def _after_write(self, model: str, record: dict[str, Any]) -> None:
        if model == "sale.order.line":
            record["price_subtotal"] = record["product_uom_qty"] * record["price_unit"]
            if record["order_id"]:
                self._amounts(self.table("sale.order")[record["order_id"]])
        elif model == "sale.order":
            self._amounts(record)

    def _amounts(self, order: dict[str, Any]) -> None:
        """amount_untaxed / amount_tax / amount_total, rounded to cents as the currency does."""
        untaxed, tax = Decimal(0), Decimal(0)
        taxes = self.table("account.tax")
        for line in self.lines(order["id"]):
            subtotal = Decimal(str(line["product_uom_qty"])) * Decimal(str(line["price_unit"]))
            untaxed += subtotal
            tax += sum((subtotal * Decimal(str(taxes[t]["amount"])) / 100 for t in line[self.tax_field]), Decimal(0))
        cents = Decimal("0.01")
        order["amount_untaxed"] = float(untaxed.quantize(cents))
        order["amount_tax"] = float(tax.quantize(cents))
        order["amount_total"] = float((untaxed + tax).quantize(cents))

    def lines(self, order_id: int) -> list[dict[str, Any]]:
        return [row for row in self.table("sale.order.line").values() if row["order_id"] == order_id]

    # -- search ----------------------------------------------------------------------------------
    def search(self, model: str, domain: list[Any] | None, offset: int = 0, limit: int | None = None,
               order: str | None = None) -> list[dict[str, Any]]:
        rows = [row for row in self.table(model).values() if self.matches(model, row, list(domain or []))]
        for field, descending in reversed(self._order(model, order or "id")):
            rows.sort(key=functools.partial(_sort_value, field), reverse=descending)
        rows = rows[int(offset or 0):]
        return rows[:limit] if limit else rows

    def _order(self, model: str, order: str) -> list[tuple[str, bool]]:
        terms = []
        for part in order.split(","):
            words = part.split()
            if not words or words[0] not in {"id", "write_date", "create_date", *self.fields[model]}:
                raise OdooException("builtins.ValueError", f"Invalid order {order!r} for model {model!r}", 500)
            terms.append((words[0], len(words) > 1 and words[1].lower() == "desc"))
        return terms

    def matches(self, model: str, row: dict[str, Any], domain: list[Any]) -> bool:
        stack: list[bool] = []
        for term in reversed(domain):
            if term == "!":
                stack.append(not stack.pop())
            elif term in ("&", "|"):
                first, second = stack.pop(), stack.pop()
                stack.append(first and second if term == "&" else first or second)
            else:
                stack.append(self._term(model, row, term))
        return all(stack)

    def _term(self, model: str, row: dict[str, Any], term: Any) -> bool:
        if not isinstance(term, (list, tuple)) or len(term) != 3:
            raise OdooException("builtins.ValueError", f"Invalid leaf {term!r}", 500)
        path, operator, value = term
        head, _, rest = str(path).partition(".")
        kind = self.fields[model].get(head, "num" if head == "id" else "char" if head.endswith("_date") else None)
        if kind is None:
            raise OdooException("builtins.ValueError", f"Invalid field {model}.{head} in leaf {term!r}", 500)
        have = row.get(head)
        if rest:  # a dotted path follows the many2one
            comodel = kind.split(":")[1]
            related = self.table(comodel).get(have) if have else None
            return related is not None and self._term(comodel, related, [rest, operator, value])
        if operator == "child_of":
            wanted = set(value if isinstance(value, list) else [value])
            parent = PARENT.get(kind.split(":")[1], "") if kind.startswith("m2o") else ""
            node = have
            while node:
                if node in wanted:
                    return True
                node = self.table(kind.split(":")[1])[node].get(parent) if parent else False
            return False
        return _compare(have, operator, value)


def _sort_value(field: str, row: dict[str, Any]) -> tuple[int, Any]:
    """Empty values last, as PostgreSQL sorts NULLs in ascending order."""
    value = row.get(field)
    return (1, "") if value is False or value is None else (0, value)


def _compare(have: Any, operator: str, value: Any) -> bool:
    if operator == "=":
        return (have or False) == (value or False) if value is False or have is False else have == value
    if operator == "!=":
        return not _compare(have, "=", value)
    if operator == "in":
        return have in value
    if operator == "not in":
        return have not in value
    if operator in ("ilike", "like"):
        return have is not False and str(value).strip("%").lower() in str(have).lower()
    if have is False or have is None:
        return False
    comparisons = {"<": have < value, "<=": have <= value, ">": have > value, ">=": have >= value}
    if operator in comparisons:
        return comparisons[operator]
    raise OdooException("builtins.ValueError", f"Invalid operator {operator!r}", 500)
