"""When a failed record is retried: what the vendor asked for, else exponential backoff."""
from __future__ import annotations

import math

from synchub.errors import TransientError

FIRST_DELAY_SECONDS = 10
MAX_DELAY_SECONDS = 900  # beyond 15 minutes the age-of-oldest-message alarm is the better signal


def retry_delay(error: BaseException, receives: int) -> int:
    """Seconds until the record is tried again, given the error and how often it was received."""
    asked = getattr(error, "retry_after", None) if isinstance(error, TransientError) else None
    if asked is not None:
        return max(1, min(MAX_DELAY_SECONDS, math.ceil(asked)))
    return min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** (max(receives, 1) - 1))
