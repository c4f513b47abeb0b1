"""The HubSpot sandbox's v4 associations: default (unlabelled) links between records, kept in both
directions, with HubSpot's own default association type ids."""
from __future__ import annotations

from typing import Any

# HubSpot-defined default (unlabelled) association type ids, served by the v4 labels endpoint.
DEFAULT_ASSOCIATION_TYPES = {("deals", "contacts"): 3, ("contacts", "deals"): 4,
                             ("deals", "line_items"): 19, ("line_items", "deals"): 20}


def has_default_type(kind: str, to_kind: str) -> bool:
    return (kind, to_kind) in DEFAULT_ASSOCIATION_TYPES


def default_labels(kind: str, to_kind: str) -> list[dict[str, Any]]:
    """The labels endpoint's results: the default type, or nothing when the pair has none."""
    type_id = DEFAULT_ASSOCIATION_TYPES.get((kind, to_kind))
    return [{"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}] if type_id else []


class Associations:
    """Links as (from type, from id, to type, to id), stored both ways as HubSpot reports them."""

    def __init__(self) -> None:
        self._links: set[tuple[str, str, str, str]] = set()

    def __len__(self) -> int:
        return len(self._links) // 2

    def link(self, kind: str, object_id: str, to_kind: str, to_id: str) -> list[dict[str, Any]]:
        """Link two records (again is harmless); the batch-style results for both directions."""
        self._links |= {(kind, object_id, to_kind, to_id), (to_kind, to_id, kind, object_id)}
        return [{"from": {"id": f}, "to": {"id": t}, "associationSpec": {
            "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": DEFAULT_ASSOCIATION_TYPES[(a, b)]}}
            for a, f, b, t in ((kind, object_id, to_kind, to_id), (to_kind, to_id, kind, object_id))]

    def ids(self, kind: str, object_id: str, to_kind: str) -> list[str]:
        return sorted(t for f, i, k, t in self._links if (f, i, k) == (kind, object_id, to_kind))

    def targets(self, kind: str, object_id: str, to_kind: str) -> list[dict[str, Any]]:
        """The v4 read of one record's associations of a type."""
        type_id = DEFAULT_ASSOCIATION_TYPES.get((kind, to_kind))
        return [{"toObjectId": int(t), "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": type_id,
                                                             "label": None}]}
                for t in self.ids(kind, object_id, to_kind)]
