"""Loads functions/<name>/handler.py the way Lambda does (each folder is its own code asset)."""
from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

FUNCTIONS = Path(__file__).resolve().parent.parent / "functions"


@cache
def load_handler(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"synchub_function_{name}", FUNCTIONS / name / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
