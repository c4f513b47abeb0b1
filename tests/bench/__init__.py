"""SyncHub benchmarks, run on demand (`make bench`): figures and ratios against baselines measured in the same run.

Every benchmark module is `bench_<name>.py` with `NAME`, `TITLE` and `run(ctx) -> list[Figure]`. Timings are
printed, never asserted; a goal is reported as "goal met" or "goal missed".
"""
from __future__ import annotations

import contextlib
import logging
import math
import os
import statistics
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

ROOT = Path(__file__).resolve().parents[2]

# What the test suite sets too: functions read these at import or cold start; nothing reaches AWS.
BENCH_ENV = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here; tracing cost is not measured in-process
    "POWERTOOLS_METRICS_NAMESPACE": "SyncHub",
    "POWERTOOLS_DEV": "false",
}


def prepare_environment() -> None:
    for name, value in BENCH_ENV.items():
        os.environ.setdefault(name, value)
    os.environ.pop("AWS_ENDPOINT_URL", None)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Logs and EMF metrics are still formatted and written (as in Lambda), only to /dev/null; the rich
    console keeps its own handle on the real stdout."""
    chatty = logging.getLogger("werkzeug")  # the sandboxes' and moto's access logs, added lazily on stderr
    level = chatty.level
    chatty.setLevel(logging.ERROR)
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. Powertools' "No application metrics to publish"
        swapped = []
        for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
            for handler in getattr(logger, "handlers", []):
                if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.__stdout__, sys.__stderr__):
                    swapped.append((handler, handler.setStream(sink)))
        try:
            yield
        finally:
            for handler, stream in swapped:
                handler.setStream(stream)
            chatty.setLevel(level)


@dataclass
class Figure:
    """One measured figure, optionally against a baseline from the same run and a goal on the ratio."""

    benchmark: str
    metric: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    goal_ratio: float | None = None  # met when value / baseline <= goal_ratio
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    @property
    def verdict(self) -> str:
        if self.goal_ratio is None or self.ratio is None:
            return ""
        return "goal met" if self.ratio <= self.goal_ratio else "goal missed"


@dataclass
class Context:
    quick: bool
    console: Console

    def say(self, text: str) -> None:
        self.console.print(text, highlight=False)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction in 0..1)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def fmt(value: float, unit: str = "") -> str:
    if value >= 100 or value == int(value):
        text = f"{value:,.0f}"
    elif value >= 10:
        text = f"{value:,.1f}"
    else:
        text = f"{value:,.2f}"
    return f"{text} {unit}".strip()
