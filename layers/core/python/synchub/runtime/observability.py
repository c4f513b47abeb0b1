"""The one logger, tracer and metrics of a function (Powertools); no personal data goes through them."""
from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

NAMESPACE = "SyncHub"

logger = Logger(service="synchub")
# Patch only what SyncHub calls: the AWS SDK now, vendor HTTP (httpx) once a connector is built, so a
# function that talks to no vendor (ingest) never imports httpx; patching everything costs cold start.
tracer = Tracer(service="synchub", patch_modules=("botocore",))
_vendor_http_traced = False


def trace_vendor_http() -> None:
    global _vendor_http_traced
    if not _vendor_http_traced:
        tracer.patch(("httpx",))
        _vendor_http_traced = True
metrics = Metrics(namespace=NAMESPACE, service="synchub")
