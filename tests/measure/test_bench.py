"""`mro bench` runs and reports every figure with its spread (values are reported, never asserted:
timing is the benchmark's job, not a unit test's), and the measuring parts behave as documented."""

import json
import time

import torch

from mro_core.measure.bench import Timer, interleaved, one_thread, ratios, spread
from mro_core.cli import main


def test_bench_quick_reports_every_figure_with_its_spread(capsys):
    import mro_core.measure.bench as B

    assert main(["bench", "--quick", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc["figures"]) == set(B.TARGETS)
    for v in doc["figures"].values():
        assert isinstance(v["value"], float)
        s = v["spread"]
        assert s["min"] <= s["iqr"][0] <= s["median"] == v["value"] <= s["iqr"][1] <= s["max"] and s["n"] >= 2
    assert [r["k"] for r in doc["k_scaling"]] == [2, 3, 4, 5]
    assert [r["paths"] for r in doc["k_scaling"]] == [2, 6, 12, 20]
    assert [(r["k"], r["seq_len"]) for r in doc["search_epoch_k"]] == [(2, 50), (3, 50), (4, 50), (5, 50)]
    assert [(r["k"], r["seq_len"]) for r in doc["search_epoch_seq_len"]] == [(3, 50), (3, 200), (3, 500)]
    assert doc["search_epoch_k"][0]["epoch_ratio"] == 1.0 and doc["search_epoch_k"][0]["epoch_s_median"] > 0
    assert doc["method"]["clock"].startswith("process CPU time") and doc["machine"]["threads"] == 1


def test_spread_is_median_iqr_min_max():
    s = spread([5.0, 1.0, 3.0, 2.0, 4.0])
    assert s == {"median": 3.0, "iqr": [2.0, 4.0], "min": 1.0, "max": 5.0, "n": 5}
    assert ratios([2.0, 9.0], [1.0, 3.0]) == [2.0, 3.0]


def test_interleaved_alternates_and_rotates_the_order():
    calls = []
    fns = {n: (lambda n=n: calls.append(n)) for n in "ABC"}
    out = interleaved(fns, Timer(torch.device("cpu")), rounds=3, warmup=1)
    assert calls == list("ABC" + "ABC" + "BCA" + "CAB")  # warm-up, then rounds starting one later
    assert {n: len(v) for n, v in out.items()} == {"A": 3, "B": 3, "C": 3}


def test_cpu_timer_does_not_count_time_off_the_cpu():
    """A process that is descheduled (here: asleep) is not charged: the reason the ratios survive
    another process busy on the same cores."""
    assert Timer(torch.device("cpu"))(lambda: time.sleep(0.2)) < 0.05


def test_one_thread_is_restored():
    before = torch.get_num_threads()
    with one_thread(torch.device("cpu")):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
