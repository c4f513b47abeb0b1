"""Builds the third-party Lambda layer (layers/deps/python) with pip, without Docker.

pip downloads manylinux aarch64 wheels for the Lambda Python version, so an x86_64 laptop builds what
Graviton runs. boto3 and botocore (and what only they need) are left out: the runtime ships them, and
a copy in /opt/python would shadow the runtime's own. A stamp of the inputs skips the rebuild when the
requirement list has not changed. Run: `python -m infra.build_layers` (the CDK app calls it too).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
DEPS_DIR = ROOT / "layers" / "deps"
STAMP = DEPS_DIR / ".build-stamp"
PLACEHOLDER_DIR = ROOT / "build" / "deps-layer-placeholder"

LAMBDA_PYTHON_VERSION = "3.14"  # must match infra.constructs.function.RUNTIME (a test pins this)
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer"})
BUILD_FORMAT = 1  # bump when this script changes what it produces


@dataclass(frozen=True)
class LayerTarget:
    """The interpreter and machine a layer is built for: Lambda's, or (tests/artifact) this host's."""

    python_version: str
    platforms: tuple[str, ...]
    machine: str

    @property
    def environment(self) -> dict[str, str]:
        """Markers are evaluated for the target interpreter, not for the machine that builds."""
        return {
            "python_version": self.python_version,
            "python_full_version": f"{self.python_version}.0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "platform_machine": self.machine,
            "platform_system": "Linux",
            "sys_platform": "linux",
            "os_name": "posix",
        }


LAMBDA = LayerTarget(LAMBDA_PYTHON_VERSION, ("manylinux2014_aarch64",), "aarch64")
PLATFORMS = LAMBDA.platforms
TARGET_ENVIRONMENT = LAMBDA.environment


def host_target() -> LayerTarget:
    """This machine's interpreter, so a test can import what it built (same pins, other wheels)."""
    machine = platform.machine()
    return LayerTarget(f"{sys.version_info.major}.{sys.version_info.minor}", (f"manylinux2014_{machine}",), machine)


def runtime_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The run-time dependency list: pyproject [project.dependencies], as written."""
    return list(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"])


def stamp_for(requirements: list[str], target: LayerTarget = LAMBDA) -> str:
    inputs = {
        "requirements": sorted(requirements),
        "python": target.python_version,
        "platforms": target.platforms,
        "excluded": sorted(RUNTIME_PROVIDED),
        "format": BUILD_FORMAT,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _pip(*args: str, target: LayerTarget = LAMBDA) -> None:
    platform_args = [arg for name in target.platforms for arg in ("--platform", name)]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "--python-version",
            target.python_version,
            "--implementation",
            "cp",
            *platform_args,
            *args,
        ],
        check=True,
    )


def resolve(requirements: list[str], workdir: Path, target: LayerTarget = LAMBDA) -> dict[str, str]:
    """Resolve for the Lambda target with pip; return name -> version of what the layer must ship."""
    report = workdir / "report.json"
    _pip(
        "--dry-run",
        "--ignore-installed",
        "--report",
        str(report),
        "--target",
        str(workdir / "dry"),
        *requirements,
        target=target,
    )
    resolved = [item["metadata"] for item in json.loads(report.read_text(encoding="utf-8"))["install"]]
    return layer_closure(requirements, resolved, target)


def layer_closure(requirements: list[str], resolved: list[dict], target: LayerTarget = LAMBDA) -> dict[str, str]:
    """Walk the dependency graph from our requirements through pip's resolution (its report's
    `metadata` entries), stopping at what the runtime provides, so a package only botocore needs
    (urllib3, dateutil, six) stays out too. Returns name -> version, sorted by name."""
    by_name = {canonicalize_name(metadata["name"]): metadata for metadata in resolved}
    shipped: dict[str, str] = {}
    pending = [Requirement(text) for text in requirements]
    seen: set[tuple[str, str]] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in RUNTIME_PROVIDED:
            continue
        metadata = by_name[name]
        shipped[name] = metadata["version"]
        for extra in ("", *sorted(requirement.extras)):
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            for text in metadata.get("requires_dist", []):
                dependency = Requirement(text)
                if dependency.marker is None or dependency.marker.evaluate({**target.environment, "extra": extra}):
                    pending.append(dependency)
    return dict(sorted(shipped.items()))


def build_deps_layer(*, force: bool = False, target: LayerTarget = LAMBDA, deps_dir: Path = DEPS_DIR) -> Path:
    """Build <deps_dir>/python unless its stamp says it is current; return the layer's asset dir."""
    requirements = runtime_requirements()
    stamp = stamp_for(requirements, target)
    stamp_file = deps_dir / STAMP.name
    layer = deps_dir / "python"
    if not force and layer.is_dir() and stamp_file.is_file() and stamp_file.read_text().split("\n")[0] == stamp:
        return deps_dir
    with tempfile.TemporaryDirectory(prefix="synchub-deps-") as tmp:
        work = Path(tmp)
        pins = resolve(requirements, work, target)
        staging = work / "python"
        # --no-deps with exact pins: the graph walk above already chose the set; --no-compile keeps
        # .pyc (which embed build paths and times) out, so the same pins give the same bytes.
        _pip(
            "--no-deps",
            "--no-compile",
            "--target",
            str(staging),
            *(f"{name}=={version}" for name, version in pins.items()),
            target=target,
        )
        shutil.rmtree(staging / "bin", ignore_errors=True)  # console scripts with this host's shebang
        for cache in staging.rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(layer, ignore_errors=True)
        deps_dir.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), str(layer))
    lock = "\n".join(f"{name}=={version}" for name, version in pins.items())
    stamp_file.write_text(f"{stamp}\n{lock}\n", encoding="utf-8")
    return deps_dir


def placeholder_deps_dir() -> Path:
    """A tiny stand-in for the deps layer, for synth in tests where building wheels is not the point."""
    marker = PLACEHOLDER_DIR / "python" / "PLACEHOLDER.txt"
    if not marker.is_file():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("Placeholder deps layer: synthesised without building wheels.\n", encoding="utf-8")
    return PLACEHOLDER_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when the stamp is current")
    args = parser.parse_args(argv)
    path = build_deps_layer(force=args.force)
    print(f"deps layer ready: {path / 'python'} (pins in {STAMP.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
