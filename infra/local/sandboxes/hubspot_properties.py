"""The HubSpot sandbox's property model: built-in property definitions per object type, the properties
a read returns by default, and the per-value checks HubSpot applies before a write."""
from __future__ import annotations

import re
from typing import Any

from infra.local.sandboxes import hubspot_search as search

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
MODIFIED = {"contacts": "lastmodifieddate", "deals": "hs_lastmodifieddate", "line_items": "hs_lastmodifieddate"}


def definition(name: str, type_: str = "string", field: str = "text", *, unique: bool = False,
                read_only: bool = False, group: str = "information") -> dict[str, Any]:
    return {"name": name, "label": name, "type": type_, "fieldType": field, "groupName": group,
            "hasUniqueValue": unique, "modificationMetadata": {"readOnlyValue": read_only, "archivable": True},
            "hubspotDefined": True, "calculated": False, "formField": not read_only, "options": []}


def builtin_properties() -> dict[str, dict[str, dict[str, Any]]]:
    common = [definition("createdate", "datetime", "date"), definition("hs_object_id", "number", "number",
                                                                         unique=True, read_only=True)]
    contacts = [definition("email", unique=True), *(definition(n) for n in (
        "firstname", "lastname", "phone", "address", "city", "zip", "state", "country", "company")),
        definition("lastmodifieddate", "datetime", "date", read_only=True)]
    deals = [definition("dealname"), definition("amount", "number", "number"), definition("deal_currency_code"),
             definition("pipeline"), definition("dealstage"), definition("closedate", "datetime", "date"),
             definition("hs_lastmodifieddate", "datetime", "date", read_only=True)]
    line_items = [definition("name"), definition("hs_sku"), definition("quantity", "number", "number"),
                  definition("price", "number", "number"), definition("amount", "number", "number"),
                  definition("hs_lastmodifieddate", "datetime", "date", read_only=True)]
    return {kind: {d["name"]: d for d in [*defs, *common]}
            for kind, defs in (("contacts", contacts), ("deals", deals), ("line_items", line_items))}


DEFAULT_PROPERTIES = {"contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
                      "deals": ("amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate",
                                "hs_object_id", "pipeline"),
                      "line_items": ("createdate", "hs_lastmodifieddate", "hs_object_id", "name", "price", "quantity")}


def value_problem(name: str, definition: dict[str, Any] | None, value: str) -> tuple[str, str] | None:
    """HubSpot's (error code, message) for writing `value` to a property; None when it may be written
    (an empty value always may). Uniqueness is checked by the caller, who knows the records."""
    if definition is None:
        return "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'
    if definition["modificationMetadata"]["readOnlyValue"]:
        return "READ_ONLY_VALUE", f'"{name}" is a read only property; its value cannot be set.'
    if value == "":
        return None
    if name == "email" and not EMAIL.match(value.strip()):
        return "INVALID_EMAIL", f"Email address {value} is invalid"
    if definition["type"] == "number" and search.number(value) is None:
        return "INVALID_DECIMAL", f"{value} was not a valid number."
    if definition["type"] in ("datetime", "date") and search.instant(value) is None:
        return "INVALID_DATE", f"{value} was not a valid date or datetime."
    return None
