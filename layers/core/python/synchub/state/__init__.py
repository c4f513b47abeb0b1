"""The only package that touches DynamoDB: mappings, versions, echo hashes, watermarks, idempotency."""
