"""HubSpot's error bodies as the sandbox answers them: `{status, message, correlationId, category, errors}`,
its 429 bodies per rate-limit policy, the 401 and property validation errors, and its timestamp format."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from infra.local.sandboxes.kit import VendorError


class ApiError(VendorError):
    """An error answered in HubSpot's shape: {status, message, correlationId, category, errors}."""

    def __init__(self, status: int, category: str | None, message: str, errors: list[dict] | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status, self.category, self.message, self.errors, self.extra = status, category, message, errors, extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": "error", "message": self.message, "correlationId": str(uuid.uuid4())}
        if self.category:  # rate-limit answers carry errorType and policyName instead
            body["category"] = self.category
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


def timestamp() -> str:
    """An instant as HubSpot writes it: ISO 8601 UTC with milliseconds and a Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


LIMITS = {  # HubSpot's 429 bodies, by the policy that refused the request
    "DAILY": ("You have reached your daily limit.", "publicapi:private-app:daily"),
    "TEN_SECONDLY_ROLLING": ("You have reached your ten_secondly_rolling limit.",
                             "publicapi:private-app:ten-secondly"),
    "SECONDLY": ("You have reached your secondly limit.", "publicapi:crm-search"),
}


def rate_limited(policy: str) -> ApiError:
    message, group = LIMITS[policy]
    return ApiError(429, None, message, errorType="RATE_LIMIT", policyName=policy, groupName=group)


def unauthorised() -> ApiError:
    return ApiError(401, "INVALID_AUTHENTICATION",
                    "Authentication credentials not found. This API supports OAuth 2.0 authentication "
                    "and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")


def validation(problems: list[dict[str, Any]]) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", "Property values were not valid: "
                    + json.dumps([{"isValid": False, "message": p["message"], "error": p["code"],
                                   "name": p["context"]["propertyName"][0]} for p in problems]), problems)
