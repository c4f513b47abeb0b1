"""The one logger, tracer and metrics of a function (Powertools); no personal data goes through them."""
from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

NAMESPACE = "SyncHub"

logger = Logger(service="synchub")
tracer = Tracer(service="synchub")
metrics = Metrics(namespace=NAMESPACE, service="synchub")
