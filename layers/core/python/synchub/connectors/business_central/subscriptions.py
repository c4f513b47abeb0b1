"""Business Central webhook subscriptions: create them and renew them before they expire (three days).

`POST .../api/v2.0/subscriptions {notificationUrl, resource, clientState}` registers one; BC then calls
`notificationUrl?validationToken=...` and registers it only if the body of a 200 answer is that token (the same
handshake on every renewal, a `PATCH` with `If-Match`). Notifications are thin and unsigned: `clientState` (a
shared secret, at most 2048 characters) is what tells them from forgeries; the receiver GETs the resource.
At most 200 subscriptions per environment. Not webhook-enabled: salesShipments and itemLedgerEntries (poll them).

SyncHub's flows poll BC (stock by item ledger entry); this module is the client side for a merchant who adds a
notification endpoint: `ensure(resources)` run on a schedule (e.g. daily) keeps one live subscription per resource.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from synchub.connectors.business_central.client import BusinessCentralClient, EntityChanged

LIFETIME = dt.timedelta(days=3)


def validation_answer(query: dict[str, str]) -> str | None:
    """The handshake: the body to answer BC's validation call with (200), or None when it is a notification."""
    token = query.get("validationToken")
    return token if token else None


class BusinessCentralSubscriptions:
    def __init__(self, client: BusinessCentralClient, *, notification_url: str, client_state: str,
                 renew_within: dt.timedelta = dt.timedelta(days=1)) -> None:
        self.client = client
        self.notification_url = notification_url
        self.client_state = client_state
        self.renew_within = renew_within

    def resource(self, entity_set: str) -> str:
        """The resource path BC expects, e.g. `/api/v2.0/companies(<id>)/salesOrders`."""
        return f"/api/v2.0/{self.client.company_path(entity_set)}"

    def subscribe(self, entity_set: str) -> dict[str, Any]:
        return self.client.send_root("POST", "subscriptions", {
            "notificationUrl": self.notification_url, "resource": self.resource(entity_set),
            "clientState": self.client_state})

    def subscriptions(self) -> list[dict[str, Any]]:
        return list(self.client.send_root("GET", "subscriptions").get("value") or [])

    def renew(self, subscription: dict[str, Any]) -> dict[str, Any]:
        """PATCH the subscription (BC repeats the handshake and moves expirationDateTime three days on)."""
        key = f"subscriptions('{subscription['subscriptionId']}')"
        try:
            return self.client.send_root("PATCH", key, {"clientState": self.client_state},
                                         etag=subscription.get("@odata.etag") or "*")
        except EntityChanged:
            return self.client.send_root("PATCH", key, {"clientState": self.client_state}, etag="*")

    def ensure(self, entity_sets: Sequence[str], now: dt.datetime | None = None) -> dict[str, str]:
        """One live subscription of ours per entity set: renewed when it expires within `renew_within`, created
        when missing or expired. Returns entity set -> what was done (kept, renewed, created)."""
        now = now or dt.datetime.now(dt.UTC)
        ours = {row.get("resource"): row for row in self.subscriptions()
                if row.get("notificationUrl") == self.notification_url}
        done = {}
        for entity_set in entity_sets:
            row = ours.get(self.resource(entity_set))
            expires = _stamp(row.get("expirationDateTime")) if row else None
            if row is None or expires is None or expires <= now:
                self.subscribe(entity_set)
                done[entity_set] = "created"
            elif expires - now <= self.renew_within:
                self.renew(row)
                done[entity_set] = "renewed"
            else:
                done[entity_set] = "kept"
        return done


def _stamp(value: Any) -> dt.datetime | None:
    if not value:
        return None
    stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
