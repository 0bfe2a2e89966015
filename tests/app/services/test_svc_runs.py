"""app.services.runs: time parsing, ETA and durations for the runs table."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.services import runs as run_svc


def test_time_parsing_and_eta():
    assert run_svc.parse_time("2024-01-01T00:00:00Z") == 1704067200.0
    assert run_svc.parse_time(5) == 5.0 and run_svc.parse_time("nope") is None
    rec = SimpleNamespace(progress=0.25, started=100.0, created=90.0)
    assert run_svc.eta_seconds(rec, "running", now=200.0) == pytest.approx(300.0)
    assert run_svc.eta_seconds(rec, "done", now=200.0) is None
    assert run_svc.format_duration(3725) == "1h 02m" and run_svc.format_duration(None) == ""
