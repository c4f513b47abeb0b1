"""The payload bucket: claim checks for events too large for one bus entry and for parked webhook bodies.

Objects are transient, so a lifecycle rule expires them after `ingest.payload_retention_days` (by
default the 14 days a DLQ keeps the message that refers to them).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import topology
from infra.constructs.nag import acknowledge


class PayloadBucket(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, retention_days: int) -> None:
        super().__init__(scope, construct_id)
        # No bucket_name: S3 names are global across accounts, so CloudFormation picks a unique one and
        # the functions get it through SYNCHUB_PAYLOAD_BUCKET.
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-claim-checks",
                    expiration=Duration.days(retention_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN if topology.retains_data(stage) else RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "Claim-check objects live two weeks at most and only SyncHub's own function roles read or write "
            "them; CloudTrail records those calls, so a second access-log bucket would add cost and nothing else.",
        )
