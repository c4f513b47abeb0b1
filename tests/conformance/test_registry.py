"""Every capability a registered vendor claims is exercised by the conformance suites."""
from __future__ import annotations

from synchub.connectors.registry import VENDORS, vendor_spec

from tests.conformance.providers import FAKES, HARNESSES

TESTED_WITHOUT_FAKE = {"store_payloads", "stock_payloads"}  # mappers, tested on real payloads (test_store_capabilities,
# tests/unit/test_store_stock_watch)


def test_every_claimed_capability_is_tested() -> None:
    for vendor in VENDORS:
        spec = vendor_spec(vendor)
        assert vendor in HARNESSES, f"{vendor} has no conformance harness"
        for capability in spec.capability_names:
            assert capability in FAKES or capability in TESTED_WITHOUT_FAKE, capability


def test_every_vendor_spec_names_its_secret_fields_and_a_local_stand_in() -> None:
    for vendor in VENDORS:
        spec = vendor_spec(vendor)
        assert spec.secret_fields and spec.local_sandbox and spec.roles
