"""The DynamoDB mapping store: links from any side, newest version wins, echo hashes, watermarks."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from synchub.state.mappings import DynamoMappingStore

T = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


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
