"""The house rules, checked on the source: every module sits on a floor, imports only from its floor
or below (function-local imports count), no import loop, the dashboard never imports the CLI, and no
module is over 500 lines. A new module must be given a floor here (docs/design.md, Architecture)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 500

# Floors, from the ground up. A prefix ending in "." covers a whole package.
FLOORS: list[tuple[float, tuple[str, ...]]] = [
    # foundations: torch-free
    (0, ("mro_core", "mro_core.atomic", "mro_core.procs", "mro_core.rowlog", "mro_core.cancel",
         "mro_core.config", "mro_core.paths", "mro_core.metrics", "mro_core.pareto", "mro_core.provenance")),
    (1, ("mro_core.data", "mro_core.data.")),
    # the models and their FLOPs
    (2, ("mro_core.model", "mro_core.model.")),
    # the training wing: the one skeleton (loop) and what runs on it
    (3, ("mro_core.training", "mro_core.training.distributed")),
    (3.1, ("mro_core.training.checkpoint",)),
    (3.2, ("mro_core.training.loop",)),
    (3.3, ("mro_core.training.train",)),
    (3.4, ("mro_core.training.baselines",)),
    # the search wing: statistics -> prior -> rank losses -> selection -> the search's epochs
    (4, ("mro_core.search", "mro_core.search.edge_stats")),
    (4.1, ("mro_core.search.prior",)),
    (4.2, ("mro_core.search.ranking",)),
    (4.3, ("mro_core.search.selection",)),
    (4.4, ("mro_core.search.run",)),
    (5, ("mro_core.measure", "mro_core.measure.")),
    (6, ("mro_core.experiments", "mro_core.experiments.tables", "mro_core.experiments.study",
         "mro_core.experiments.pick_scores", "mro_core.experiments.baselines",
         "mro_core.experiments.planted_variants")),
    (6.1, ("mro_core.experiments.study_ray", "mro_core.experiments.results", "mro_core.experiments.sweep")),
    (7.0, ("mro_core.runs", "mro_core.runs.records", "mro_core.runs.logs")),
    (7.1, ("mro_core.runs.schema",)),
    (7.15, ("mro_core.runs.events", "mro_core.runs.ownership")),
    (7.2, ("mro_core.runs.store",)),
    (7.3, ("mro_core.runs.launcher", "mro_core.runs.job", "mro_core.runs.request")),
    (7.4, ("mro_core.runs.api", "mro_core.runs.worker")),
    (8, ("mro_core.cli", "mro_core.cli.", "mro_core.__main__", "app", "app.services", "app.services.")),
    (9, ("app.resources",)),
    (10, ("app.components", "app.components.")),
    (11, ("app.views.",)),
    (12, ("app.main",)),
]


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in ("mro_core", "app"):
        for f in (ROOT / pkg).rglob("*.py"):
            parts = f.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            mods[name] = f
    return mods


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path) -> set[str]:
    """Every project module ``path`` imports, at any depth of the file (function-local ones too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {r for a in node.names if (r := _resolve(a.name))}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                if r := (_resolve(f"{node.module}.{a.name}") or _resolve(node.module)):
                    out.add(r)
    return out


GRAPH = {m: _imports(p) - {m} for m, p in MODULES.items()}


def floor(module: str) -> float:
    best: tuple[int, float] | None = None
    for level, names in FLOORS:
        for n in names:
            hit = module.startswith(n) if n.endswith(".") else module == n
            if hit and (best is None or len(n) > best[0]):
                best = (len(n), level)
    if best is None:
        raise AssertionError(f"{module} has no floor; add it to FLOORS in tests/test_layers.py")
    return best[1]


def test_every_module_has_a_floor():
    for m in MODULES:
        floor(m)


def test_no_import_runs_up_a_floor():
    bad = [f"{m} (floor {floor(m):g}) imports {t} (floor {floor(t):g})"
           for m, targets in GRAPH.items() for t in targets
           if floor(t) > floor(m)]
    assert not bad, "\n".join(sorted(bad))


def test_no_import_loop():
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(GRAPH[m]):
            if t.startswith(m + ".") or m.startswith(t + "."):
                continue  # a package and its own modules (``__init__`` re-exports)
            if state.get(t) == 1:
                loop = stack[stack.index(t):] + [t]
                pytest.fail("import loop: " + " -> ".join(loop))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)


def test_the_dashboard_never_imports_the_cli():
    bad = [m for m, targets in GRAPH.items() if m.startswith("app") and any(t.startswith("mro_core.cli") for t in targets)]
    assert not bad


def test_no_module_over_500_lines():
    big = {m: n for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not big, big


def test_the_rules_can_fail():
    """The checker sees a function-local import and an upward one (so the tests above are not vacuous)."""
    assert "mro_core.training.loop" in GRAPH["mro_core.training.baselines"]  # a known downward import
    assert "mro_core.model.flops" in GRAPH["mro_core.model.baseline_flops"]
    assert "mro_core.search.run" in GRAPH["mro_core.runs.worker"]  # imported inside execute_search
    assert floor("mro_core.search.run") > floor("mro_core.config")


FOUNDATIONS = {"atomic", "procs", "rowlog", "cancel", "config", "paths", "metrics", "pareto", "provenance",
               "__init__", "__main__"}
WINGS = {"data", "model", "training", "search", "measure", "experiments", "runs", "cli"}


def test_only_foundations_lie_loose_and_every_wing_is_known():
    """A module at the top of ``mro_core`` is a foundation; everything else lives in a named wing
    (docs/design.md, Architecture), so a newcomer sees which modules belong together."""
    top = ROOT / "mro_core"
    loose = {f.stem for f in top.glob("*.py")} - FOUNDATIONS
    assert not loose, f"modules outside a wing: {sorted(loose)}"
    wings = {d.name for d in top.iterdir() if d.is_dir() and (d / "__init__.py").exists()}
    assert wings == WINGS, wings ^ WINGS
    untested = {w for w in WINGS if not (ROOT / "tests" / w).is_dir()}
    assert not untested, f"tests do not mirror the wings {sorted(untested)}"
