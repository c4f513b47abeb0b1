"""Sandbox vendor APIs for local mode and tests, following the vendors documented contracts."""
