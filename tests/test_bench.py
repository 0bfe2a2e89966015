"""`mro bench` runs and reports every figure (values are reported, never asserted: timing is the
benchmark's job, not a unit test's)."""

import json

from mro_core.cli import main


def test_bench_quick_reports_every_figure(capsys):
    import mro_core.bench as B

    assert main(["bench", "--quick", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc["figures"]) == set(B.TARGETS)
    assert all(isinstance(v["value"], float) for v in doc["figures"].values())
    assert [r["k"] for r in doc["k_scaling"]] == [2, 3, 4, 5]
    assert [r["paths"] for r in doc["k_scaling"]] == [2, 6, 12, 20]
