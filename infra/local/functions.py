"""Loads functions/<name>/handler.py as Lambda would: each folder is its own code asset."""
from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


@cache
def load_handler(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"synchub_function_{name}", FUNCTIONS / name / "handler.py")
    if spec is None or spec.loader is None:
        raise LookupError(f"no function {name}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
