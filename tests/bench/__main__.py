"""`python -m tests.bench [--quick] [--only NAME ...]`: run the benchmarks and print a summary table.

Exit code 0 unless a benchmark crashed; a missed goal is a printed line, never a failure.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import traceback
from types import ModuleType

from rich.console import Console
from rich.table import Table

from tests import bench
from tests.bench import Context, Figure, fmt, prepare_environment

ORDER = ("ingest", "imports", "orders", "cost", "reconcile", "flash_sale")  # cheap first, then by issue


def discover() -> list[ModuleType]:
    names = [info.name for info in pkgutil.iter_modules(bench.__path__) if info.name.startswith("bench_")]
    modules = [importlib.import_module(f"tests.bench.{name}") for name in names]
    rank = {name: index for index, name in enumerate(ORDER)}
    return sorted(modules, key=lambda module: (rank.get(module.NAME, len(ORDER)), module.NAME))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test of the benchmarks)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this benchmark (ingest, imports, orders, cost, reconcile, flash_sale, ...); repeatable")
    args = parser.parse_args(argv)
    prepare_environment()
    # Its own handle on stdout: benchmarks redirect sys.stdout to /dev/null around handler calls.
    console = Console(file=sys.stdout, highlight=False, width=None if sys.stdout.isatty() else 150)
    modules = discover()
    if args.only:
        wanted = {name.removeprefix("bench_") for name in args.only}
        unknown = wanted - {module.NAME for module in modules}
        if unknown:
            parser.error(f"no benchmark named {', '.join(sorted(unknown))}; have "
                         f"{', '.join(module.NAME for module in modules)}")
        modules = [module for module in modules if module.NAME in wanted]

    figures: list[Figure] = []
    crashed: list[str] = []
    durations: dict[str, float] = {}
    ctx = Context(quick=args.quick, console=console)
    for module in modules:
        console.rule(f"[bold]{module.NAME}[/]: {module.TITLE}")
        started = time.monotonic()
        try:
            figures.extend(module.run(ctx))
        except Exception:  # noqa: BLE001 - report and go on with the other benchmarks; the exit code says it crashed
            crashed.append(module.NAME)
            console.print(traceback.format_exc(), markup=False, highlight=False)
        durations[module.NAME] = time.monotonic() - started
        console.print(f"[dim]{module.NAME} took {durations[module.NAME]:.1f} s[/]")

    console.print(summary(figures, args.quick))
    for name in crashed:
        console.print(f"[bold red]{name} crashed[/]")
    console.print(f"total {sum(durations.values()):.1f} s")
    return 1 if crashed else 0


def summary(figures: list[Figure], quick: bool) -> Table:
    table = Table(title=f"SyncHub benchmarks{' (--quick)' if quick else ''}", show_lines=False)
    for column, justify in (("benchmark", "left"), ("metric", "left"), ("value", "right"), ("baseline", "right"),
                            ("ratio", "right"), ("goal", "right"), ("verdict", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for figure in figures:
        baseline = f"{fmt(figure.baseline, figure.unit)} ({figure.baseline_label})" if figure.baseline else ""
        ratio = f"{figure.ratio:.2f}x" if figure.ratio is not None else ""
        goal = f"<= {figure.goal_ratio}x" if figure.goal_ratio is not None else ""
        style = {"goal met": "green", "goal missed": "red"}.get(figure.verdict, "")
        verdict = f"[{style}]{figure.verdict}[/]" if style else figure.note
        table.add_row(figure.benchmark, figure.metric, fmt(figure.value, figure.unit), baseline, ratio, goal, verdict)
    return table


if __name__ == "__main__":
    sys.exit(main())
