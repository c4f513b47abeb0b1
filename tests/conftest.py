"""Test-wide settings: no network in unit and contract tests, quiet Powertools, the Tryton plugin."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import pytest_socket

ROOT = Path(__file__).resolve().parent.parent
NO_NETWORK = ("unit", "contract")
pytest_plugins = ["tests.fixtures.tryton"]  # a real Tryton server for the e2e tests

# Functions read these at cold start; tests never reach AWS (moto) and never emit X-Ray segments.
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "SyncHub")
os.environ.setdefault("POWERTOOLS_DEV", "false")
os.environ.pop("AWS_ENDPOINT_URL", None)


def pytest_runtest_setup(item: pytest.Item) -> None:
    layer = Path(str(item.fspath)).relative_to(ROOT / "tests").parts[0]
    if layer in NO_NETWORK:
        pytest_socket.disable_socket(allow_unix_socket=False)
    else:
        pytest_socket.enable_socket()


@pytest.fixture
def lambda_context():
    from tests.fakes import FakeLambdaContext

    return FakeLambdaContext()
