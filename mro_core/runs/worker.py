"""The job of a search run: ``python -m mro_core.runs.worker --workspace W --run-id ID``.

The one subprocess the front door (:mod:`mro_core.runs.api`) starts. It reads the run's
:class:`~mro_core.runs.request.SearchRequest` back from the store (never from a command line),
prepares it and runs the search inside :func:`~mro_core.runs.job.running_job`, so whatever goes
wrong after the start (the data changed since submission, a broken install, a non-finite loss)
is recorded as ``failed`` with its one-line error, and SIGTERM as ``cancelled``. The CLI's
foreground ``mro search`` runs the same :func:`execute_search` in its own process.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence

from mro_core.runs.job import running_job
from mro_core.runs.records import (
    ACTIVE_STATUSES,
    RunNotFound,
    RunStateError,
    StoreError,
)
from mro_core.runs.request import PreparedSearch, SearchRequest, prepare
from mro_core.runs.store import RunStore

log = logging.getLogger(__name__)


def request_of(store: RunStore, run_id: str) -> SearchRequest:
    """The request a search run was submitted with (``config["request"]``).

    Raises:
        RunNotFound: no such run.
        ValueError: the run holds no request (not a search, or written by an older MRO).
    """
    rec = store.get_run(run_id)
    doc = (rec.config or {}).get("request")
    if not isinstance(doc, dict):
        raise ValueError(f"run {run_id} holds no search request; start a new search")
    return SearchRequest.from_dict(doc)


def sync_from_checkpoint(store: RunStore, run_id: str, checkpoint: str | Path) -> list[int]:
    """Write the epochs of the run's checkpoint history that the store's events lack (issue 14, 3).

    Called by the job before a resumed search continues. Only a checkpoint written by this run is
    trusted (its ``run_id``); an unreadable one is left to the search, which refuses it with its own
    one-line error. Returns the epochs written.
    """
    path = Path(checkpoint)
    if not path.is_file():
        return []
    from mro_core.training.checkpoint import load_checkpoint

    try:
        ckpt = load_checkpoint(path)
    except Exception as e:  # noqa: BLE001 - run_search loads it again and reports the error
        log.warning("run %s: cannot read %s to reconcile its epoch events: %s", run_id, path, e)
        return []
    owner = (ckpt.extra or {}).get("run_id")
    if owner not in (None, run_id):
        log.warning("run %s: %s was written by run %s; its history is not this run's", run_id, path, owner)
        return []
    return store.sync_epoch_events(run_id, [h for h in ckpt.history if isinstance(h, dict) and "epoch" in h])


def execute_search(
    store: RunStore,
    run_id: str,
    prepared: PreparedSearch | None = None,
    *,
    resume: bool = True,
    progress: bool = False,
    distributed: bool = False,
):
    """Run a search run's body in this process, its lifecycle written to the store.

    Args:
        prepared: the request already prepared (the CLI's foreground search); default: read the
            request from the store and prepare it here, inside the job, so a failure is recorded.
        resume: continue from the run's checkpoint when it exists.

    Returns:
        The :class:`~mro_core.search.run.SearchResult` (None when the run was cancelled).
    """
    rec = store.get_run(run_id)
    res = None
    with running_job(store, run_id) as term:
        # Imported here, inside the job: a broken install then reads `failed` with its error.
        from mro_core.search.run import run_search

        p = prepared if prepared is not None and prepared.data is not None else prepare(request_of(store, run_id))
        if resume and rec.checkpoint:
            sync_from_checkpoint(store, run_id, rec.checkpoint)
        res = run_search(p.data, p.model, p.train, p.search, out=rec.checkpoint, data_desc=p.data_desc,
                         store=store, run_id=run_id, resume=resume, progress=progress,
                         distributed=distributed, should_stop=lambda: term.requested)
        # A kill after the last checkpoint but before its event, then a resume with nothing left
        # to train: the final history is the checkpoint's, so write what is still missing.
        store.sync_epoch_events(run_id, res.history)
        store.finish(run_id, "done", result=res.to_dict())
    return res if store.get_run(run_id).status == "done" else None


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mro_core.runs.worker", description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", required=True)
    ap.add_argument("--run-id", required=True)
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("fvcore", "iopath"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        store = RunStore(a.workspace)
        execute_search(store, a.run_id)
    except (RunNotFound, StoreError, RunStateError) as e:
        # The store could not take the run (gone, replaced, read-only, full, claimed by another
        # job): this last line of the log is what the next reader reports (see RunStore._effective).
        log.error("run %s: %s", a.run_id, e)
        print(f"mro: error: {_first_line(e)}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - already recorded as failed by running_job
        log.exception("run %s failed", a.run_id)
        print(f"mro: error: {_first_line(e)}", file=sys.stderr)
        return 1
    status = store.get_run(a.run_id).status
    return 0 if status not in ACTIVE_STATUSES else 1


if __name__ == "__main__":
    raise SystemExit(main())
