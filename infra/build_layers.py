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
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
DEPS_DIR = ROOT / "layers" / "deps"
STAMP = DEPS_DIR / ".build-stamp"
PLACEHOLDER_DIR = ROOT / "build" / "deps-layer-placeholder"

LAMBDA_PYTHON_VERSION = "3.14"  # must match infra.constructs.function.RUNTIME (a test pins this)
PLATFORMS = ("manylinux2014_aarch64",)
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer"})
BUILD_FORMAT = 1  # bump when this script changes what it produces
# Markers are evaluated for the Lambda interpreter, not for the machine that builds.
TARGET_ENVIRONMENT = {
    "python_version": LAMBDA_PYTHON_VERSION,
    "python_full_version": f"{LAMBDA_PYTHON_VERSION}.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_machine": "aarch64",
    "platform_system": "Linux",
    "sys_platform": "linux",
    "os_name": "posix",
}


def runtime_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The run-time dependency list: pyproject [project.dependencies], as written."""
    return list(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"])


def stamp_for(requirements: list[str]) -> str:
    inputs = {
        "requirements": sorted(requirements),
        "python": LAMBDA_PYTHON_VERSION,
        "platforms": PLATFORMS,
        "excluded": sorted(RUNTIME_PROVIDED),
        "format": BUILD_FORMAT,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _pip(*args: str) -> None:
    platform_args = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
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
            LAMBDA_PYTHON_VERSION,
            "--implementation",
            "cp",
            *platform_args,
            *args,
        ],
        check=True,
    )


def resolve(requirements: list[str], workdir: Path) -> dict[str, str]:
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
    )
    resolved = [item["metadata"] for item in json.loads(report.read_text(encoding="utf-8"))["install"]]
    return layer_closure(requirements, resolved)


def layer_closure(requirements: list[str], resolved: list[dict]) -> dict[str, str]:
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
                if dependency.marker is None or _applies(dependency.marker, extra):
                    pending.append(dependency)
    return dict(sorted(shipped.items()))


def _applies(marker: Marker, extra: str) -> bool:
    return marker.evaluate({**TARGET_ENVIRONMENT, "extra": extra})


def build_deps_layer(*, force: bool = False) -> Path:
    """Build layers/deps/python unless the stamp says it is current; return the layer's asset dir."""
    requirements = runtime_requirements()
    stamp = stamp_for(requirements)
    target = DEPS_DIR / "python"
    if not force and target.is_dir() and STAMP.is_file() and STAMP.read_text().split("\n")[0] == stamp:
        return DEPS_DIR
    with tempfile.TemporaryDirectory(prefix="synchub-deps-") as tmp:
        work = Path(tmp)
        pins = resolve(requirements, work)
        staging = work / "python"
        # --no-deps with exact pins: the graph walk above already chose the set; --no-compile keeps
        # .pyc (which embed build paths and times) out, so the same pins give the same bytes.
        _pip(
            "--no-deps",
            "--no-compile",
            "--target",
            str(staging),
            *(f"{name}=={version}" for name, version in pins.items()),
        )
        shutil.rmtree(staging / "bin", ignore_errors=True)  # console scripts with this host's shebang
        for cache in staging.rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)
        DEPS_DIR.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), str(target))
    lock = "\n".join(f"{name}=={version}" for name, version in pins.items())
    STAMP.write_text(f"{stamp}\n{lock}\n", encoding="utf-8")
    return DEPS_DIR


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
