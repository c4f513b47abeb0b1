"""Local stand-ins for vendors: how local mode starts each vendor's sandbox (or real local server).

A vendor's spec names its starter (`local_sandbox = "infra.local.vendors.<vendor>:start"`); local mode
calls it once per vendor with a `LocalVendorContext` and gets a `LocalVendor` back: where it listens,
the secret and settings each of the vendor's connections gets on this machine, and what
`.synchub/local.json` shows. Local mode itself names no vendor.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class LocalVendorContext:
    vendor: str
    data_dir: Path
    port: int  # the port this vendor's stand-in listens on (0: pick a free one)
    catalog: Path  # the demo catalogue every local system is seeded from
    connections: list[Any]  # this vendor's ConnectionConfig entries
    reuse: Any = None  # an already running server to use instead of starting one (tests share one ERP)

    def credential(self, name: str, make: Callable[[], str]) -> str:
        """A local secret, generated once per checkout and kept (0600) so restarts and clients agree."""
        path = self.data_dir / "credentials.json"
        values = json.loads(path.read_text()) if path.exists() else {}
        key = f"{self.vendor}_{name}"
        if key not in values:
            values[key] = make()
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values, indent=2))
            path.chmod(0o600)
        return str(values[key])


@dataclass
class LocalVendor:
    url: str
    handle: Any  # the sandbox app or server object, for tests and the demo to inspect
    secret: Callable[[Any], dict[str, Any]]  # connection -> its secret's values
    settings: Callable[[Any], dict[str, Any]] = lambda connection: {}  # connection -> settings overrides
    info: dict[str, Any] = field(default_factory=dict)  # what local.json shows for this vendor
    stop: Callable[[], None] = lambda: None


def serve(app: Any, port: int) -> tuple[Any, int]:
    """Serve a WSGI app on 127.0.0.1 in a daemon thread; returns the server and its port."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, name=f"http-{server.server_port}", daemon=True).start()
    return server, server.server_port
