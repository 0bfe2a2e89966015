"""app.services.runs: time parsing and durations for the runs table (ETA: test_svc_job_states)."""

from __future__ import annotations

from app.services import runs as run_svc


def test_time_parsing_and_durations():
    assert run_svc.parse_time("2024-01-01T00:00:00Z") == 1704067200.0
    assert run_svc.parse_time(5) == 5.0 and run_svc.parse_time("nope") is None
    assert run_svc.format_duration(3725) == "1h 02m" and run_svc.format_duration(None) == ""
