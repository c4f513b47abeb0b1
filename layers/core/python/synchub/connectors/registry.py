"""Where vendors are registered: adding a vendor is its package plus one line here.

Each entry points at the package's `spec` module, imported on first use and kept light (settings
models and factories that import the adapter only when called), so a function pays only for the
vendors it talks to.
"""
from __future__ import annotations

from functools import cache
from importlib import import_module

from synchub.ports.kit import VendorSpec

VENDORS: dict[str, str] = {
    "shopify": "synchub.connectors.shopify.spec:SPEC",
    "woocommerce": "synchub.connectors.woocommerce.spec:SPEC",
    "hubspot": "synchub.connectors.hubspot.spec:SPEC",
    "tryton": "synchub.connectors.tryton.spec:SPEC",
    "odoo": "synchub.connectors.odoo.spec:SPEC",
}


@cache
def vendor_spec(vendor: str) -> VendorSpec:
    try:
        module_name, attribute = VENDORS[vendor].split(":")
    except KeyError:
        raise LookupError(f"no connector registered for {vendor!r}") from None
    spec = getattr(import_module(module_name), attribute)
    if not isinstance(spec, VendorSpec) or spec.vendor != vendor:
        raise TypeError(f"{VENDORS[vendor]} is not the VendorSpec of {vendor!r}")
    return spec
