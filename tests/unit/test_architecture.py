"""The dependency direction and the connector kit's promise, checked on the source: flows import no
connector, runtime imports no flow, nothing in synchub imports in a cycle, and core code names no vendor."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from synchub.connectors.registry import VENDORS

ROOT = Path(__file__).resolve().parents[2]
SYNCHUB = ROOT / "layers" / "core" / "python" / "synchub"


def _module(path: Path) -> str:
    parts = path.relative_to(SYNCHUB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """synchub modules imported at module level (not inside functions or TYPE_CHECKING blocks)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("synchub")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("synchub"):
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


GRAPH = {_module(path): _imports(path) for path in SYNCHUB.rglob("*.py")}


def _edges(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    return {module: {target for target in targets if target in graph and target != module}
            for module, targets in graph.items()}


def test_flows_never_import_connectors_runtime_or_state() -> None:
    for module, targets in GRAPH.items():
        if module.startswith("synchub.flows"):
            bad = {t for t in targets if t.startswith(("synchub.connectors", "synchub.runtime", "synchub.state"))}
            assert not bad, f"{module} imports {bad}"


def test_runtime_never_imports_flows_and_ports_import_no_adapter() -> None:
    for module, targets in GRAPH.items():
        if module.startswith("synchub.runtime"):
            assert not {t for t in targets if t.startswith("synchub.flows")}, module
        if module.startswith(("synchub.ports", "synchub.models")):
            assert not {t for t in targets if t.startswith(("synchub.connectors", "synchub.runtime",
                                                            "synchub.state", "synchub.flows"))}, module


def test_no_import_cycle_between_synchub_modules() -> None:
    edges = _edges(GRAPH)
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in edges[module]:
            if state.get(target) == 1:
                cycle = trail[trail.index(target):] + [target] if target in trail else [module, target]
                raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
            if target not in state:
                visit(target, [*trail, target])
        state[module] = 2

    for module in edges:
        if module not in state:
            visit(module, [module])


def test_core_code_and_infra_name_no_vendor() -> None:
    names = re.compile("|".join(sorted(VENDORS)), re.IGNORECASE)
    core = [SYNCHUB / part for part in ("runtime", "flows", "ports", "state", "models")]
    core += [SYNCHUB / "catalog.py", SYNCHUB / "errors.py"]
    infra = [path for path in (ROOT / "infra").rglob("*.py")
             if not path.is_relative_to(ROOT / "infra" / "local" / "sandboxes")
             and not path.is_relative_to(ROOT / "infra" / "local" / "vendors")
             and path.name not in ("demo.py", "tryton_erp.py", "tryton_setup.py")]  # the vendors' local stand-ins
    files = [p for base in core for p in ([base] if base.is_file() else base.rglob("*.py"))] + infra
    offenders = {str(path.relative_to(ROOT)): sorted(set(names.findall(path.read_text(encoding="utf-8"))))
                 for path in files if names.search(path.read_text(encoding="utf-8"))}
    assert not offenders, offenders
