"""Loads functions/<name>/handler.py the way Lambda does (shared with local mode)."""
from infra.local.functions import load_handler

__all__ = ["load_handler"]
