"""Resume reconciles the store with the checkpoint (issue 14, item 3): an epoch whose checkpoint was
saved but whose event was lost (a kill between the two) is written when the run resumes."""

from __future__ import annotations

import json

import pytest

from mro_core.training.checkpoint import load_checkpoint
from mro_core.runs.api import create_search_run
from mro_core.runs.records import RunNotFound
from mro_core.runs.request import SearchRequest, prepare
from mro_core.runs.store import RunStore
from mro_core.runs.worker import execute_search, sync_from_checkpoint


def test_sync_epoch_events_writes_only_the_missing_epochs_once(store: RunStore) -> None:
    rid = store.create_run("r", "search", {}, total_epochs=4)
    first = store.log_event(rid, "epoch", 1, {"epoch": 1, "loss": 1.0})
    store.log_event(rid, "log", None, "a log line is not an epoch")
    history = [{"epoch": e, "loss": 1.0 / e} for e in (1, 2, 3)]
    assert store.sync_epoch_events(rid, history) == [2, 3]
    events = store.events(rid, kind="epoch")
    assert [(e.epoch, e.payload) for e in events] == [(1, {"epoch": 1, "loss": 1.0}), *((h["epoch"], h) for h in history[1:])]
    assert events[0].id == first  # what was there is kept, not rewritten
    rec = store.get_run(rid)
    assert rec.epoch == 3 and rec.progress == 0.75
    ids = [e.id for e in store.events(rid)]
    assert store.sync_epoch_events(rid, history) == []  # idempotent
    assert [e.id for e in store.events(rid)] == ids
    store.update_run(rid, epoch=4, progress=1.0)
    store.sync_epoch_events(rid, history[:1])
    assert (store.get_run(rid).epoch, store.get_run(rid).progress) == (4, 1.0)  # never moves back
    with pytest.raises(RunNotFound):
        store.sync_epoch_events("nope", history)
    with pytest.raises(ValueError, match="history entry 0 has no integer 'epoch'"):
        store.sync_epoch_events(rid, [{"loss": 1.0}])


def _same_json(a, b) -> bool:
    """Equal as JSON text (so a NaN metric compares equal to itself)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _lose_event_of_epoch(monkeypatch, epoch: int) -> None:
    """The job is killed right after epoch ``epoch``'s checkpoint, before its event is written."""
    real = RunStore.log_event

    def log_event(self, run_id, kind, ep, payload, **kw):
        if kind == "epoch" and ep == epoch:
            raise KeyboardInterrupt
        return real(self, run_id, kind, ep, payload, **kw)

    monkeypatch.setattr(RunStore, "log_event", log_event)


def test_a_lost_epoch_event_is_written_on_resume(store: RunStore, monkeypatch) -> None:
    req = SearchRequest(n_train=32, n_valid=16, n_test=16, epochs=3, warmup=0, d_model=8, device="cpu")
    rid = create_search_run(store, prepare(req))
    with monkeypatch.context() as m:
        _lose_event_of_epoch(m, 2)
        with pytest.raises(KeyboardInterrupt):
            execute_search(store, rid, resume=True)
    rec = store.get_run(rid)
    assert rec.status == "interrupted" and [e.epoch for e in store.events(rid, kind="epoch")] == [1]
    assert load_checkpoint(rec.checkpoint).epoch == 2  # the checkpoint has epoch 2, the store lost it

    # resumed, and killed again at epoch 3's event: epoch 2 was written on resume, before training
    with monkeypatch.context() as m:
        _lose_event_of_epoch(m, 3)
        with pytest.raises(KeyboardInterrupt):
            execute_search(store, rid, resume=True)
    ckpt = load_checkpoint(rec.checkpoint)
    assert ckpt.epoch == 3 and [e.epoch for e in store.events(rid, kind="epoch")] == [1, 2]
    assert _same_json(store.events(rid, kind="epoch")[1].payload, ckpt.history[1])  # the checkpoint's record

    # a resume with nothing left to train: epoch 3 is written, the store and the checkpoint agree
    res = execute_search(store, rid, resume=True)
    assert res is not None and store.get_run(rid).status == "done"
    ckpt = load_checkpoint(rec.checkpoint)
    assert [e.epoch for e in store.events(rid, kind="epoch")] == [h["epoch"] for h in ckpt.history] == [1, 2, 3]


def test_a_checkpoint_of_another_run_is_not_synced(store: RunStore, tmp_path) -> None:
    req = SearchRequest(n_train=32, n_valid=16, n_test=16, epochs=1, warmup=0, d_model=8, device="cpu",
                        out=str(tmp_path / "shared.pt"))
    a = create_search_run(store, prepare(req))
    assert execute_search(store, a) is not None
    b = store.create_run("other", "search", {})
    assert sync_from_checkpoint(store, b, tmp_path / "shared.pt") == []
    assert sync_from_checkpoint(store, b, tmp_path / "missing.pt") == []
    assert store.events(b) == []
