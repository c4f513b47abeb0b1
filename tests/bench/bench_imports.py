"""Issue 2: cold import time of every function's handler against `import boto3` alone, as Lambda would see it.

Each figure is a fresh interpreter (subprocess) timing only the import, repeated and interleaved with the
boto3 baseline; the median counts. The subprocess looks like a Lambda execution environment: LAMBDA_TASK_ROOT
set and tracing active (as the CDK stack deploys it), and only the distributions a function would really
have are importable (the layer's run-time dependencies and the runtime's boto3); dev-only packages
installed in .venv (requests, rich, click, moto...) are hidden so X-Ray's patch_all and httpx do not
import them, as they would not on Lambda.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from importlib import metadata

from tests.bench import ROOT, Context, Figure, fmt, median

NAME = "imports"
TITLE = "cold import of each handler vs `import boto3` (Lambda-like subprocess)"
GOAL = 2.0
FUNCTIONS = ROOT / "functions"
NOTABLE_HIDDEN = ("requests", "rich", "click", "pygments", "moto", "werkzeug", "trytond", "aws_cdk")

# Run in the subprocess: hide what Lambda would not have, then time one import.
PROBE = r"""
import importlib.abc, importlib.util, json, sys, time
blocked = frozenset(json.loads(sys.argv[1]))
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (not in the Lambda package)", name=name)
        return None
sys.meta_path.insert(0, Absent())
target, extras = sys.argv[2], json.loads(sys.argv[3])
before = len(sys.modules)
start, cpu_start = time.perf_counter(), time.process_time()
if target == "boto3":
    import boto3
else:
    spec = importlib.util.spec_from_file_location("handler", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
handler_s, handler_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
start = time.perf_counter()
for dotted in extras:  # what the vendor specs import at the first event (connectors, payload mappers)
    module_name, _, attribute = dotted.partition(":")
    module = importlib.import_module(module_name)
    if attribute:
        getattr(module, attribute)
first_use_s = time.perf_counter() - start
print(json.dumps({"import_s": handler_s, "import_cpu_s": handler_cpu_s, "first_use_s": first_use_s,
                  "modules": len(sys.modules) - before}))
"""


def runtime_closure() -> set[str]:
    """Distributions a deployed function has: the layer's requirements and the runtime's boto3, transitively."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from infra.build_layers import runtime_requirements

    seen: set[str] = {"synchub"}
    pending = [Requirement(text) for text in [*runtime_requirements(), "boto3"]]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.distribution(requirement.name).requires or []
        except metadata.PackageNotFoundError:
            continue
        extras = requirement.extras or {""}
        for text in requires:
            dependency = Requirement(text)
            if dependency.marker is None or any(dependency.marker.evaluate({"extra": extra}) for extra in extras):
                pending.append(dependency)
    return seen


def hidden_top_levels() -> list[str]:
    from packaging.utils import canonicalize_name

    allowed = runtime_closure()
    return sorted(top for top, dists in metadata.packages_distributions().items()
                  if not any(canonicalize_name(dist) in allowed for dist in dists))


# The module a capability's factory imports in each vendor package (checked by the import itself).
ADAPTER_MODULE = {"stock_sink": "inventory", "store_payloads": "mapping", "contacts": "crm", "deals": "crm",
                  "customer_accounts": "erp", "sales_orders": "erp", "product_lookup": "erp", "stock_source": "erp"}


def first_use_imports(function: str) -> list[str]:
    """The modules a function imports at its first event: the specs of the configured vendors (the local
    config's) whose capabilities it requires, and the adapter modules their factories import."""
    from synchub.catalog import FLOWS, SCHEDULES
    from synchub.connectors.registry import VENDORS, vendor_spec

    specs = {vendor: VENDORS[vendor].split(":")[0] for vendor in VENDORS}
    if function == "ingest":
        return [specs[vendor].rsplit(".", 1)[0] + ".webhooks" for vendor in VENDORS if vendor_spec(vendor).webhooks]
    spec = next((item for item in (*FLOWS, *SCHEDULES) if item.name == function), None)
    if spec is None:
        return []
    entries: list[str] = []
    for need in spec.requires:
        for vendor in VENDORS:
            vendor_specification = vendor_spec(vendor)
            if need.role in vendor_specification.roles and vendor_specification.provides_capability(need.capability):
                package = specs[vendor].rsplit(".", 1)[0]
                entries += [specs[vendor], f"{package}.{ADAPTER_MODULE.get(need.capability.name, 'spec')}"]
    return list(dict.fromkeys(entries))


def lambda_environment(task_root: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("POWERTOOLS_", "AWS_", "PYTHON"))}
    environment.update({"LAMBDA_TASK_ROOT": task_root, "AWS_LAMBDA_FUNCTION_NAME": "synchub-bench",
                        "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
                        "POWERTOOLS_SERVICE_NAME": "synchub", "POWERTOOLS_METRICS_NAMESPACE": "SyncHub"})
    return environment


def probe(target: str, extras: list[str], hidden: list[str], environment: dict[str, str],
          importtime: bool = False) -> tuple[dict, str]:
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", PROBE, json.dumps(hidden),
               target, json.dumps(extras)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tempfile.gettempdir(), env=environment,
                          timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"import of {target} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")
# Entry points worth naming: what a function pulls in through them, as it happened (import order matters).
ROOTS = ("boto3", "aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.batch",
         "aws_lambda_powertools.utilities.idempotency", "aws_lambda_powertools.logging",
         "aws_lambda_powertools.metrics", "aws_lambda_powertools.utilities.parameters", "aws_xray_sdk.core",
         "pydantic", "phonenumbers", "httpx", "synchub.models", "synchub.runtime.config")


def heaviest(importtime_log: str, limit: int = 7) -> tuple[list[tuple[str, float]], float]:
    """Cumulative ms under each named entry point (X-Ray's patch_all summed), heaviest first; and
    synchub's own self time."""
    cumulative: Counter[str] = Counter()
    own = 0.0
    for line in importtime_log.splitlines():
        match = IMPORT_LINE.match(line)
        if not match:
            continue
        name, spent = match.group(4), int(match.group(2)) / 1000
        if name.startswith("synchub"):
            own += int(match.group(1)) / 1000
        if name in ROOTS:
            cumulative[name] += spent
        elif name.startswith("aws_xray_sdk.ext.") and name.endswith(".patch"):
            cumulative["X-Ray patch_all"] += spent
    return cumulative.most_common(limit), own


def run(ctx: Context) -> list[Figure]:
    repeats = 3 if ctx.quick else 9  # this VM swings ~20% run to run: more samples steady the medians
    functions = sorted(path.name for path in FUNCTIONS.iterdir() if (path / "handler.py").is_file())
    hidden = hidden_top_levels()
    task_root = tempfile.mkdtemp(prefix="synchub-bench-task-")
    environment = lambda_environment(task_root)
    ctx.say(f"  {repeats} fresh interpreters per target, interleaved; Lambda-like env (LAMBDA_TASK_ROOT set, "
            f"tracing active); {len(hidden)} dev-only top-level packages hidden "
            f"(e.g. {', '.join(name for name in hidden if name in NOTABLE_HIDDEN)})")
    samples: dict[str, list[dict]] = {name: [] for name in ["boto3", *functions]}
    for _ in range(repeats):
        for name, runs in samples.items():
            target = "boto3" if name == "boto3" else str(FUNCTIONS / name / "handler.py")
            runs.append(probe(target, first_use_imports(name) if name != "boto3" else [], hidden,
                                       environment)[0])
    # Import is CPU-bound: process CPU time is the figure, because wall time on this shared VM swings ~20%
    # from run to run with what else the host schedules; wall time is printed beside it.
    baseline = median([1000 * sample["import_cpu_s"] for sample in samples["boto3"]])
    ctx.say(f"  baseline `import boto3`: median {fmt(baseline)} ms CPU "
            f"(wall median {fmt(median(1000 * s['import_s'] for s in samples['boto3']))} ms)")
    ctx.say(f"  {'function':<27}{'CPU ms':>10}{'wall ms':>9}{'x boto3':>9}{'modules':>9}{'+first use ms':>15}  verdict")
    figures: list[Figure] = []
    for name in functions:
        imports = [1000 * sample["import_cpu_s"] for sample in samples[name]]
        wall = [1000 * sample["import_s"] for sample in samples[name]]
        first_use = median([1000 * sample["first_use_s"] for sample in samples[name]])
        figure = Figure(NAME, f"{name} import (CPU)", median(imports), "ms", baseline, "import boto3", GOAL)
        figures.append(figure)
        ctx.say(f"  {name:<27}{median(imports):>10.0f}{median(wall):>9.0f}{figure.ratio or 0:>8.2f}x"
                f"{samples[name][0]['modules']:>9}{first_use:>15.0f}  {figure.verdict}")
    ctx.say("  where it goes (python -X importtime, one run each; ms under each entry point, nested ones overlap):")
    for name in functions:
        _, log = probe(str(FUNCTIONS / name / "handler.py"), [], hidden, environment, importtime=True)
        top, own = heaviest(log)
        ctx.say(f"    {name:<27}" + ", ".join(f"{package} {spent:.0f}" for package, spent in top)
                + f"; synchub's own modules {own:.0f}")
    return figures
