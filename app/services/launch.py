"""Starting, cancelling and resuming background searches from the dashboard.

A search is the ``mro search ... --detach`` command: it registers the run in the store, starts the
job in its own session (``mro_core.jobs.start_job``) and exits, printing the run id. The job thus
outlives the browser tab and the dashboard process; the store is its durable record.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from app.services.runs import JOBS_MODULE, module_available
from app.services.settings import REPO_ROOT

log = logging.getLogger(__name__)

RANK_LOSSES = ("l0", "l1", "l2", "linf")
ABLATIONS = ("none", "no_prior_guidance", "no_mrg_prior", "no_rank_reg")
RANK_LOSS_LABELS = {"l0": "L0", "l1": "L1", "l2": "L2", "linf": "L\u221e"}
START_TIMEOUT_S = 120.0
"""How long ``mro search --detach`` may take to register the run and print its id."""


class LaunchError(RuntimeError):
    """A job command that failed; the message carries the command's own error line."""


# ------------------------------------------------------------------------------------ launching
@dataclass(frozen=True)
class SearchRequest:
    """The Search form, resolved. ``synthetic`` maps CLI flags (without ``--``) to values."""

    dataset: str
    preset: str
    epochs: int
    warmup: int
    masks_per_step: int
    rank_loss: str
    ablation: str
    seed: int
    name: str
    data_path: str | None = None
    budget_mflops: float | None = None
    synthetic: Mapping[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        """Raise ValueError naming the field, the value and what is allowed."""
        if self.rank_loss not in RANK_LOSSES:
            raise ValueError(f"rank loss {self.rank_loss!r} is not one of {list(RANK_LOSSES)}")
        if self.ablation not in ABLATIONS:
            raise ValueError(f"ablation {self.ablation!r} is not one of {list(ABLATIONS)}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1 (got {self.epochs})")
        if not 0 <= self.warmup <= self.epochs:
            raise ValueError(f"warm-up epochs must lie in [0, epochs={self.epochs}] (got {self.warmup})")
        if self.masks_per_step < 1:
            raise ValueError(f"masks per step must be >= 1 (got {self.masks_per_step})")
        if self.dataset != "synthetic" and not self.data_path:
            raise ValueError(f"dataset {self.dataset!r} needs a data file under the data root")
        if self.budget_mflops is not None and self.budget_mflops <= 0:
            raise ValueError(f"the FLOPs budget must be > 0 MFLOPs (got {self.budget_mflops}); leave it empty for none")


def search_argv(req: SearchRequest, workspace: str | os.PathLike[str], *, python: str | None = None) -> list[str]:
    """The ``python -m mro_core search ... --detach --json`` command line of a request."""
    req.validate()
    argv = [python or sys.executable, "-m", "mro_core", "search", "--dataset", req.dataset]
    if req.data_path:
        argv += ["--data-path", str(req.data_path)]
    argv += ["--preset", req.preset, "--epochs", str(req.epochs), "--warmup", str(req.warmup),
             "--masks-per-step", str(req.masks_per_step), "--rank-loss", req.rank_loss,
             "--ablation", req.ablation, "--seed", str(req.seed)]
    if req.budget_mflops is not None:
        argv += ["--budget-mflops", repr(float(req.budget_mflops))]
    if req.dataset == "synthetic":
        for flag, value in req.synthetic.items():
            if value is None or value == "":
                continue
            argv += [f"--{flag}", str(value)]
    argv += ["--workspace", str(Path(workspace)), "--name", req.name, "--detach", "--json"]
    return argv


def parse_run_id(stdout: str) -> str | None:
    """The run id printed by ``--detach``: a JSON ``{"run_id": ...}``, else the last non-empty line."""
    text = stdout.strip()
    if not text:
        return None
    try:
        doc = json.loads(text)
        if isinstance(doc, Mapping) and doc.get("run_id"):
            return str(doc["run_id"])
    except json.JSONDecodeError:
        pass
    for line in reversed(text.splitlines()):
        line = line.strip()
        if not line:
            continue
        try:
            doc = json.loads(line)
            if isinstance(doc, Mapping) and doc.get("run_id"):
                return str(doc["run_id"])
        except json.JSONDecodeError:
            return line.split()[-1]
    return None


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


class JobLauncher:
    """Starts job commands as their own process groups and keeps their handles (process-wide).

    Plain class: the page holds one in ``st.cache_resource`` (never in session state, which a page
    reload loses). The durable record of a job is the run store; the handles only let this
    process reap its children. Thread-safe.
    """

    def __init__(self, *, cwd: str | os.PathLike[str] = REPO_ROOT) -> None:
        self.cwd = str(cwd)
        self._procs: dict[int, subprocess.Popen] = {}
        self._lock = threading.Lock()

    def _spawn(self, argv: Sequence[str], wait_s: float) -> tuple[int | None, str, str]:
        """Run ``argv`` in a new session; wait up to ``wait_s`` for it to exit.

        Returns:
            (exit code or None when still running, stdout, stderr so far).
        """
        out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        try:
            proc = subprocess.Popen(list(argv), cwd=self.cwd, env=_child_env(), stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err, start_new_session=True)
        except OSError as e:
            raise LaunchError(f"cannot start {argv[0]}: {e}") from None
        with self._lock:
            self._procs[proc.pid] = proc
        try:
            rc = proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            rc = None
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        out.close()
        err.close()
        self.reap()
        return rc, stdout, stderr

    def reap(self) -> None:
        """Forget children that have exited (their exit status is collected, no zombies)."""
        with self._lock:
            for pid, p in list(self._procs.items()):
                if p.poll() is not None:
                    del self._procs[pid]

    @staticmethod
    def _error_line(stderr: str, rc: int | None) -> str:
        lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
        return lines[-1] if lines else f"exit code {rc}"

    def start_search(self, argv: Sequence[str], *, timeout_s: float = START_TIMEOUT_S) -> str:
        """Run the detaching search command; returns the run id it prints.

        Raises:
            LaunchError: the command failed, printed no run id, or did not return in time.
        """
        rc, stdout, stderr = self._spawn(argv, timeout_s)
        if rc is None:
            raise LaunchError(f"`mro search --detach` did not return within {timeout_s:.0f}s")
        if rc != 0:
            raise LaunchError(self._error_line(stderr, rc))
        run_id = parse_run_id(stdout)
        if not run_id:
            raise LaunchError("the search command printed no run id")
        return run_id

    def runs_command(self, action: str, run_id: str, workspace: str | os.PathLike[str], *,
                     wait_s: float = 5.0) -> None:
        """``mro runs <action> RUN --workspace W``; a command still running after ``wait_s`` is
        left to run in the background (e.g. a resume that does not detach by itself).

        Raises:
            LaunchError: the command exited with an error.
        """
        argv = [sys.executable, "-m", "mro_core", "runs", action, str(run_id), "--workspace", str(workspace)]
        rc, _, stderr = self._spawn(argv, wait_s)
        if rc not in (None, 0):
            raise LaunchError(self._error_line(stderr, rc))


def cancel_run(store: Any, run_id: str, workspace: str | os.PathLike[str], launcher: JobLauncher) -> None:
    """Cancel through ``mro_core.jobs.cancel_job`` when present, else ``mro runs cancel``."""
    if store is not None and module_available(JOBS_MODULE):
        jobs = importlib.import_module(JOBS_MODULE)
        if hasattr(jobs, "cancel_job"):
            jobs.cancel_job(store, run_id)
            return
    launcher.runs_command("cancel", run_id, workspace)


def resume_run(run_id: str, workspace: str | os.PathLike[str], launcher: JobLauncher) -> None:
    launcher.runs_command("resume", run_id, workspace)


@functools.lru_cache(maxsize=1)
def search_cli_available() -> bool:
    """Whether this build's ``mro`` command has a ``search`` subcommand (checked once per process)."""
    try:
        from mro_core.cli import build_parser

        ap = build_parser()
    except Exception:  # noqa: BLE001
        return False
    for action in ap._actions:  # argparse keeps subcommands in the subparsers action's choices
        choices = getattr(action, "choices", None)
        if isinstance(choices, Mapping) and "search" in choices:
            return True
    return False
