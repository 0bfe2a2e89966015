"""Every shipped artefact (the demo checkpoint, the tables, the studies, the ground truth) from
today's code by one command, ``mro results`` (``make results``).

Each :class:`Step` is one documented ``mro`` command and the files it writes. A step runs in a
child process (``python -m mro_core ...``) when any of its outputs is missing or did not come from
this installation's search code (:func:`recorded_version`), so a rerun after an interruption, or after a change that touched
only some inputs, redoes only what is stale. Before a stale step runs, its outputs and the
resumable work files named in ``clean`` are removed: a study or ground truth made by other code
must not be resumed into today's. After a step, ``results/MANIFEST.json`` records for each output
the command, the search code version, the seconds it took and the file's SHA-256, so that files
which cannot carry a stamp themselves (a study's CSV and HTML) still say where they came from.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

MANIFEST = Path("results") / "MANIFEST.json"


@dataclass(frozen=True)
class Step:
    """One documented command and what it writes (paths relative to the repository root).

    Args:
        name: short name for ``--steps``.
        argv: the ``mro`` arguments.
        outputs: the files the command writes (all must exist after it).
        minutes: measured wall time on 2 CPU cores, for the plan ``--list`` prints.
        clean: globs of resumable work files to remove before a fresh run.
        script: a repository script run instead of ``mro`` (``python SCRIPT ARGV``): a summary
            that reads an earlier step's work files.
    """

    name: str
    argv: tuple[str, ...]
    outputs: tuple[str, ...]
    minutes: float
    clean: tuple[str, ...] = ()
    script: str | None = None

    @property
    def command(self) -> str:
        return (f"python {self.script} " if self.script else "mro ") + shlex.join(self.argv)

    def child(self) -> list[str]:
        """The child process's argv (this interpreter)."""
        return [sys.executable, *((self.script,) if self.script else ("-m", "mro_core")), *self.argv]


STEPS: tuple[Step, ...] = (
    Step("demo", ("search", "--dataset", "synthetic", "--preset", "demo", "--seed", "0", "--device", "cpu",
                  "--workspace", "runs", "--name", "demo", "--out", "checkpoints/demo.pt"),
         ("checkpoints/demo.pt",), 1),
    Step("table5", ("table", "--suite", "table5", "--preset", "demo", "--seeds", "3", "--finetune-epochs", "10",
                    "--device", "cpu", "--workspace", "runs", "--out", "results/table5"),
         ("results/table5.md", "results/table5.csv"), 17),
    Step("table4", ("table", "--suite", "table4", "--preset", "demo", "--seeds", "3", "--device", "cpu",
                    "--workspace", "runs", "--out", "results/table4"),
         ("results/table4.md", "results/table4.csv"), 9),
    Step("ground-truth", ("quality", "--all-masks", "--seeds", "3", "--workers", "2",
                          "--out", "results/ground_truth_k3.csv"),
         ("results/ground_truth_k3.csv",), 47, clean=("runs/quality/*",)),
    Step("study-k3", ("study", "--name", "k3", "--preset", "demo", "--methods",
                      "full,paper,no_prior_guidance,no_mrg_prior,no_rank_reg,uniform", "--seeds", "5",
                      "--workers", "2", "--ground-truth", "results/ground_truth_k3.csv"),
         ("results/study_k3.md", "results/study_k3.csv", "results/study_k3_runs.csv", "results/study_k3.html"),
         13, clean=("runs/study/k3-*",)),
    Step("ground-truth-rankings", ("results/ground_truth_k3.csv", "runs/study", "results/ground_truth_k3_rankings"),
         ("results/ground_truth_k3_rankings.md", "results/ground_truth_k3_rankings.json"), 0.3,
         script="scripts/ground_truth_rankings.py"),
    Step("study-ring5", ("study", "--name", "ring5", "--benchmark", "ring5", "--preset", "demo", "--epochs", "12",
                         "--methods", "full,uniform,random_search,no_mrg_prior", "--seeds", "5", "--workers", "2"),
         ("results/study_ring5.md", "results/study_ring5.csv", "results/study_ring5_runs.csv",
          "results/study_ring5.html"), 8, clean=("runs/study/ring5-*",)),
    Step("mfeat-baselines", ("baselines", "--dataset", "mfeat", "--preset", "mfeat", "--seeds", "5", "--device", "cpu",
                             "--out", "results/mfeat_baselines/baselines"),
         ("results/mfeat_baselines/baselines.md", "results/mfeat_baselines/baselines.csv",
          "results/mfeat_baselines/baselines_seeds.csv"), 4, clean=("runs/baselines/*",)),
    Step("study-mfeat", ("study", "--name", "mfeat", "--dataset", "mfeat", "--preset", "mfeat", "--epochs", "6",
                         "--device", "cpu", "--methods", "full,paper,uniform,random_search,no_mrg_prior",
                         "--seeds", "5", "--finetune-epochs", "5", "--workers", "2", "--workdir", "runs/study_mfeat"),
         ("results/study_mfeat.md", "results/study_mfeat.csv", "results/study_mfeat_runs.csv",
          "results/study_mfeat.html"), 10, clean=("runs/study_mfeat/*",)),
    Step("mfeat-finetuned", ("runs/study_mfeat", "results/study_mfeat_finetuned.md"),
         ("results/study_mfeat_finetuned.md",), 0.2, script="scripts/mfeat_finetuned.py"),
    Step("sweep-k4", ("sweep", "--name", "k4", "--k", "4", "--topologies", "5", "--seeds", "3", "--preset", "demo",
                      "--epochs", "10", "--device", "cpu", "--workers", "2", "--workdir", "runs/sweep"),
         ("results/sweep_k4.md", "results/sweep_k4_cells.csv"), 88, clean=("runs/sweep/sweep_k4/*",)),
)
"""The shipped artefacts in dependency order (the k = 3 study reads the ground truth)."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_manifest(root: Path) -> dict:
    p = root / MANIFEST
    return json.loads(p.read_text()) if p.is_file() else {}


def manifest_version(path: Path) -> str | None:
    """The search code version ``results/MANIFEST.json`` (in a parent of ``path``) records for
    ``path``, if the file is still the one it recorded (same SHA-256)."""
    path = path.resolve()
    for root in path.parents:
        entry = read_manifest(root).get(path.relative_to(root).as_posix()) if (root / MANIFEST).is_file() else None
        if entry:
            return entry["code_version"] if entry.get("sha256") == sha256(path) else None
    return None


def recorded_version(path: Path) -> str | None:
    """The search code version ``path`` records: a checkpoint's field, a CSV's ``code_version``
    column (``mixed:...`` when its rows disagree), a text file's stamp line, else the manifest's
    entry; ``None`` when none records it.

    Raises:
        FileNotFoundError: no such file. ValueError: a binary file that is no checkpoint.
    """
    import csv

    from mro_core.provenance import UNKNOWN, read_stamp

    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}; name a checkpoint (.pt) or a result file (.md, .csv, .html, .json)")
    own: str | None = None
    if path.suffix == ".pt":
        from mro_core.training.checkpoint import load_checkpoint

        own = load_checkpoint(path).code_version
    else:
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            raise ValueError(f"{path} is neither a checkpoint (.pt) nor a text result file") from None
        if path.suffix == ".csv":
            rows = list(csv.DictReader(text.splitlines()))
            versions = {r.get("code_version") or UNKNOWN for r in rows} if rows and "code_version" in rows[0] else set()
            own = ("mixed:" + ",".join(sorted(versions))) if len(versions) > 1 else (versions.pop() if versions else None)
        else:
            own = read_stamp(text)
    if own and own != UNKNOWN:
        return own
    return manifest_version(path) or own


def stale_outputs(step: Step, root: Path, version_of: Callable[[Path], str | None]) -> list[str]:
    """The outputs of ``step`` that are missing or not from this search code."""
    from mro_core.provenance import is_current

    return [o for o in step.outputs if not (root / o).is_file() or not is_current(version_of(root / o))]


def record(root: Path, step: Step, seconds: float) -> None:
    """Write ``step``'s outputs into the manifest (atomically)."""
    from mro_core.atomic import atomic_write_text
    from mro_core.provenance import code_version

    man = read_manifest(root)
    for o in step.outputs:
        man[o] = {"command": step.command, "code_version": code_version(), "seconds": round(seconds, 1),
                  "finished": time.strftime("%Y-%m-%d %H:%M:%S"), "sha256": sha256(root / o)}
    atomic_write_text(root / MANIFEST, json.dumps(man, indent=1, sort_keys=True) + "\n")


def select(names: Sequence[str] | None) -> list[Step]:
    if not names:
        return list(STEPS)
    known = {s.name: s for s in STEPS}
    bad = [n for n in names if n not in known]
    if bad:
        raise ValueError(f"unknown step(s) {bad}; choose from {list(known)}")
    return [known[n] for n in names]


def run_steps(steps: Sequence[Step], root: Path, version_of: Callable[[Path], str | None], *, force: bool = False,
              log: Callable[[str], None] = print) -> list[dict]:
    """Run each stale step (every step with ``force``); returns what was done, step by step."""
    done = []
    for step in steps:
        stale = step.outputs if force else stale_outputs(step, root, version_of)
        if not stale:
            log(f"{step.name}: current ({', '.join(step.outputs)})")
            done.append({"step": step.name, "ran": False})
            continue
        for pattern in (*step.outputs, *step.clean):
            for f in glob.glob(str(root / pattern)):
                Path(f).unlink() if Path(f).is_file() else None
        log(f"{step.name}: running `{step.command}` (about {step.minutes:g} min on 2 cores)")
        t0 = time.monotonic()
        env = dict(os.environ)
        if step.script:  # a script's sys.path starts at scripts/: let it import this checkout's mro_core
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).resolve().parents[2]),
                                                            env.get("PYTHONPATH", "")) if p)
        proc = subprocess.run(step.child(), cwd=root, env=env)
        seconds = time.monotonic() - t0
        missing = [o for o in step.outputs if not (root / o).is_file()]
        if proc.returncode != 0 or missing:
            raise RuntimeError(f"step {step.name} failed (exit {proc.returncode}; missing {missing}); "
                               f"rerun `mro results --steps {step.name}` after fixing the cause")
        record(root, step, seconds)
        log(f"{step.name}: done in {seconds / 60:.1f} min")
        done.append({"step": step.name, "ran": True, "seconds": seconds})
    return done
