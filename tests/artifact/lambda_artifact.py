"""The deployable artifact, built as `make synth` builds it but for this host, and run as Lambda runs it.

- The deps layer: infra.build_layers with the same pins, for this host's Python and machine instead of
  Lambda's (so it can be imported here); cached under .synchub/artifact by the build's own stamp (the
  requirement list, Python, platforms, build format), so only a dependency change rebuilds it.
- The function code and the core layer: the CDK stack synthesised with that deps layer; each function's
  code asset and layers are read from the cloud assembly, i.e. the directories CDK staged with the stack's
  own excludes, the bytes `cdk deploy` would upload.
- The runtime: a site directory holding only boto3 and what it needs (what the Lambda runtime provides),
  linked from this virtualenv.
- A run: `python -I -S` (no site-packages, no PYTHONPATH, no user site), sys.path = the function's code,
  its layers, the runtime's boto3, the standard library; `import handler` and `handler.lambda_handler`.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra.build_layers import build_deps_layer, host_target, runtime_requirements, stamp_for

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".synchub" / "artifact"
RUNTIME_PROVIDES = "boto3"  # and, transitively, what it requires


def host_deps_layer() -> Path:
    """The deps layer's asset dir for this host, rebuilt only when the build's stamp changes."""
    target = host_target()
    stamp = stamp_for(runtime_requirements(), target)
    deps_dir = CACHE / "deps" / stamp[:16]
    if (CACHE / "deps").is_dir():
        for stale in (CACHE / "deps").iterdir():
            if stale != deps_dir:
                shutil.rmtree(stale, ignore_errors=True)
    return build_deps_layer(target=target, deps_dir=deps_dir)


def _closure(name: str) -> list[metadata.Distribution]:
    seen: dict[str, metadata.Distribution] = {}
    pending = [Requirement(name)]
    while pending:
        requirement = pending.pop()
        key = canonicalize_name(requirement.name)
        if key in seen:
            continue
        distribution = metadata.distribution(requirement.name)
        seen[key] = distribution
        for text in distribution.requires or []:
            dependency = Requirement(text)
            if dependency.marker is None or dependency.marker.evaluate({"extra": ""}):
                pending.append(dependency)
    return [seen[key] for key in sorted(seen)]


def runtime_site() -> Path:
    """A site dir with only boto3 and its requirements (links into this venv), cached by their versions."""
    distributions = _closure(RUNTIME_PROVIDES)
    pins = ",".join(f"{d.metadata['Name']}=={d.version}" for d in distributions)
    site = CACHE / "runtime" / hashlib.sha256(pins.encode()).hexdigest()[:16]
    if site.is_dir():
        return site
    staging = site.with_name(site.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for distribution in distributions:
        tops = {Path(str(file)).parts[0] for file in distribution.files or [] if not str(file).startswith("..")}
        for top in tops:
            source = Path(str(distribution.locate_file(top)))
            if source.exists() and not (staging / top).exists() and top != "__pycache__":
                (staging / top).symlink_to(source)
    staging.rename(site)
    return site


@dataclass(frozen=True)
class PackagedFunction:
    flow: str
    handler: str
    code: Path  # the staged code asset: what /var/task holds
    layers: tuple[Path, ...]  # staged layer assets, in the function's order: each one's python/ is on sys.path


def synthesise(outdir: Path, deps_dir: Path, stage: str = "dev") -> list[PackagedFunction]:
    """The stack as `make synth` makes it (the stage's config; cdk-nag, which packages nothing, left out),
    with `deps_dir` as the deps layer."""
    from aws_cdk import App

    from infra.app import load_config
    from infra.stack import SyncHubStack

    app = App(outdir=str(outdir), context={"aws:cdk:enable-asset-metadata": True})
    SyncHubStack(app, f"SyncHub-{stage}", config=load_config(stage), deps_layer_dir=deps_dir)
    assembly = app.synth()
    template = json.loads(Path(assembly.get_stack_by_name(f"SyncHub-{stage}").template_full_path).read_text())
    resources = template["Resources"]

    def asset(logical_id: str) -> Path:
        return outdir / resources[logical_id]["Metadata"]["aws:asset:path"]

    functions = []
    for logical_id, resource in resources.items():
        properties = resource.get("Properties", {})
        if resource["Type"] != "AWS::Lambda::Function" or not str(properties.get("Runtime", "")).startswith("python"):
            continue
        flow = properties["Environment"]["Variables"]["SYNCHUB_FLOW"]
        layers = tuple(asset(layer["Ref"]) for layer in properties.get("Layers", []))
        functions.append(PackagedFunction(flow, properties["Handler"], asset(logical_id), layers))
    return sorted(functions, key=lambda function: function.flow)


# Runs in the clean interpreter: only the paths given, then Lambda's own moves (import the handler module
# from the task root, call it with each event and a context).
BOOT = r"""
import importlib, json, sys
args = json.loads(sys.argv[1])
sys.path[:0] = args["path"]
module_name, _, function_name = args["handler"].rpartition(".")


class Context:
    function_name = args["function_name"]
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:" + args["function_name"]
    aws_request_id = "artifact-test"
    log_group_name = "/aws/lambda/" + args["function_name"]
    log_stream_name = "artifact"

    @staticmethod
    def get_remaining_time_in_millis():
        return 300_000


handler = getattr(importlib.import_module(module_name), function_name)
results = [handler(event, Context()) for event in args["events"]]
roots = tuple(entry for entry in sys.path if entry)
foreign = sorted({str(getattr(module, "__file__", "")) for module in list(sys.modules.values())
                  if getattr(module, "__file__", None) and not str(module.__file__).startswith(roots)})
with open(args["out"], "w") as out:
    json.dump({"results": results, "modules": len(sys.modules), "foreign": foreign}, out, default=str)
"""


@dataclass(frozen=True)
class Run:
    returncode: int
    results: list[Any]
    foreign: list[str]
    stdout: str
    stderr: str


def run_packaged(function: PackagedFunction, events: list[dict[str, Any]], *, runtime: Path,
                 environment: dict[str, str], workdir: Path) -> Run:
    """Invoke `function` on `events` in a fresh `python -I -S` whose sys.path holds only the artifact."""
    out = workdir / f"{function.flow}.result.json"
    out.unlink(missing_ok=True)
    path = [str(function.code), *(str(layer / "python") for layer in function.layers), str(runtime)]
    args = {"path": path, "handler": function.handler, "function_name": f"synchub-artifact-{function.flow}",
            "events": events, "out": str(out)}
    home = workdir / "home"  # no ~/.aws of this machine: a function has none either
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(home),
           "LAMBDA_TASK_ROOT": str(function.code), "AWS_EXECUTION_ENV": "AWS_Lambda_python",
           "AWS_LAMBDA_FUNCTION_NAME": args["function_name"], "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
           "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
           "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000", **environment}
    done = subprocess.run([sys.executable, "-I", "-S", "-c", BOOT, json.dumps(args)], capture_output=True,
                          text=True, cwd=workdir, env=env, timeout=600, check=False)
    result = json.loads(out.read_text()) if done.returncode == 0 and out.is_file() else {}
    return Run(done.returncode, result.get("results", []), result.get("foreign", []), done.stdout, done.stderr)
