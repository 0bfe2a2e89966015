"""app.services.runs: time parsing and durations for the runs table (ETA: test_svc_job_states)."""

from __future__ import annotations

from app.services import runs as run_svc


def test_time_parsing_and_durations():
    assert run_svc.parse_time("2024-01-01T00:00:00Z") == 1704067200.0
    assert run_svc.parse_time(5) == 5.0 and run_svc.parse_time("nope") is None
    assert run_svc.format_duration(3725) == "1h 02m" and run_svc.format_duration(None) == ""


def test_runs_table_widths_show_names_and_any_eta_in_full():
    from app.services.text import column_width

    rows = [{"name": "a-much-longer-run-name-than-the-header", "ETA": ""}, {"name": "b", "ETA": "3m 02s"}]
    w = run_svc.run_table_widths(rows)
    assert w["name"] == column_width(["a-much-longer-run-name-than-the-header"])
    # as wide as "after epoch 1" even while no run shows it: the column does not change as runs start
    assert w["ETA"] == column_width(["after epoch 1"]) == run_svc.run_table_widths([])["ETA"]
