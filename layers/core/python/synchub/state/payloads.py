"""Claim checks on S3: payloads too large for a bus entry or a DLQ message, kept in the payload bucket.

Keys are content-addressed (the SHA-256 of the bytes), so a repeated delivery writes the same object
again rather than a second one; the bucket's lifecycle rule expires them.
"""
from __future__ import annotations

import hashlib
from typing import Any

from botocore.exceptions import ClientError

from synchub.errors import PayloadMissing
from synchub.models import PayloadRef


class S3PayloadStore:
    """PayloadStore on one S3 bucket. Takes a boto3 S3 client so tests can hand it a moto one."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def put(self, key: str, data: bytes) -> PayloadRef:
        """Stores `data` under `<key>/<sha256>` and returns the reference to carry instead of it."""
        digest = hashlib.sha256(data).hexdigest()
        full_key = f"{key.strip('/')}/{digest}"
        self.client.put_object(Bucket=self.bucket, Key=full_key, Body=data, ChecksumAlgorithm="SHA256")
        return PayloadRef(bucket=self.bucket, key=full_key, size=len(data), sha256=digest)

    def get(self, ref: PayloadRef) -> bytes:
        try:
            data: bytes = self.client.get_object(Bucket=ref.bucket, Key=ref.key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "NoSuchBucket", "404"):
                raise PayloadMissing(f"stored payload is gone: s3://{ref.bucket}/{ref.key}", key=ref.key) from error
            raise  # throttling, outage: transient, the record is retried
        if hashlib.sha256(data).hexdigest() != ref.sha256:
            raise PayloadMissing(f"stored payload does not match its digest: {ref.key}", key=ref.key)
        return data
