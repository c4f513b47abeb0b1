"""Business Central webhook subscriptions: created with the documented body outside any company, the validation
handshake, and renewal before the three days run out (events/business_central/subscription_create_201)."""
from __future__ import annotations

import datetime as dt
import json

from synchub.connectors.business_central.subscriptions import (
    BusinessCentralSubscriptions,
    validation_answer,
)

from tests.conformance.providers import business_central
from tests.contract.test_business_central_client import API, FakeMicrosoft, erp, reply, sample

NOTIFY = "https://hooks.example.com/bc"


def test_subscribe_posts_the_documented_fields_at_the_environment_root() -> None:
    created = sample("subscription_create_201")
    fake = FakeMicrosoft(reply(201, created))
    subscriptions = BusinessCentralSubscriptions(erp(fake).client, notification_url=NOTIFY, client_state="s3cret")

    assert subscriptions.subscribe("salesOrders") == created

    [post] = fake.api
    root = API.split("/companies(")[0]
    assert post.method == "POST" and str(post.url) == f"{root}/subscriptions"
    assert json.loads(post.content) == {"notificationUrl": NOTIFY, "clientState": "s3cret",
                                        "resource": f"/api/v2.0/companies({API.split('companies(')[1]}/salesOrders"}


def test_the_handshake_answers_the_validation_token_and_nothing_else() -> None:
    assert validation_answer({"validationToken": "abc"}) == "abc"
    assert validation_answer({}) is None


def test_ensure_creates_then_keeps_then_renews_before_the_three_days_end_and_recreates_when_expired() -> None:
    with business_central("sales_orders") as provider:
        app = provider.extra["sandbox"]
        tokens: list[str] = []
        app.handshake = lambda url, token: tokens.append(token) or (token if url == NOTIFY else None)
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        app.now = lambda: start
        subscriptions = BusinessCentralSubscriptions(provider.adapter.client, notification_url=NOTIFY,
                                                     client_state="s3cret")

        assert subscriptions.ensure(["salesOrders", "customers"], now=start) == {"salesOrders": "created",
                                                                                  "customers": "created"}
        assert subscriptions.ensure(["salesOrders"], now=start + dt.timedelta(hours=1)) == {"salesOrders": "kept"}
        later = start + dt.timedelta(days=2, hours=1)
        app.now = lambda: later
        assert subscriptions.ensure(["salesOrders"], now=later) == {"salesOrders": "renewed"}
        [renewed] = [row for row in app.subscriptions.values() if row["resource"].endswith("/salesOrders")]
        assert renewed["expirationDateTime"] == "2026-01-06T01:00:00Z" and len(tokens) == 3  # a handshake each time
        gone = later + dt.timedelta(days=4)
        assert subscriptions.ensure(["customers"], now=gone) == {"customers": "created"}


def test_a_subscriber_that_fails_the_handshake_is_not_registered() -> None:
    with business_central("sales_orders") as provider:
        provider.extra["sandbox"].handshake = lambda url, token: "wrong"
        subscriptions = BusinessCentralSubscriptions(provider.adapter.client, notification_url=NOTIFY,
                                                     client_state="s3cret")
        try:
            subscriptions.subscribe("items")
        except Exception as exc:  # noqa: BLE001 - the vendor's refusal, whatever its class
            assert "validation" in str(exc)
        else:
            raise AssertionError("registered without a handshake")
        assert provider.extra["sandbox"].subscriptions == {}
