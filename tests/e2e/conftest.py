"""Local mode for the e2e tests: one instance per session, on free ports, sharing the session's Tryton."""
from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from infra.local.runner import LocalMode
from tests.eventdata import sign_shopify

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The chaos replays run only when `-m` names them: the large one takes many minutes, and the default one
    is out of `make test` until the lifecycle defects it found are fixed (see its xfail mark)."""
    named = set(re.findall(r"\w+", config.getoption("markexpr") or ""))
    for marker in ("chaos", "chaos_large"):
        if marker in named:
            continue
        skip = pytest.mark.skip(reason=f"chaos replay: run with -m {marker}")
        for item in items:
            if item.get_closest_marker(marker):
                item.add_marker(skip)


@pytest.fixture(scope="package")  # stopped when the e2e tests end, so its pumps never outlive them
def local_mode(tryton_server, tmp_path_factory) -> Iterator[LocalMode]:
    mode = LocalMode(data_dir=tmp_path_factory.mktemp("synchub-local"), base_port=0, start_ticks=False,
                     reuse={"tryton": tryton_server})
    mode.start()
    try:
        yield mode
    finally:
        mode.stop()


def sample(event: str, /, **changes) -> tuple[dict, dict[str, str]]:
    """A sample webhook from events/, with top-level fields changed so each test has its own records."""
    path = ROOT / "events" / f"{event}.json"
    payload = json.loads(path.read_text())
    payload.update(changes)
    headers = json.loads(path.with_name(path.stem + ".headers.json").read_text())
    return payload, headers


class Store:
    """Sends webhooks to local mode the way the store would: signed raw bytes over HTTP."""

    def __init__(self, local: LocalMode, store_id: str) -> None:
        self.local = local
        self.info = local.info["stores"][store_id]
        self.platform = self.info["platform"]

    def send(self, payload: dict, headers: dict[str, str], *, secret: str | None = None, event_id: str | None = None,
             times: int = 1) -> list[int]:
        body = json.dumps(payload).encode("utf-8")
        signature = sign_shopify(body, secret or self.info["webhook_secret"])  # WooCommerce signs the same way
        headers = dict(headers)
        if self.platform == "shopify":
            headers["X-Shopify-Hmac-Sha256"] = signature
            headers["X-Shopify-Event-Id"] = event_id or f"evt-{payload['id']}-{payload.get('updated_at')}"
        else:
            headers["X-WC-Webhook-Signature"] = signature
        return [httpx.post(self.info["webhook_url"], content=body, headers=headers, timeout=30).status_code
                for _ in range(times)]


@pytest.fixture(scope="package")
def shopify_store(local_mode) -> Store:
    return Store(local_mode, "main")


@pytest.fixture(scope="package")
def woo_store(local_mode) -> Store:
    return Store(local_mode, "eu")


def eventually(check: Callable[[], object], timeout: float = 60.0, every: float = 0.25) -> object:
    """Poll until `check()` is truthy (the pipeline is asynchronous); return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


_ids = iter(range(10**6))


@pytest.fixture
def new_order_id() -> Callable[[], int]:
    """Distinct Shopify-sized order ids (above 2^53) for each test."""
    return lambda: 9_100_000_000_000_000 + int(time.time() * 1000) % 10**9 * 1000 + next(_ids)


def own_stage(config_path: Path, stage: str, data_dir: Path) -> Path:
    """A copy of a local config on its own stage and secret names. moto's servers in one process share their
    state: a module's own local mode must not share queues, messages and mappings with the e2e tests' shared
    local mode (stage "local"), which may be running beside it."""
    config = json.loads(config_path.read_text().replace("synchub/local/", f"synchub/{stage}/"))
    config["stage"] = stage
    path = data_dir / f"config-{stage}.json"
    path.write_text(json.dumps(config))
    return path
