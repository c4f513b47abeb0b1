"""Tryton locally: a real trytond on SQLite, built once from PyPI's modules and reused after."""
from __future__ import annotations

from infra.local import tryton_erp
from infra.local.vendors import LocalVendor, LocalVendorContext


def start(context: LocalVendorContext) -> LocalVendor:
    server = context.reuse or tryton_erp.start(context.data_dir / "tryton", port=context.port or None)
    owned = context.reuse is None
    return LocalVendor(
        url=server.url, handle=server, stop=server.stop if owned else lambda: None,
        secret=lambda connection: {"username": server.username, "password": server.password},
        settings=lambda connection: {"url": server.url, "database": server.database},
        info={"kind": "tryton", "url": server.url, "database": server.database, "username": server.username,
              "password": server.password})
