"""Commands that make runs in a workspace: ``mro search``, ``mro runs`` and ``mro table``.

``mro search --detach`` and ``mro runs resume|cancel`` go through the front door
(:mod:`mro_core.runs.api`), as the dashboard does; a foreground ``mro search`` runs the same job
body (:func:`mro_core.runs.worker.execute_search`) in this process.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from mro_core.cli.common import UsageError, print_json, print_table, request_of, store_of


def _strip(argv: Sequence[str], flags: dict[str, int]) -> list[str]:
    """``argv`` without the given flags (flag -> number of values it takes)."""
    out, skip = [], 0
    for x in argv:
        if skip:
            skip -= 1
            continue
        name = x.split("=", 1)[0]
        if name in flags:
            skip = flags[name] if "=" not in x else 0
            continue
        out.append(x)
    return out


def cmd_search(a: argparse.Namespace) -> int:
    from mro_core.runs.api import create_search_run, submit_search
    from mro_core.runs.request import check_search_configs, prepare
    from mro_core.runs.worker import execute_search

    req = request_of(a)
    check_search_configs(req)  # validate before anything is created
    if a.distributed:
        if a.detach or not a.out:
            raise UsageError("--distributed runs under torchrun in the foreground and needs --out CHECKPOINT")
        if int(os.environ.get("RANK", "0")) != 0:  # only rank 0 touches the run store
            from mro_core.search.run import run_search

            p = prepare(req)
            run_search(p.data, p.model, p.train, p.search, out=a.out, data_desc=p.data_desc,
                       resume=a.resume, distributed=True)
            return 0
    store = store_of(a)
    store.check_writable()  # a read-only workspace: one line before any work
    argv = _strip(a.argv, {"--detach": 0, "--run-id": 1, "--json": 0, "--resume": 0})
    if a.detach and a.run_id is None:
        run_id = submit_search(store, req, argv=argv)
        if a.json:
            print_json({"run_id": run_id, "pid": store.get_run(run_id).pid, "workspace": str(a.workspace)})
        else:
            print(run_id)
        return 0
    if a.run_id is None:
        prepared = prepare(req)
        run_id = create_search_run(store, prepared, argv=argv)
    else:  # the job of a run started by an older MRO (`--run-id ID --resume`)
        run_id = a.run_id
        store.get_run(run_id)  # RunNotFound names `mro runs list`
        if a.detach:
            raise UsageError("--detach with --run-id: use `mro runs resume RUN_ID`")
        prepared = prepare(req)
    res = execute_search(store, run_id, prepared, resume=a.resume or a.run_id is not None,
                         progress=not a.no_progress, distributed=a.distributed)
    rec = store.get_run(run_id)
    if rec.status != "done" or res is None:
        print(f"run {run_id} {rec.status}; `mro runs resume {run_id}` continues it", file=sys.stderr)
        return 1
    doc = {"run_id": run_id, "checkpoint": rec.checkpoint, "picks": res.picks, "pareto": res.pareto,
           "finetune": res.finetune, "history": res.history, "warnings": res.warnings}
    if a.json:
        print_json(doc)
        return 0
    space_cols = ["mask", "mae", "corr", "acc7", "acc2", "f1", "mflops"] if prepared.data.task == "regression" else ["mask", "acc", "f1", "mflops"]
    print(f"run {run_id}: checkpoint {rec.checkpoint}")
    for w in res.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print_table([{"pick": k, **v} for k, v in res.picks.items()], ["pick", *space_cols, "se", "error"])
    return 0


def cmd_runs(a: argparse.Namespace) -> int:
    from mro_core.runs.api import cancel_run, resume_run

    from mro_core.runs.records import RunNotFound
    from mro_core.runs.store import RunStore

    if a.action != "list" and not a.run:
        raise UsageError(f"`mro runs {a.action}` needs a run id; see `mro runs list`")
    if a.action == "list" and a.run:
        raise UsageError(f"`mro runs list` takes no run id (got {a.run!r}); use `mro runs show {a.run}`")
    if a.action in ("list", "show"):  # reads: read-only, never creating anything (works on a full disk)
        store = RunStore.for_reading(a.workspace)
        if store is None:
            if a.action == "show":
                raise RunNotFound(a.run, a.workspace)
            if a.action == "list":
                if a.json:
                    print_json([])
                else:
                    print(f"no runs in {a.workspace}")
                return 0
    else:
        store = store_of(a)
    if a.action == "list":
        damaged: list[str] = []
        recs = store.list_runs(damaged=damaged)
        rows = [{"id": r.id, "name": r.name, "kind": r.kind, "status": r.effective_status,
                 "epoch": f"{r.epoch or 0}/{r.total_epochs or '?'}", "progress": f"{100 * (r.progress or 0):.0f}%",
                 "error": (r.effective_error or "")[:60]} for r in recs]
        if a.json:
            print_json([{**vars(r), "effective_status": r.effective_status} for r in recs])
        elif rows:
            print_table(rows, ["id", "name", "kind", "status", "epoch", "progress", "error"])
        else:
            print(f"no runs in {a.workspace}")
        if damaged:  # stderr: --json stays one document
            print(f"mro: skipped {len(damaged)} damaged run(s): {', '.join(damaged)} "
                  f"(`mro runs show ID` names the damage)", file=sys.stderr)
        return 0
    if a.action in ("cancel", "resume"):
        store.check_writable()
    rec = store.get_run(a.run)
    if a.action == "show":
        doc = {**vars(rec), "effective_status": rec.effective_status,
               "events": [e.payload | {"epoch": e.epoch, "kind": e.kind} for e in store.events(rec.id)]}
        if a.json:
            print_json(doc)
        else:
            print(f"{rec.id} {rec.name}: {rec.effective_status}, epoch {rec.epoch}/{rec.total_epochs}, checkpoint {rec.checkpoint}")
            if rec.effective_error:
                print(f"error: {rec.effective_error}")
            for name, pick in (rec.result or {}).get("picks", {}).items():
                print(f"  {name:7s} {pick.get('mask', pick.get('error'))}  {pick.get('mflops', '')}")
        return 0
    if a.action == "cancel":
        status = cancel_run(store, rec.id)
        print(f"{rec.id}: {status}")
        return 0
    pid = resume_run(store, rec.id)
    print(f"{rec.id}: resumed as pid {pid}")
    return 0


def cmd_table(a: argparse.Namespace) -> int:
    from mro_core.atomic import atomic_write_text
    from mro_core.experiments.tables import run_table

    req = request_of(a)
    preset = req.get_preset()
    scfg = req.search_config(preset)
    tcfg = req.train_config(preset)
    if a.seeds < 1:
        raise UsageError(f"--seeds must be >= 1 (got {a.seeds})")
    store = store_of(a)
    store.check_writable()  # before hours of training, not after
    ds, _ = req.load_data()
    mcfg = req.model_config(preset, ds)
    seeds = [tcfg.seed + i for i in range(a.seeds)]
    doc = run_table(a.suite, ds, mcfg, tcfg, scfg, seeds=seeds, workdir=Path(a.workspace) / f"{a.suite}-tables",
                    pick=a.pick, store=store, command=" ".join(["mro", *a.argv]) if a.argv else None)
    out = Path(a.out) if a.out else None
    if out:
        atomic_write_text(out.with_suffix(".md"), doc["markdown"])
        atomic_write_text(out.with_suffix(".csv"), doc["csv"])
    rid = store.create_run(f"{a.suite} ({a.dataset})", "table", {"argv": a.argv, "suite": a.suite, "seeds": seeds})
    store.finish(rid, "done", result={k: doc[k] for k in ("suite", "seeds", "pick", "rows", "markdown")})
    if a.json:
        print_json(doc)
    else:
        print(doc["markdown"], end="")
        if out:
            print(f"\nwrote {out.with_suffix('.md')} and {out.with_suffix('.csv')}")
    return 0
