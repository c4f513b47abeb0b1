"""Acknowledging a cdk-nag finding: always on one construct, one finding, with a written reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

MIN_REASON_LENGTH = 40  # a reason says why this finding is right here, not "not needed"


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge `finding` (e.g. "AwsSolutions-SQS3" or "AwsSolutions-IAM5[Resource::*]")."""
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(f"acknowledging {finding} needs a specific reason, not {reason!r}")
    Validations.of(construct).acknowledge(Acknowledgment(id=finding, reason=reason))
