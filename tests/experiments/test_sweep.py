"""The topology sweep (issue 18, item 6): its independent generator draws the shapes it names and
writes labels that only the planted paths compute; the report counts exact hits and Jaccard per
pick and pairs Full MRO against each method; `mro sweep` runs end to end."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mro_core.cli import main
from mro_core.data.npz import load_npz
from mro_core.experiments.planted_variants import KINDS, draw_topology, draw_variant, write_variant
from mro_core.experiments.sweep import SweepSpec, cells, jaccard, summarize


@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_topologies_have_the_shape_they_name(k):
    for seed in range(20):
        for kind in KINDS:
            edges = draw_topology(k, kind, np.random.default_rng(seed))
            assert 2 <= len(edges) <= min(2 * k, k * (k - 1)) or (kind == "idle" and len(edges) >= 2)
            assert all(s != t for s, t in edges) and len(set(edges)) == len(edges)
            out = np.bincount([s for s, _ in edges], minlength=k)
            inn = np.bincount([t for _, t in edges], minlength=k)
            if kind == "hub":
                assert out.max() >= 2
            if kind == "sink":
                assert inn.max() >= 2
            if kind == "idle":
                assert ((out + inn) == 0).any()
    assert draw_topology(5, "hub", np.random.default_rng(3)) == draw_topology(5, "hub", np.random.default_rng(3))


def test_unknown_shape_is_refused():
    with pytest.raises(ValueError, match="unknown topology kind"):
        draw_topology(4, "star", np.random.default_rng(0))


def test_written_variant_loads_with_its_own_dims_lengths_and_planted_set(tmp_path):
    v = draw_variant(4, "hub", 7, n_train=40, n_valid=10, n_test=10)
    ds = load_npz(write_variant(v, tmp_path / "v.npz"))
    assert ds.planted_paths == v.planted and ds.task == "regression"
    for m, d, L in zip(v.modalities, v.dims, v.lengths):
        assert ds.splits["train"].features[m].shape == (40, L, d)
        assert ds.splits["train"].valid[m].sum(axis=1).min() >= v.slots
    assert np.abs(ds.splits["test"].labels).max() <= 3.0


def test_the_label_is_what_the_planted_paths_retrieve(tmp_path):
    """Noise 0: the label equals scale x the weighted mean of v_s[q_t] over planted paths, read back
    from the file by matching the target's query code against the source's key codes."""
    v = replace(draw_variant(3, "random", 2, n_train=30, n_valid=5, n_test=5), noise=0.0)
    write_variant(v, tmp_path / "v.npz")
    z = np.load(tmp_path / "v.npz")
    K = v.slots
    rng = np.random.default_rng(v.seed + 10_000)
    codes = np.linalg.qr(rng.normal(size=(K, K)))[0].astype(np.float32)
    perms = [rng.permutation(d) for d in v.dims]
    inv = {m: np.argsort(p) for m, p in zip(v.modalities, perms)}  # undo each modality's channel order
    x = {m: z[f"train_{m}"][:, :, inv[m]] for m in v.modalities}
    n = z["train_label"].shape[0]
    y = np.zeros(n)
    for p, w in zip(v.planted, v.weights):
        s, t = p.split("->")
        q = x[t][:, 0, K + 1: 2 * K + 1]  # (N, K): the target's query code
        for b in range(n):
            steps = np.abs(x[s][b, :, :K]).sum(axis=1) > 0
            match = np.argmax(x[s][b, steps, :K] @ q[b])  # the stored key equal to the query
            y[b] += w * x[s][b, steps, K][match]
    y = np.clip(v.scale * y / sum(v.weights), -3, 3)
    assert np.allclose(y, z["train_label"], atol=1e-5)
    assert np.allclose(codes @ codes.T, np.eye(K), atol=1e-5)


def test_jaccard():
    assert jaccard("0110", "0110") == 1.0
    assert jaccard("0110", "0011") == pytest.approx(1 / 3)
    assert jaccard("0000", "0000") == 1.0


def _rows(method, picks):
    return [{"method": method, "seed": s, "pick": p, "pars_pick": p, "prior_mode": p, "test_mae": 0.1 + 0.1 * (p != "011"),
             "pars_test_mae": 0.1 + 0.1 * (p != "011")} for s, p in enumerate(picks)]


def test_summary_counts_hits_and_pairs_methods():
    table = [{"topology": "t", "modalities": ["a", "b"], "planted": ["a->b"], "kind": "hub"}]
    # k = 2: paths a->b, b->a; planted "10"
    full = [dict(r, pick="10", pars_pick="10", prior_mode="10", pars_test_mae=0.1) for r in _rows("full", ["10"] * 3)]
    unif = [dict(r, pick="11", pars_pick="11" if i else "10", prior_mode="", pars_test_mae=0.3 if i else 0.1)
            for i, r in enumerate(_rows("uniform", ["11"] * 3))]
    cs = cells({"t": full + unif}, table)
    s = summarize(cs, ["full", "uniform"])
    by = {(r["method"], r["pick"]): r for r in s["per_pick"]}
    assert by[("full", "parsimonious")]["exact"] == 1.0 and by[("full", "prior")]["jaccard"][0] == 1.0
    assert by[("uniform", "parsimonious")]["exact"] == pytest.approx(1 / 3)
    assert by[("uniform", "best")]["jaccard"][0] == pytest.approx(0.5)
    assert ("uniform", "prior") not in by  # no prior, no row
    pj = next(p for p in s["paired"] if p["what"].startswith("Jaccard"))
    assert pj["n"] == 3 and pj["diff"][0] == pytest.approx((0 + 0.5 + 0.5) / 3)
    pm = next(p for p in s["paired"] if p["what"].startswith("test MAE"))
    assert pm["diff"][0] == pytest.approx((0 - 0.2 - 0.2) / 3)
    assert s["kinds"][0]["kind"] == "hub" and s["kinds"][0]["exact"] == 1.0


def test_sweep_variants_are_deterministic_and_cycle_the_shapes():
    spec = SweepSpec("w", (4, 5), 4, ("full",), (0,), sweep_seed=1)
    a, b = spec.variants(), spec.variants()
    assert a == b and [v.kind for _, v in a] == list(KINDS) * 2
    assert [c for c, _ in a][:2] == ["k4-t0", "k4-t1"] and a[4][1].modalities == tuple(f"m{i}" for i in range(5))


def test_mro_sweep_runs_end_to_end_and_resumes(tmp_path, capsys):
    argv = ["sweep", "--name", "w", "--k", "3", "--topologies", "1", "--seeds", "1", "--methods", "full",
            "--epochs", "1", "--n-train", "32", "--d-model", "8", "--device", "cpu",
            "--out-dir", str(tmp_path / "res"), "--workdir", str(tmp_path / "work")]
    assert main(argv) == 0
    md = (tmp_path / "res" / "sweep_w.md").read_text()
    assert "| k3-t0 | hub |" in md and "| Full MRO | parsimonious | 1 |" in md
    from mro_core.experiments.results import recorded_version
    from mro_core.provenance import code_version

    assert recorded_version(tmp_path / "res" / "sweep_w.md") == code_version()
    assert recorded_version(tmp_path / "res" / "sweep_w_cells.csv") == code_version()
    runs = tmp_path / "work" / "sweep_w" / "study_w-k3-t0_runs.csv"
    before = runs.read_text()
    assert main(argv) == 0  # resumes: nothing to redo, same rows
    assert runs.read_text() == before
