"""The local ERP: a real Tryton 7.0 server on SQLite, built once into a data directory and launched on demand.

`ensure_database` builds (or reuses) the database; `start` serves it over JSON-RPC as a subprocess.
Local mode and the e2e tests use both.
"""
from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

# carrier + stock_shipment_cost: the carrier on a customer shipment; stock_package_shipping: its tracking
# reference (`shipping_reference`, on the shipment and on each package).
MODULES = ("sale", "stock", "party", "product", "account_invoice", "account_invoice_stock", "account_product",
           "carrier", "stock_shipment_cost", "stock_package", "stock_package_shipping", "sale_amendment")
DEFAULT_CATALOG = Path(__file__).with_name("demo_catalog.json")
ADMIN = "admin"
_SEED_VERSION = 7  # bump when tryton_setup seeds something new, so old directories are rebuilt


@dataclass
class TrytonServer:
    url: str
    database: str
    username: str
    password: str
    data_dir: Path
    process: subprocess.Popen | None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def admin_password(data_dir: Path) -> str:
    """The admin password, generated once per data directory and kept there, readable by its owner only."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "admin-password"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(18))
    return path.read_text().strip()


def write_config(data_dir: Path, port: int | None = None) -> Path:
    data_dir = data_dir.resolve()
    lines = ["[database]", "uri = sqlite://", f"path = {data_dir}", ""]
    if port is not None:
        lines += ["[web]", f"listen = 127.0.0.1:{port}", ""]
    path = data_dir / ("trytond.conf" if port is not None else "trytond-admin.conf")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _tool(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: install the dev dependencies (trytond)")
    return found


@contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    # Two test sessions (or local mode and a test run) may ask for the same directory at once.
    with open(data_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _marker(data_dir: Path, database: str) -> Path:
    return data_dir / f"{database}.ready.json"


def is_ready(data_dir: Path, database: str) -> bool:
    marker, db_file = _marker(data_dir, database), data_dir / f"{database}.sqlite"
    if not (marker.exists() and db_file.exists() and db_file.stat().st_size > 0):
        return False
    try:
        return json.loads(marker.read_text()).get("seed_version") == _SEED_VERSION
    except ValueError:
        return False


def ensure_database(data_dir: Path, database: str = "synchub", password: str | None = None,
                    catalog: Path = DEFAULT_CATALOG) -> None:
    """Build the database with its modules and demo data unless a complete one is already there."""
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with _locked(data_dir):
        if is_ready(data_dir, database):
            return
        secret = password or admin_password(data_dir)
        db_file = data_dir / f"{database}.sqlite"
        db_file.unlink(missing_ok=True)  # a half-built database from an interrupted run
        db_file.touch()  # trytond-admin only initialises an SQLite database whose file exists
        config = write_config(data_dir)
        pass_file = data_dir / "admin-password.tmp"
        fd = os.open(pass_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secret)
        env = {**os.environ, "TRYTONPASSFILE": str(pass_file)}
        log = data_dir / "setup.log"
        try:
            with open(log, "a") as out:
                subprocess.run([_tool("trytond-admin"), "-c", str(config), "-d", database, "--all",
                                "--email", "admin@synchub.local", "-u", *MODULES, "--activate-dependencies"],
                               env=env, stdout=out, stderr=subprocess.STDOUT, check=True)
                subprocess.run([sys.executable, "-m", "infra.local.tryton_setup", "--config", str(config),
                                "--database", database, "--catalog", str(Path(catalog).resolve())],
                               stdout=out, stderr=subprocess.STDOUT, check=True,
                               cwd=Path(__file__).resolve().parents[2])
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"Tryton database setup failed, see {log}") from exc
        finally:
            pass_file.unlink(missing_ok=True)
        _marker(data_dir, database).write_text(json.dumps({"seed_version": _SEED_VERSION, "modules": MODULES}))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        # Database-less call: methods under /<db>/ need a session and would answer 401.
        response = httpx.post(f"{url}/", json={"id": 0, "method": "common.server.version",
                                                          "params": []}, timeout=2.0)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and "result" in response.json()


def start(data_dir: Path, port: int | None = None, database: str = "synchub",
          timeout: float = 60.0) -> TrytonServer:
    """Serve the database over JSON-RPC on 127.0.0.1; returns once the server answers."""
    data_dir = Path(data_dir).resolve()
    ensure_database(data_dir, database)
    port = port or free_port()
    config = write_config(data_dir, port)
    url = f"http://127.0.0.1:{port}"
    with open(data_dir / "trytond.log", "a") as log:  # the child keeps its own descriptor
        process = subprocess.Popen([_tool("trytond"), "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
    server = TrytonServer(url=url, database=database, username=ADMIN, password=admin_password(data_dir),
                          data_dir=data_dir, process=process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"trytond exited with {process.returncode}, see {data_dir / 'trytond.log'}")
        if _answers(url):
            return server
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"trytond did not answer on {url} within {timeout:.0f}s")
