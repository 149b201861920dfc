"""Import layering: the service layer never imports reports, and no claims/reports modules import in a circle."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP = ("claims.api", "claims.console", "claims.cli", "claims.app")  # the layers above both services and reports


def _imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for package in ("claims", "reports", "workflows"):
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found.add(node.module)
                    found.update(f"{node.module}.{alias.name}" for alias in node.names)
                elif isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
            graph[module] = found
    return {module: {name for name in names if name in graph} for module, names in graph.items()}


def test_only_the_top_layers_import_reports():
    offenders = sorted(f"{module} -> {name}" for module, names in _imports().items()
                       if module.startswith("claims") and not module.startswith(TOP)
                       for name in names if name.startswith("reports"))
    assert offenders == []


def test_no_import_circles():
    graph = _imports()
    circles = []

    def visit(module: str, path: list[str], done: set[str]) -> None:
        for name in sorted(graph[module]):
            if name in path:
                circles.append(path[path.index(name):] + [name])
            elif name not in done:
                visit(name, path + [name], done)
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module], done)
    # A package importing its own submodules (claims.models -> claims.models.claim) is not a circle.
    circles = [c for c in circles if not all(m.startswith(c[-1] + ".") or m == c[-1] for m in c)]
    # The application's packages; workflows' own (rule_model <-> rule_model_subsidy, rules -> example_runner ->
    # compensation -> rules) are that package's to untangle and are left out here.
    assert [c for c in circles if any(m.startswith(("claims", "reports")) for m in c)] == []
