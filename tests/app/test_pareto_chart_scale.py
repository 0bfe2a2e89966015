"""The Pareto scatter at scale: past ``WEBGL_POINTS`` a trace is WebGL and its hover carries no path
list (k = 6 with 10,000 masks: 14.6 MB of figure JSON and 2.1 s of SVG drawing before)."""

from __future__ import annotations

import numpy as np

from app.components.pareto_chart import WEBGL_POINTS, Source, pareto_figure
from app.services.metrics_view import primary
from app.services.pareto_view import pareto_front


def _source(n: int) -> Source:
    rng = np.random.default_rng(0)
    rows = [{"mask": format(i + 1, "030b"), "mflops": float(rng.uniform(0.1, 1.0)), "mae": float(rng.uniform(0.1, 0.9)),
             "_paths": "T->A, A->T, V->T " * 5, "_source_id": "r", "_source": "run"} for i in range(n)]
    return Source("r", "run", rows, pareto_front(rows, "mae", False), None, None, "")


def test_a_large_trace_is_webgl_and_lean_a_small_one_svg_with_paths():
    spec = primary("regression")
    big = pareto_figure([_source(WEBGL_POINTS + 500)], [], spec)
    dominated = [t for t in big.data if len(t.x) > WEBGL_POINTS // 2]
    assert dominated and all(t.type == "scattergl" for t in dominated)
    assert all(c[2] == "" for t in dominated for c in t.customdata)  # no per-point path list
    assert all(c[0] and c[1] == "r" for t in dominated for c in t.customdata)  # mask and source still there
    small = pareto_figure([_source(50)], [], spec)
    assert {t.type for t in small.data} == {"scatter"}
    assert all(c[2].startswith("T-&gt;A") or c[2].startswith("T->A") for t in small.data for c in t.customdata)
    assert len(big.to_json()) < 150 * (WEBGL_POINTS + 500)  # measured 93 bytes a point lean, 223 with paths
