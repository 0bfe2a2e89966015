"""Search page (AppTest): the form builds the search command; the runs list reads the store.

Jobs are never really started here: the launcher is patched to record the command line. The runs
list is tested against a fake store (always) and against a real ``mro_core.runs.store.RunStore`` in a
temporary workspace (when that module is installed).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from mro_core.runs.launcher import JobManager  # noqa: E402
from mro_core.runs.store import RunStore  # noqa: E402

from app import resources  # noqa: E402
from app.components import runs_panel  # noqa: E402
from app.services import state as S  # noqa: E402



@pytest.fixture
def launched(monkeypatch):
    """Patch the job manager: record the command of each start instead of running it."""
    calls: list[list[str]] = []

    def fake_spawn(self, cmd, run_id, log_path=None, *, env=None):
        calls.append(list(cmd))
        return 4242

    monkeypatch.setattr(JobManager, "spawn", fake_spawn)
    return calls


def _request_of(tmp_path, run_id):
    return RunStore(tmp_path / "runs").get_run(run_id).config["request"]


@pytest.fixture
def make_app(open_app):
    return lambda: open_app("views/search.py")


def test_smoke_without_runs(make_app):
    at = make_app()
    assert not at.exception
    assert at.title[0].value == "Search"
    assert any("No search runs" in i.value for i in at.info)


def test_submit_synthetic_search(make_app, launched, tmp_path):
    at = make_app()
    at.text_input(key=S.SEARCH_EPOCHS).set_value("3")
    at.text_input(key=S.SEARCH_WARMUP).set_value("1")
    at.selectbox(key=S.SEARCH_RANK_LOSS).set_value("l2")
    at.selectbox(key=S.SEARCH_ABLATION).set_value("no_mrg_prior")
    at.text_input(key=S.SEARCH_BUDGET).set_value("1.5")
    at.text_input(key=S.SYN_N_TRAIN).set_value("500")
    at.text_input(key=S.SEARCH_NAME).set_value("my-search")
    at.button(key=S.SEARCH_SUBMIT).click().run()
    assert not at.exception
    assert len(launched) == 1
    assert launched[0][1:3] == ["-m", "mro_core.runs.worker"]  # one job, no CLI in between
    run_id = at.session_state[S.LAST_LAUNCH]["run_id"]
    assert launched[0][-1] == run_id and any(run_id in s.value for s in at.success)
    req = _request_of(tmp_path, run_id)
    assert {k: req[k] for k in ("dataset", "preset", "epochs", "warmup", "rank_loss", "ablation",
                                "budget_mflops", "n_train", "name")} == {
        "dataset": "synthetic", "preset": "demo", "epochs": 3, "warmup": 1, "rank_loss": "l2",
        "ablation": "no_mrg_prior", "budget_mflops": 1.5, "n_train": 500, "name": "my-search"}


def test_invalid_form_is_refused(make_app, launched):
    at = make_app()
    at.text_input(key=S.SEARCH_EPOCHS).set_value("2")
    at.text_input(key=S.SEARCH_WARMUP).set_value("5")
    at.button(key=S.SEARCH_SUBMIT).click().run()
    assert not launched
    assert any("Warm-up epochs: 5 is more than the 2 epochs" in e.value for e in at.error)
    assert any(e.value.startswith("Nothing was started") for e in at.error)


@pytest.mark.parametrize("key,text,reason", [
    (S.SEARCH_BUDGET, "abc", "FLOPs budget: 'abc' is not a number"),
    (S.SEARCH_BUDGET, "-5", "FLOPs budget: -5 is not a budget"),
    (S.SEARCH_EPOCHS, "99999", "Epochs: 99999 is out of range; use 1 to 1000"),
    (S.SEARCH_EPOCHS, "2.5", "Epochs: '2.5' is not a whole number"),
    (S.SYN_MODALITIES, "", "Modalities: empty"),
    (S.SYN_MODALITIES, "T", "Modalities: a path space needs at least 2 modalities"),
    (S.SYN_PLANTED, "X->Y", "Planted paths: X->Y is not a path between T, A, V"),
    (S.SYN_NOISE, "lots", "Label noise: 'lots' is not a number"),
])
def test_wrong_field_is_refused_next_to_it(make_app, launched, key, text, reason):
    at = make_app()
    at.text_input(key=key).set_value(text)
    at.button(key=S.SEARCH_SUBMIT).click().run()
    assert not at.exception
    assert not launched  # refused, not coerced
    notes = [e.value for e in at.error]
    assert any(n.startswith(reason) for n in notes), notes  # under the field
    start = next(n for n in notes if n.startswith("Nothing was started"))  # and Start says why
    assert reason in start


def test_planted_path_of_a_missing_modality_is_refused_before_anything_starts(make_app, launched, tmp_path):
    at = make_app()
    at.text_input(key=S.SYN_PLANTED).set_value("T->X")
    at.button(key=S.SEARCH_SUBMIT).click().run()
    assert not at.exception and not launched
    assert any(e.value.startswith("Nothing was started") and "T->X" in e.value for e in at.error)
    assert not (tmp_path / "runs").exists() or RunStore(tmp_path / "runs").list_runs() == []


def test_launch_error_is_shown(make_app, monkeypatch):
    def boom(self, cmd, run_id, log_path=None, *, env=None):
        raise OSError("cannot start python: no such file")

    monkeypatch.setattr(JobManager, "spawn", boom)
    at = make_app()
    at.button(key=S.SEARCH_SUBMIT).click().run()
    assert not at.exception
    assert any("cannot start python" in e.value for e in at.error)


def test_file_dataset_only_from_data_root(make_app, launched, tmp_path):
    at = make_app()
    at.selectbox(key=S.SEARCH_DATASET).set_value("npz").run()
    assert any("No .npz/.pkl files" in w.value for w in at.warning)
    at.button(key=S.SEARCH_SUBMIT).click().run()
    assert not launched and any("no data file" in e.value for e in at.error)

    root = tmp_path / "data"
    root.mkdir()
    (root / "toy.npz").write_bytes(b"not really")
    os.symlink(tmp_path, root / "escape")  # a symlinked folder out of the root is not offered
    at = make_app()
    at.selectbox(key=S.SEARCH_DATASET).set_value("npz").run()
    assert at.selectbox(key=S.SEARCH_DATA_FILE).options == ["toy.npz"]
    at.button(key=S.SEARCH_SUBMIT).click().run()
    assert not launched and any("did not start" in e.value for e in at.error)  # the file does not read

    from mro_core.config import SyntheticConfig
    from mro_core.data.npz import save_npz
    from mro_core.data.synthetic import make_synthetic

    save_npz(make_synthetic(SyntheticConfig(n_train=64, n_valid=32, n_test=32)), root / "toy.npz")
    at = make_app()
    at.selectbox(key=S.SEARCH_DATASET).set_value("npz").run()
    at.button(key=S.SEARCH_SUBMIT).click().run()
    assert len(launched) == 1, [e.value for e in at.error]
    req = _request_of(tmp_path, at.session_state[S.LAST_LAUNCH]["run_id"])
    assert req["data_path"] == str((root / "toy.npz").resolve()) and req["n_train"] is None


# --------------------------------------------------------------------------------- runs list
@dataclass
class FakeRecord:
    id: str
    name: str
    status: str
    kind: str = "search"
    config: dict = field(default_factory=dict)
    pid: int | None = None
    heartbeat: float | None = None
    created: float = 0.0
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    progress: float = 0.0
    epoch: int | None = None
    total_epochs: int | None = None
    checkpoint: str | None = None
    artifacts: dict = field(default_factory=dict)
    result: dict | None = None


class FakeStore:
    def __init__(self, records):
        self.records = {r.id: r for r in records}

    def list_runs(self, kind=None):
        return [r for r in self.records.values() if kind is None or r.kind == kind]

    def get_run(self, run_id):
        return self.records[run_id]

    def effective_status(self, rec):
        return rec.status

    def events(self, run_id, kind=None):
        return []

    def masks(self, run_id, split=None, source=None):
        return []


def test_runs_list_with_fake_store(make_app, monkeypatch, tmp_path):
    log = tmp_path / "r1.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    now = time.time()
    store = FakeStore([
        FakeRecord("r1", "first", "interrupted", created=now - 100, progress=0.4, epoch=2, total_epochs=5,
                   artifacts={"log": str(log)}, error="killed"),
        FakeRecord("r2", "second", "running", created=now - 10, started=now - 10, progress=0.5, epoch=1,
                   total_epochs=2),
    ])
    (tmp_path / "runs").mkdir()
    monkeypatch.setattr(resources, "_store", lambda ws: store)
    monkeypatch.setattr(resources, "_manager", lambda ws: None)
    resumed, cancelled = [], []
    monkeypatch.setattr(runs_panel, "resume_run", lambda st_, rid, manager: resumed.append(rid))
    monkeypatch.setattr(runs_panel, "cancel_run", lambda st_, rid, manager: cancelled.append(rid))
    at = make_app()
    assert not at.exception
    df = at.dataframe[0].value
    assert list(df["id"]) == ["r2", "r1"]  # newest first
    assert list(df["status"]) == ["running", "interrupted"]
    assert df.iloc[0]["ETA"] != "" and df.iloc[1]["epoch"] == "2/5"
    assert at.selectbox(key=S.RUNS_SELECTED).value == "r2"
    assert not at.button(key=S.RUNS_CANCEL).disabled and at.button(key=S.RUNS_RESUME).disabled
    at.button(key=S.RUNS_CANCEL).click().run()
    assert cancelled == ["r2"]
    at.selectbox(key=S.RUNS_SELECTED).set_value("r1").run()
    assert at.button(key=S.RUNS_CANCEL).disabled and not at.button(key=S.RUNS_RESUME).disabled
    assert at.code[0].value.splitlines()[-1] == "line 99" and len(at.code[0].value.splitlines()) == 40
    at.button(key=S.RUNS_RESUME).click().run()
    assert resumed == ["r1"] and not at.exception


def test_runs_list_with_real_store(make_app, tmp_path):
    from mro_core.runs.store import RunStore

    store = RunStore(tmp_path / "runs")
    done = store.create_run("finished one", "search", {"rank_loss": "l1", "ablation": "none"}, total_epochs=2)
    log = tmp_path / "done.log"
    log.write_text("epoch 1\nepoch 2\nall done\n")
    store.add_artifacts(done, {"log": str(log)})
    store.mark_running(done)
    store.finish(done, "done", result={"picks": {"best": {"mask": "011011", "mflops": 1.75, "mae": 0.2}}})
    live = store.create_run("live one", "search", {"rank_loss": "l2", "ablation": "none"}, total_epochs=4)
    store.mark_running(live)  # this test process plays the job: its pid is alive
    store.heartbeat(live, epoch=1, progress=0.25)
    store.close()
    at = make_app()
    assert not at.exception
    df = at.dataframe[0].value
    assert set(df["id"]) == {done, live}
    status = dict(zip(df["id"], df["status"]))
    assert status == {done: "done", live: "running"}
    at.selectbox(key=S.RUNS_SELECTED).set_value(done).run()
    assert "all done" in at.code[0].value
    assert at.button(key=S.RUNS_CANCEL).disabled
