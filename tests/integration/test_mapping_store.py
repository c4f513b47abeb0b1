"""The DynamoDB mapping store: links from any side, newest version wins, echo hashes, watermarks."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from synchub.state.mappings import DynamoMappingStore

T = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def store(aws) -> DynamoMappingStore:
    return DynamoMappingStore(aws.dynamodb.Table(aws.resources.state_table))


def test_a_link_is_found_from_every_side(aws):
    mappings = store(aws)
    mappings.link("order", "main:5001", "erp", "17")
    mappings.link("order", "main:5001", "crm", "9001")

    assert mappings.get("order", "main:5001").ids == {"erp": "17", "crm": "9001"}
    assert mappings.find("order", "crm", "9001").key == "main:5001"
    assert mappings.find("order", "erp", "404") is None


def test_older_version_is_refused_equal_and_newer_are_claimed_per_flow(aws):
    mappings = store(aws)
    assert mappings.claim_version("order", "k", T + timedelta(minutes=5), scope="erp")
    assert not mappings.claim_version("order", "k", T, scope="erp")
    assert mappings.claim_version("order", "k", T + timedelta(minutes=5), scope="erp")
    assert mappings.claim_version("order", "k", T, scope="crm")  # each flow keeps its own version
    assert mappings.get("order", "k").versions == {"erp": T + timedelta(minutes=5), "crm": T}


def test_echo_hash_and_watermark_round_trip(aws):
    mappings = store(aws)
    mappings.remember_written("order", "k", "crm", "abc")
    mappings.set_watermark("erp_stock", "2026-11-23T10:00:00")

    assert mappings.get("order", "k").written == {"crm": "abc"}
    assert mappings.get_watermark("erp_stock") == "2026-11-23T10:00:00"
    assert mappings.get_watermark("other") is None


def test_a_lease_is_exclusive_until_released(aws):
    mappings = store(aws)
    assert mappings.acquire_lease("order:erp", "main:1", "event-a", 120)
    assert not mappings.acquire_lease("order:erp", "main:1", "event-b", 120)
    assert mappings.acquire_lease("order:erp", "main:1", "event-a", 120)  # the holder may renew
    mappings.release_lease("order:erp", "main:1", "event-b")  # not the holder: no effect
    assert not mappings.acquire_lease("order:erp", "main:1", "event-b", 120)
    mappings.release_lease("order:erp", "main:1", "event-a")
    assert mappings.acquire_lease("order:erp", "main:1", "event-b", 120)


def test_an_expired_lease_can_be_taken_over(aws):
    mappings = store(aws)
    assert mappings.acquire_lease("order:erp", "main:2", "crashed", 0)
    assert mappings.acquire_lease("order:erp", "main:2", "event-b", 120)
