"""Failure classes every flow and connector speaks.

Transient failures go back to the queue and are retried with backoff; permanent ones are parked in
the flow's DLQ with a machine-readable reason and never retried in a loop.
"""
from __future__ import annotations

from typing import Any


class SyncError(Exception):
    """Base of SyncHub's own failures. `reason` is a stable, machine-readable code."""

    reason = "sync_error"

    def __init__(self, message: str, *, reason: str | None = None, **detail: Any) -> None:
        super().__init__(message)
        if reason:
            self.reason = reason
        self.detail = detail


class TransientError(SyncError):
    """Try again later: timeout, 5xx, 429, throttled, the other system is down."""

    reason = "transient"

    def __init__(self, message: str, *, retry_after: float | None = None, reason: str | None = None,
                 **detail: Any) -> None:
        super().__init__(message, reason=reason, **detail)
        self.retry_after = retry_after


class PermanentError(SyncError):
    """Retrying cannot help until someone fixes the cause: park it with its reason."""

    reason = "permanent"


class UnknownSku(PermanentError):
    reason = "unknown_sku"

    def __init__(self, skus: list[str]) -> None:
        super().__init__(f"no ERP product for SKU(s): {', '.join(skus)}", skus=skus)
        self.skus = skus


class MissingSku(PermanentError):
    """Catalogue lines sent with a blank SKU that no configured lookup could tie to an ERP product."""

    reason = "missing_sku"

    def __init__(self, lines: list[str], items: list[str]) -> None:
        super().__init__(f"order lines without SKU: {', '.join(lines)}", lines=lines, store_items=items)
        self.lines = lines


class TotalMismatch(PermanentError):
    """The store's total differs from what its lines, shipping, tax, tip, duties, adjustments and discounts
    add up to: booking it would invent (or lose) money, so it is parked with the figures."""

    reason = "total_mismatch"

    def __init__(self, reference: str, figures: dict[str, str]) -> None:
        super().__init__(f"order {reference}: store total {figures.get('store_total')} but its parts add up to "
                         f"{figures.get('expected_total')} {figures.get('currency', '')}".rstrip(),
                         reference=reference, figures=figures)
        self.figures = figures


class MissingMapping(PermanentError):
    reason = "missing_mapping"


class InvalidPayload(PermanentError):
    reason = "invalid_payload"


class EventTooLarge(PermanentError):
    """An event larger than one bus entry can carry: retrying cannot help."""

    reason = "too_large_for_bus"


class UnpublishableEvent(PermanentError):
    """An event whose content cannot be serialised for the bus (say, text that is not valid Unicode)."""

    reason = "unserialisable_event"


class PayloadMissing(PermanentError):
    """A claim-checked payload that expired or was removed: nothing left to apply, so it is parked."""

    reason = "payload_missing"


class VendorError(SyncError):
    """A vendor answered with an error we could not classify as transient."""

    reason = "vendor_error"

    def __init__(self, message: str, *, vendor: str, status: int | None = None, category: str | None = None,
                 body: Any = None) -> None:
        super().__init__(message, vendor=vendor, status=status, category=category)
        self.vendor = vendor
        self.status = status
        self.category = category
        self.body = body


class VendorRejected(VendorError, PermanentError):
    """The vendor refused the input (validation, not found, conflict): permanent."""

    reason = "vendor_rejected"
