"""A study: search methods x seeds on one dataset, with statistics a claim can stand on.

Each (method, seed) is one full search (:func:`mro_core.search.run.run_search`), checkpointed every
epoch; its summary is one row of ``<out_dir>/study_<name>_runs.csv``, written as soon as the run
ends. A restarted study skips the rows already there and resumes a half-done search from its
checkpoint, so a kill loses at most one epoch per worker.

The report (:func:`summarize`, :func:`write_report`), per method:

- hit rate of the planted mask by the ``best`` pick and by the prior's own top mask, with Wilson
  95% intervals (scipy's ``binomtest(...).proportion_ci(method="wilson")``);
- the pick's shared-weight test metric, its MFLOPs, and (with a stand-alone ground-truth table,
  :mod:`mro_core.measure.ground_truth`) its regret: stand-alone test metric of the pick minus that of the
  best stand-alone mask;
- epochs and path executions to the first hit;
- the parsimonious pick (:func:`mro_core.pareto.one_se_pick`): its shared-weight and (with
  ``--finetune-epochs``) fine-tuned test metric with bootstrap intervals, MFLOPs, paths, and its
  exact-hit rate of the planted mask;
- paired differences Full MRO - method over the common seeds: mean with a percentile bootstrap
  95% interval (scipy's ``bootstrap``) and the Wilcoxon signed-rank p-value.

Choices are made on validation; the test split only reports.
"""

from __future__ import annotations

import logging
import re
import time
from concurrent.futures import as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from mro_core.procs import exclusive, worker_pool
from mro_core.rowlog import RowLog, pending, read_rows

log = logging.getLogger(__name__)

METHODS: dict[str, tuple[str, str, dict]] = {
    # name: (label, SearchConfig.ablation, SearchConfig overrides)
    "full": ("Full MRO", "none", {}),
    "paper": ("Full MRO, paper-literal settings", "none", {}),  # overrides: search.PAPER_LITERAL
    "no_prior_guidance": ("MRO w/o Prior Guidance", "no_prior_guidance", {}),
    "no_mrg_prior": ("MRO w/o MRG Prior", "no_mrg_prior", {}),
    "no_rank_reg": ("MRO w/o Rank Regularization", "no_rank_reg", {}),
    "uniform": ("Uniform one-shot", "uniform", {}),
    "random_search": ("Random search", "random_search", {}),
}
"""Study methods. ``paper`` is Full MRO with the first release's literal Table 1 settings."""


class StudyError(ValueError):
    """A study that cannot run as asked (unknown method, no seeds, hit rate without planted paths)."""


@dataclass(frozen=True)
class StudySpec:
    """Everything a study needs, as plain data (picklable for worker processes).

    Attributes:
        name: the study's name (file names ``study_<name>.*``).
        data: ``load_dataset`` arguments (``name``, ``data_path``, ``synthetic`` dict, ...).
        model / train / search: ``to_dict`` of the configs; ``search`` is the base of every method.
        methods: names from :data:`METHODS`.
        seeds: training seeds (the data stays fixed).
        workdir: where the searches' checkpoints go.
        ground_truth: stand-alone CSV for regrets (None: no regret column).
    """

    name: str
    data: dict
    model: dict
    train: dict
    search: dict
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    workdir: str
    ground_truth: str | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", self.name):
            raise StudyError(f"study name {self.name!r} must be 1-100 letters, digits, '.', '_' or '-' "
                             "(it names files), starting with a letter or digit")
        bad = [m for m in self.methods if m not in METHODS]
        if bad:
            raise StudyError(f"unknown method(s) {bad}; choose from {list(METHODS)}")
        if not self.methods:
            raise StudyError("a study needs at least one method")
        if not self.seeds:
            raise StudyError("a study needs at least one seed (--seeds N with N >= 1)")


def open_data(data: Mapping[str, Any]):
    """The dataset named by a data spec (see :class:`StudySpec`)."""
    from mro_core.config import SyntheticConfig, from_dict
    from mro_core.data import load_dataset

    d = dict(data)
    syn = from_dict(SyntheticConfig, d.pop("synthetic")) if d.get("synthetic") else None
    return load_dataset(d.pop("name"), d.pop("data_path", None), synthetic=syn, **d)


def search_config_for(spec: StudySpec, method: str):
    """The SearchConfig of ``method`` on top of the study's base settings."""
    from mro_core.config import PAPER_LITERAL, SearchConfig, from_dict

    _, ablation, over = METHODS[method]
    cfg = replace(from_dict(SearchConfig, spec.search), ablation=ablation, **over)
    return replace(cfg, **PAPER_LITERAL) if method == "paper" else cfg


def run_one(spec: StudySpec, method: str, seed: int, threads: int = 1) -> dict:
    """One search of the study; its summary row."""
    import torch

    from mro_core import metrics as M
    from mro_core.config import ModelConfig, TrainConfig, from_dict
    from mro_core.search.run import run_search

    torch.set_num_threads(threads)
    ds = open_data(spec.data)
    model_cfg = from_dict(ModelConfig, spec.model)
    train_cfg = replace(from_dict(TrainConfig, spec.train), seed=seed)
    cfg = search_config_for(spec, method)
    out = Path(spec.workdir) / f"{spec.name}-{method}-s{seed}.pt"
    t0 = time.perf_counter()
    res = run_search(ds, model_cfg, train_cfg, cfg, out=out, resume=True, data_desc=dict(spec.data))
    metric, _ = M.primary_metric(ds.task)
    best = res.picks["best"]
    pars = res.picks.get("parsimonious") or {}
    last = res.history[-1] if res.history else {}
    fh = res.first_hit or {}
    return {
        "method": method, "seed": seed, "pick": best["mask"], "pick_paths": best["mask"].count("1"),
        "pick_mflops": best["mflops"], f"valid_{metric}": best[metric], f"test_{metric}": best["test"][metric],
        "prior_mode": res.picks.get("prior", {}).get("mask", ""),
        "hit": "" if last.get("hit") is None else int(bool(last["hit"])),
        "prior_hit": "" if last.get("prior_hit") is None else int(bool(last["prior_hit"])),
        "first_hit_epoch": fh.get("epoch", ""), "first_hit_path_executions": fh.get("path_executions", ""),
        "rank_spearman": "" if last.get("rank_spearman") is None else last["rank_spearman"],
        "rank_kendall": "" if last.get("rank_kendall") is None else last["rank_kendall"],
        "path_executions": last.get("path_executions", ""), "epochs": train_cfg.epochs,
        "seconds": round(time.perf_counter() - t0, 1),
        # the pick trained alone afterwards (--finetune-epochs), beside its shared-weight figures
        "finetuned_pick": (res.finetune or {}).get("mask", ""),
        f"finetuned_valid_{metric}": ((res.finetune or {}).get("finetuned_valid") or {}).get(metric, ""),
        f"finetuned_test_{metric}": ((res.finetune or {}).get("finetuned_test") or {}).get(metric, ""),
        # the parsimonious pick (one standard error rule), the one the tables report and fine-tune
        "pars_pick": pars.get("mask", ""), "pars_mflops": pars.get("mflops", ""),
        f"pars_valid_{metric}": pars.get(metric, ""), f"pars_test_{metric}": (pars.get("test") or {}).get(metric, ""),
        "pars_hit": "" if last.get("parsimonious_hit") is None else int(bool(last["parsimonious_hit"])),
    }


def runs_path(out_dir: str | Path, name: str) -> Path:
    return Path(out_dir) / f"study_{name}_runs.csv"


def run_study(spec: StudySpec, out_dir: str | Path, *, workers: int = 1,
              submit: Callable[[list[tuple[str, int]]], Any] | None = None) -> list[dict]:
    """Run every (method, seed) not yet in the runs CSV and append its row; returns all rows.

    Args:
        workers: local worker processes (spawned, one torch thread each).
        submit: another executor (e.g. Ray, :mod:`mro_core.experiments.study_ray`): called with the pending
            (method, seed) pairs, it yields finished rows; the driver alone writes the CSV.
    """
    path = runs_path(out_dir, spec.name)
    Path(spec.workdir).mkdir(parents=True, exist_ok=True)
    what = f"study {spec.name!r}"
    # one study of a name at a time: its runs CSV and its checkpoints (in workdir) are its own
    with exclusive(path.with_name(f"study_{spec.name}.lock"), what), \
            exclusive(Path(spec.workdir) / f".study_{spec.name}.lock", what):
        _run_pending(spec, path, workers, submit)
    return [r for r in read_rows(path, _key) if r["method"] in spec.methods and int(r["seed"]) in spec.seeds]


def _key(r: Mapping[str, Any]) -> tuple[str, int]:
    return (str(r["method"]), int(r["seed"]))


def _run_pending(spec: StudySpec, path: Path, workers: int, submit: Callable | None) -> None:
    todo = pending(path, [(m, s) for s in spec.seeds for m in spec.methods], _key)
    log.info("study %s: %d of %d runs to do", spec.name, len(todo), len(spec.methods) * len(spec.seeds))
    with RowLog(path, _key) as rows:

        def write(row: dict) -> None:
            rows.write(row)
            log.info("study %s: %s seed %s done: pick %s", spec.name, row["method"], row["seed"], row["pick"])

        if submit is not None:
            for row in submit(todo):
                write(row)
        elif workers <= 1:
            for m, s in todo:
                write(run_one(spec, m, s))
        else:
            with worker_pool(workers) as pool:
                for fut in as_completed([pool.submit(run_one, spec, m, s) for m, s in todo]):
                    write(fut.result())


# ---------------------------------------------------------------------------------- statistics
def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson 95% interval of a proportion k/n (scipy)."""
    from scipy.stats import binomtest

    if n == 0:
        return (float("nan"), float("nan"))
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return (float(ci.low), float(ci.high))


def mean_ci(x: Sequence[float]) -> tuple[float, float, float]:
    """Mean with a percentile bootstrap 95% interval (scipy; the mean itself for n < 2)."""
    from scipy.stats import bootstrap

    a = np.asarray(x, dtype=float)
    if a.size == 0:
        return (float("nan"),) * 3
    if a.size < 2 or np.allclose(a, a[0]):
        return (float(a.mean()), float(a.mean()), float(a.mean()))
    ci = bootstrap((a,), np.mean, confidence_level=0.95, method="percentile", n_resamples=9999,
                   random_state=np.random.default_rng(0)).confidence_interval
    return (float(a.mean()), float(ci.low), float(ci.high))


def wilcoxon_p(d: Sequence[float]) -> float | None:
    """Two-sided Wilcoxon signed-rank p of paired differences (None when all are zero)."""
    from scipy.stats import wilcoxon

    a = np.asarray(d, dtype=float)
    if a.size == 0 or np.allclose(a, 0):
        return None
    return float(wilcoxon(a).pvalue)


def _filled(rs: Sequence[Mapping], key: str) -> list[float]:
    return [float(r[key]) for r in rs if r.get(key) not in ("", None)]


def _parsimonious_summary(row: dict, rs: Sequence[Mapping], metric: str) -> None:
    """Adds the parsimonious pick's figures to a method's ``row`` when every run has them (runs CSVs
    of older studies do not): its shared-weight test metric, the fine-tuned one (when the study
    fine-tuned it: ``finetuned_pick`` equals ``pars_pick``), mean MFLOPs and paths, planted hits."""
    test, ft = f"pars_test_{metric}", f"finetuned_test_{metric}"
    vals = _filled(rs, test)
    if not rs or len(vals) != len(rs):
        return
    row[test], row[f"{test}_lo"], row[f"{test}_hi"] = mean_ci(vals)
    row["pars_mflops"] = float(np.mean(_filled(rs, "pars_mflops")))
    row["pars_paths"] = float(np.mean([str(r["pars_pick"]).count("1") for r in rs]))
    tuned = [float(r[ft]) for r in rs if r.get(ft) not in ("", None) and r.get("finetuned_pick") == r.get("pars_pick")]
    if len(tuned) == len(rs):
        row[ft], row[f"{ft}_lo"], row[f"{ft}_hi"] = mean_ci(tuned)
    hits = [int(r["pars_hit"]) for r in rs if r.get("pars_hit") not in ("", None)]
    if len(hits) == len(rs):
        row["pars_hit_rate"], (row["pars_hit_lo"], row["pars_hit_hi"]) = sum(hits) / len(hits), wilson(sum(hits), len(hits))


@dataclass
class StudySummary:
    """Per-method rows and paired comparisons of a finished (or partial) study."""

    name: str
    metric: str
    planted: str | None
    methods: list[dict] = field(default_factory=list)
    paired: list[dict] = field(default_factory=list)


def summarize(rows: Sequence[Mapping], *, name: str, metric: str = "mae", planted: str | None = None,
              ground_truth: Sequence[Mapping] | None = None, reference: str = "full") -> StudySummary:
    """The study's statistics (see the module docstring)."""
    from mro_core.measure.ground_truth import regret

    test = f"test_{metric}"
    out = StudySummary(name, metric, planted)
    by_method: dict[str, list[Mapping]] = {}
    for r in rows:
        by_method.setdefault(str(r["method"]), []).append(r)
    gt_masks = {str(r["mask"]) for r in ground_truth or []}
    for m, rs in by_method.items():
        rs = sorted(rs, key=lambda r: int(r["seed"]))
        row: dict[str, Any] = {"method": m, "label": METHODS.get(m, (m,))[0], "seeds": len(rs)}
        row[test], row[f"{test}_lo"], row[f"{test}_hi"] = mean_ci([float(r[test]) for r in rs])
        row["pick_mflops"] = float(np.mean([float(r["pick_mflops"]) for r in rs]))
        if planted is not None:
            hits = sum(int(r["hit"] or 0) for r in rs)
            row["hit_rate"], (row["hit_lo"], row["hit_hi"]) = hits / len(rs), wilson(hits, len(rs))
            cover = sum(all(c == "1" for c, want in zip(str(r["pick"]), planted) if want == "1") for r in rs)
            row["cover_rate"] = cover / len(rs)  # the pick holds every planted path (perhaps more)
            ph = [r for r in rs if r.get("prior_hit") not in ("", None)]
            if ph:
                k = sum(int(r["prior_hit"]) for r in ph)
                row["prior_hit_rate"], (row["prior_hit_lo"], row["prior_hit_hi"]) = k / len(ph), wilson(k, len(ph))
            fe = [float(r["first_hit_epoch"]) for r in rs if r.get("first_hit_epoch") not in ("", None)]
            fp = [float(r["first_hit_path_executions"]) for r in rs if r.get("first_hit_path_executions") not in ("", None)]
            row["first_hit_epoch_median"] = float(np.median(fe)) if fe else None
            row["first_hit_path_exec_median"] = float(np.median(fp)) if fp else None
        _parsimonious_summary(row, rs, metric)
        rk = [float(r["rank_kendall"]) for r in rs if r.get("rank_kendall") not in ("", None)]
        row["rank_kendall"] = float(np.mean(rk)) if rk else None
        if ground_truth and all(str(r["pick"]) in gt_masks for r in rs):
            reg = [regret(ground_truth, str(r["pick"]), metric) for r in rs]
            row["regret"], row["regret_lo"], row["regret_hi"] = mean_ci(reg)
        out.methods.append(row)
    ref = {int(r["seed"]): r for r in by_method.get(reference, [])}
    for m, rs in by_method.items():
        if m == reference or not ref:
            continue
        pairs = [(ref[int(r["seed"])], r) for r in rs if int(r["seed"]) in ref]
        if not pairs:
            continue
        d = [float(a[test]) - float(b[test]) for a, b in pairs]
        mean, lo, hi = mean_ci(d)
        out.paired.append({"method": m, "label": METHODS.get(m, (m,))[0], "pairs": len(d),
                           f"diff_{test}": mean, "diff_lo": lo, "diff_hi": hi, "wilcoxon_p": wilcoxon_p(d)})
    return out


# ------------------------------------------------------------------------------------- reports
def _f(v: Any, nd: int = 3) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    return f"{v:.{nd}f}" if isinstance(v, float) else str(v)


def render_markdown(s: StudySummary) -> str:
    """The study's two tables (per method; paired against Full MRO) as Markdown."""
    t = f"test_{s.metric}"
    head = ["Method", "Seeds", f"Test {s.metric.upper()} (95% CI)", "Pick MFLOPs"]
    if s.planted:
        head += ["Hit rate (Wilson 95%)", "Pick holds all planted", "Prior top-mask hit", "Epochs to 1st hit (median)"]
    head += ["Prior Kendall tau"]
    has_regret = any("regret" in m for m in s.methods)
    if has_regret:
        head += ["Regret (95% CI)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in s.methods:
        cells = [m["label"], str(m["seeds"]), f"{_f(m[t])} [{_f(m[t + '_lo'])}, {_f(m[t + '_hi'])}]",
                 _f(m["pick_mflops"], 2)]
        if s.planted:
            cells += [f"{m['hit_rate']:.0%} [{m['hit_lo']:.0%}, {m['hit_hi']:.0%}]", f"{m['cover_rate']:.0%}",
                      (f"{m['prior_hit_rate']:.0%} [{m['prior_hit_lo']:.0%}, {m['prior_hit_hi']:.0%}]"
                       if "prior_hit_rate" in m else "-"),
                      _f(m.get("first_hit_epoch_median"), 1)]
        cells += [_f(m.get("rank_kendall"))]
        if has_regret:
            cells += [f"{_f(m['regret'])} [{_f(m['regret_lo'])}, {_f(m['regret_hi'])}]" if "regret" in m else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += _parsimonious_table(s)
    if s.paired:
        lines += ["", f"Paired over seeds, Full MRO minus method, test {s.metric.upper()} (negative = Full MRO better):",
                  "", "| Method | Pairs | Mean difference (bootstrap 95% CI) | Wilcoxon p |", "|---|---|---|---|"]
        for p in s.paired:
            lines.append(f"| {p['label']} | {p['pairs']} | {_f(p[f'diff_{t}'])} [{_f(p['diff_lo'])}, "
                         f"{_f(p['diff_hi'])}] | {_f(p['wilcoxon_p'])} |")
    return "\n".join(lines) + "\n"


def _parsimonious_table(s: StudySummary) -> list[str]:
    """The parsimonious pick's table (methods whose runs recorded it); empty for older studies."""
    t, ft = f"pars_test_{s.metric}", f"finetuned_test_{s.metric}"
    rows = [m for m in s.methods if t in m]
    if not rows:
        return []
    M = s.metric.upper()
    head = ["Method", f"Test {M}, shared weights (95% CI)", f"Test {M}, fine-tuned alone (95% CI)", "MFLOPs", "Paths"]
    if s.planted:
        head += ["Exact planted (Wilson 95%)"]
    out = ["", "The parsimonious pick (fewest MFLOPs within one standard error of the best validation "
           "metric), the one the tables report:", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in rows:
        cells = [m["label"], f"{_f(m[t])} [{_f(m[t + '_lo'])}, {_f(m[t + '_hi'])}]",
                 f"{_f(m[ft])} [{_f(m[ft + '_lo'])}, {_f(m[ft + '_hi'])}]" if ft in m else "-",
                 _f(m["pars_mflops"], 2), _f(m["pars_paths"], 1)]
        if s.planted:
            cells += [f"{m['pars_hit_rate']:.0%} [{m['pars_hit_lo']:.0%}, {m['pars_hit_hi']:.0%}]"
                      if "pars_hit_rate" in m else "-"]
        out.append("| " + " | ".join(cells) + " |")
    return out


def write_report(s: StudySummary, out_dir: str | Path, command: str = "") -> dict[str, str]:
    """``study_<name>.csv`` (per method), ``.md`` (both tables) and ``.html`` (plotly figure)."""
    import pandas as pd
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    out_dir = Path(out_dir)
    base = out_dir / f"study_{s.name}"
    pd.DataFrame(s.methods).to_csv(base.with_suffix(".csv"), index=False)
    md = f"# Study `{s.name}`\n\n" + (f"Made by: `{command}`\n\n" if command else "") + render_markdown(s)
    base.with_suffix(".md").write_text(md)
    t = f"test_{s.metric}"
    labels = [m["label"] for m in s.methods]
    ncol = 2 if s.planted else 1
    fig = make_subplots(rows=1, cols=ncol, subplot_titles=[f"Test {s.metric.upper()} of the pick (95% CI)"]
                        + (["Hit rate of the planted mask (Wilson 95%)"] if s.planted else []))
    fig.add_trace(go.Bar(x=labels, y=[m[t] for m in s.methods], name=f"test {s.metric}",
                         error_y={"type": "data", "symmetric": False,
                                  "array": [m[t + "_hi"] - m[t] for m in s.methods],
                                  "arrayminus": [m[t] - m[t + "_lo"] for m in s.methods]}), 1, 1)
    if s.planted:
        fig.add_trace(go.Bar(x=labels, y=[m["hit_rate"] for m in s.methods], name="hit rate",
                             error_y={"type": "data", "symmetric": False,
                                      "array": [m["hit_hi"] - m["hit_rate"] for m in s.methods],
                                      "arrayminus": [m["hit_rate"] - m["hit_lo"] for m in s.methods]}), 1, 2)
        fig.update_yaxes(range=[0, 1.05], title_text="hit rate", row=1, col=2)
    fig.update_yaxes(title_text=f"test {s.metric.upper()}", row=1, col=1)
    fig.update_layout(title=f"Study {s.name}", showlegend=False, height=450)
    fig.write_html(base.with_suffix(".html"), include_plotlyjs="directory", full_html=True)
    return {"csv": str(base.with_suffix(".csv")), "md": str(base.with_suffix(".md")), "html": str(base.with_suffix(".html"))}
