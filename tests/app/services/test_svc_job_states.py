"""app.services.job_states: who cancelled, what Resume is offered for, ETA from measured epochs."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.services import job_states as jobs


def ev(kind, epoch=None, payload=None, t=0.0, i=0):
    return SimpleNamespace(id=i, kind=kind, epoch=epoch, payload=payload or {}, time=t)


def test_cancelled_by_you_only_after_a_requested_cancel():
    assert jobs.user_cancelled([ev("cancel")])
    assert not jobs.user_cancelled([ev("cancel"), ev("resume")])  # resumed since: a new attempt
    assert jobs.user_cancelled([ev("cancel"), ev("resume"), ev("cancel")])
    assert not jobs.user_cancelled([])  # a SIGTERM from elsewhere
    assert jobs.detail("cancelled", "cancelled by SIGTERM", True) == "cancelled by you"
    assert jobs.detail("cancelled", "cancelled by SIGTERM", False) == "cancelled by SIGTERM"
    assert jobs.detail("failed", "DataError: bad\nmore", False) == "DataError: bad"
    assert jobs.detail("done", None, False) == ""


def test_resume_offered_only_where_it_can_continue():
    assert jobs.resume_block("cancelled") is None and jobs.resume_block("interrupted") is None
    assert "fail again" in jobs.resume_block("failed")
    assert jobs.resume_block("running") and jobs.resume_block("done")


def test_eta_only_from_measured_epochs():
    assert jobs.eta_seconds("running", 0, 10, [], now=100.0) is None  # before the first epoch: no guess
    assert jobs.eta_text("running", 0, 10, None, "") == "after epoch 1"
    evs = [ev("epoch", 1, {"seconds": 10.0}, t=50.0), ev("epoch", 2, {"seconds": 20.0}, t=70.0)]
    # 8 epochs left at 15 s each, 5 s of the current one spent
    assert jobs.eta_seconds("running", 2, 10, evs, now=75.0) == pytest.approx(115.0)
    assert jobs.eta_seconds("done", 2, 10, evs, now=75.0) is None
    assert jobs.eta_seconds("running", 10, 10, evs, now=75.0) == 0.0
    assert jobs.eta_text("running", 10, 10, 0.0, "0s") == "finishing"
    assert jobs.eta_seconds("running", 1, 10, [ev("epoch", 1, {})], now=75.0) is None  # nothing measured


def test_settle_waits_for_the_status_to_change():
    s = jobs.Settle.after("r1", "cancelled", now=100.0)
    assert s.pending("cancelled", now=101.0)
    assert not s.pending("running", now=101.0)  # the resume took
    assert not s.pending("cancelled", now=100.0 + jobs.SETTLE_SECONDS + 1)  # gave up waiting


def test_a_cancel_is_cancelling_until_the_run_leaves_running():
    s = jobs.Settle.after("r1", "running", now=100.0, action="cancel")
    assert s.cancelling("r1", "running", now=101.0)
    assert not s.cancelling("r2", "running", now=101.0)  # another run
    assert not s.cancelling("r1", "cancelled", now=101.0)  # the store shows the result
    assert not jobs.Settle.after("r1", "running", now=100.0, action="resume").cancelling("r1", "running", now=101.0)
    assert jobs.CANCELLING == "Cancelling\u2026"
