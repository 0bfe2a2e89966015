"""Search page (AppTest): the form builds the search command; the runs list reads the store.

Jobs are never really started here: the launcher is patched to record the command line. The runs
list is tested against a fake store (always) and against a real ``mro_core.runs.store.RunStore`` in a
temporary workspace (when that module is installed).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from conftest import wait_for  # noqa: E402
from mro_core.runs.launcher import JobManager  # noqa: E402
from mro_core.runs.store import RunStore  # noqa: E402

from app import resources  # noqa: E402
from app.components import runs_panel  # noqa: E402
from app.services import state as S  # noqa: E402
from app.services.data_check import FIXES  # noqa: E402
from app.services.text import column_width  # noqa: E402



@pytest.fixture
def launched(monkeypatch):
    """Patch the job manager: record the command of each start instead of running it."""
    calls: list[list[str]] = []

    def fake_spawn(self, cmd, run_id, log_path=None, *, env=None):
        calls.append(list(cmd))
        return 4242

    monkeypatch.setattr(JobManager, "spawn", fake_spawn)
    return calls


def picker(at):
    """The runs panel's run chooser (its key follows its labels, see runs_panel._run_picker)."""
    return next(s for s in at.selectbox if s.key and s.key.startswith(S.RUNS_PICKER))


def after_cancels(at):
    """Wait for the cancels the panel sent in the background (those not yet reported), then rerun."""
    for sent in list(at.session_state[S.RUNS_CANCELS].values()):
        wait_for(sent.done, what="a cancel sent in the background")
    return at.run()


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
    assert at.text_input(key=S.SEARCH_NAME).value != "my-search"  # a fresh default name for the next start
    assert at.session_state[S.RUNS_SELECTED] == run_id
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


def test_request_refused_by_the_front_door_shows_its_reason_and_starts_nothing(make_app, launched, tmp_path):
    at = make_app()
    at.text_input(key=S.SYN_SEQ_LEN).set_value("4")  # every field is fine alone; the data cannot be built
    at.button(key=S.SEARCH_SUBMIT).click().run()
    assert not at.exception and not launched
    errs = [e.value for e in at.error]
    assert any(e.startswith("Nothing was started: synthetic: min_len (4) must be >= num_keys (8)") for e in errs), errs
    assert len([e for e in errs if "min_len" in e]) == 1  # one line, once
    assert not at.success
    assert not (tmp_path / "runs").exists() or RunStore(tmp_path / "runs").list_runs() == []


def test_benchmark_and_method_reach_the_request(make_app, launched, tmp_path):
    at = make_app()
    assert [o.split(":")[0] for o in at.selectbox(key=S.SEARCH_BENCHMARK).options] == ["default", "ring5", "ring5w"]
    assert {"uniform one-shot", "random search"} <= set(at.selectbox(key=S.SEARCH_ABLATION).options)
    at.selectbox(key=S.SEARCH_BENCHMARK).set_value("ring5w").run()
    assert at.text_input(key=S.SYN_MODALITIES).value == "A,B,C,D,E"  # the benchmark's own values
    at.text_input(key=S.SYN_N_TRAIN).set_value("64")
    at.text_input(key=S.SYN_N_VALID).set_value("32")
    at.selectbox(key=S.SEARCH_ABLATION).set_value("random_search")
    at.button(key=S.SEARCH_SUBMIT).click().run()
    assert not at.exception and len(launched) == 1, [e.value for e in at.error]
    req = _request_of(tmp_path, at.session_state[S.LAST_LAUNCH]["run_id"])
    assert req["benchmark"] == "ring5w" and req["ablation"] == "random_search" and req["n_train"] == 64
    assert req["modalities"] is None and req["planted"] is None  # the ring's planted weights are kept


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
    assert any("No .npz files" in w.value for w in at.warning)
    at.button(key=S.SEARCH_SUBMIT).click().run()
    assert not launched and any("no data file" in e.value for e in at.error)

    root = tmp_path / "data"
    root.mkdir()
    (root / "toy.npz").write_bytes(b"not really")
    os.symlink(tmp_path, root / "escape")  # a symlinked folder out of the root is not offered
    at = make_app()
    at.selectbox(key=S.SEARCH_DATASET).set_value("npz").run()
    assert at.selectbox(key=S.SEARCH_DATA_FILE).options == ["toy.npz"]
    # shown before anything starts: why the file cannot be read, and Start stays disabled
    assert [e.value for e in at.error] == ["toy.npz is not a valid .npz archive (not a zip file); "
                                           f"{FIXES['npz']}"]
    assert at.button(key=S.SEARCH_SUBMIT).disabled
    assert not launched and not (tmp_path / "runs").exists()  # nothing created

    from mro_core.config import SyntheticConfig
    from mro_core.data.npz import save_npz
    from mro_core.data.synthetic import make_synthetic

    save_npz(make_synthetic(SyntheticConfig(n_train=64, n_valid=32, n_test=32)), root / "toy.npz")
    at = make_app()
    at.selectbox(key=S.SEARCH_DATASET).set_value("npz").run()
    # the inspection of the chosen file, before a search starts: splits, modalities, planted paths
    assert any("train N=64" in m.value and "T->V" in m.value for m in at.markdown)
    mods = at.dataframe[0].value
    assert set(mods["modality"]) == {"T", "A", "V"} and set(mods["split"]) == {"train", "valid", "test"}
    at.button(key=S.SEARCH_SUBMIT).click().run()
    assert len(launched) == 1, [e.value for e in at.error]
    req = _request_of(tmp_path, at.session_state[S.LAST_LAUNCH]["run_id"])
    assert req["data_path"] == str((root / "toy.npz").resolve()) and req["n_train"] is None


def test_data_file_picker_offers_the_datasets_own_kind(make_app, launched, tmp_path):
    root = tmp_path / "data"
    (root / "mosei").mkdir(parents=True)
    for name in ("toy.npz", "mosei/aligned_50.pkl", "MELD_features_raw1.pkl", "notes.txt"):
        (root / name).write_bytes(b"PK")
    at = make_app()
    at.selectbox(key=S.SEARCH_DATASET).set_value("npz").run()
    assert at.selectbox(key=S.SEARCH_DATA_FILE).options == ["toy.npz"]  # no .pkl for npz
    for dataset in ("mosei", "mosi", "meld"):  # the file chosen for npz is not theirs: their first file
        at.selectbox(key=S.SEARCH_DATASET).set_value(dataset).run()
        assert not at.exception
        assert at.selectbox(key=S.SEARCH_DATA_FILE).options == ["MELD_features_raw1.pkl", "mosei/aligned_50.pkl"]
        assert at.selectbox(key=S.SEARCH_DATA_FILE).value == "MELD_features_raw1.pkl"
    at.selectbox(key=S.SEARCH_DATASET).set_value("mfeat").run()  # built in: no file to choose
    assert not [s for s in at.selectbox if s.key == S.SEARCH_DATA_FILE]
    assert any("reads no data file" in c.value for c in at.caption)
    at.text_input(key=S.SEARCH_EPOCHS).set_value("1")
    at.text_input(key=S.SEARCH_WARMUP).set_value("0")
    at.button(key=S.SEARCH_SUBMIT).click().run()
    assert len(launched) == 1, [e.value for e in at.error]
    req = _request_of(tmp_path, at.session_state[S.LAST_LAUNCH]["run_id"])
    assert req["dataset"] == "mfeat" and req["data_path"] is None


@pytest.mark.parametrize("dataset,name,content,reason", [
    ("npz", "x.npz", b"", "x.npz is not a valid .npz archive (0 bytes); "),
    ("npz", "x.npz", bytes(range(256)) * 4, "x.npz is not a valid .npz archive (not a zip file); "),
    ("mosei", "x.pkl", b"", "x.pkl is not a MOSEI feature pickle (0 bytes); "),
])
def test_unreadable_file_gives_one_reason_and_disables_start(make_app, launched, tmp_path, dataset, name,
                                                             content, reason):
    root = tmp_path / "data"
    root.mkdir()
    (root / name).write_bytes(content)
    at = make_app()
    at.selectbox(key=S.SEARCH_DATASET).set_value(dataset).run()
    assert not at.exception
    assert [e.value for e in at.error] == [reason + FIXES[dataset]]  # one reason, with its fix
    assert "allow_pickle" not in reason + FIXES[dataset]
    start = at.button(key=S.SEARCH_SUBMIT)
    assert start.disabled and reason in start.help
    at.text_input(key=S.SEARCH_EPOCHS).set_value("3").run()  # another field changed: still the one reason
    assert [e.value for e in at.error] == [reason + FIXES[dataset]] and at.button(key=S.SEARCH_SUBMIT).disabled
    assert not launched


def test_large_file_is_inspected_on_request(make_app, tmp_path, monkeypatch):
    from mro_core.config import SyntheticConfig
    from mro_core.data.npz import save_npz
    from mro_core.data.synthetic import make_synthetic

    from app.components import data_inspection

    root = tmp_path / "data"
    root.mkdir()
    save_npz(make_synthetic(SyntheticConfig(n_train=64, n_valid=32, n_test=32)), root / "big.npz")
    monkeypatch.setattr(data_inspection, "AUTO_MAX_BYTES", 10)  # every file counts as large
    at = make_app()
    at.selectbox(key=S.SEARCH_DATASET).set_value("npz").run()
    assert not any("train N=64" in m.value for m in at.markdown)  # not read yet
    assert any("inspected on request" in c.value for c in at.caption)
    at.button(key="inspect_big.npz").click().run()
    assert not at.exception and any("train N=64" in m.value for m in at.markdown)
    at.text_input(key=S.SEARCH_EPOCHS).set_value("3").run()  # any later rerun keeps it on screen
    assert any("train N=64" in m.value for m in at.markdown)


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
    def __init__(self, records, events=None):
        self.records = {r.id: r for r in records}
        self.evs = events or {}

    def list_runs(self, kind=None):
        return [r for r in self.records.values() if kind is None or r.kind == kind]

    def get_run(self, run_id):
        return self.records[run_id]

    def effective_status(self, rec):
        return rec.status

    def events(self, run_id, kind=None):
        return [e for e in self.evs.get(run_id, []) if kind is None or e.kind == kind]

    def masks(self, run_id, split=None, source=None):
        return []


def test_runs_list_with_fake_store(make_app, monkeypatch, tmp_path):
    from mro_core.runs.records import Event

    log = tmp_path / "r1.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    now = time.time()
    store = FakeStore([
        FakeRecord("r1", "first", "interrupted", created=now - 100, progress=0.4, epoch=2, total_epochs=5,
                   artifacts={"log": str(log)}, error="the job was killed by SIGKILL; resume to continue"),
        FakeRecord("r2", "second", "running", created=now - 10, started=now - 10, progress=0.5, epoch=1,
                   total_epochs=3),
        FakeRecord("r3", "third", "running", created=now - 5, started=now - 5, progress=0.01, epoch=0,
                   total_epochs=10),
        FakeRecord("r0", "broken", "failed", created=now - 200, error="DataError: toy.npz: no split 'valid'"),
        FakeRecord("rc", "stopped", "cancelled", created=now - 300, error="cancelled by SIGTERM"),
    ], events={
        # one measured epoch of 20 s, logged 5 s ago: 2 epochs left -> 40 - 5 = 35 s
        "r2": [Event(1, "r2", "epoch", 1, {"seconds": 20.0}, now - 5)],
        "rc": [Event(2, "rc", "cancel", None, {}, now - 290)],
    })
    (tmp_path / "runs").mkdir()
    monkeypatch.setattr(resources, "_store", lambda ws: store)
    monkeypatch.setattr(resources, "_manager", lambda ws: None)
    resumed, cancelled = [], []
    monkeypatch.setattr(runs_panel, "resume_run", lambda st_, rid, manager: resumed.append(rid))
    monkeypatch.setattr(runs_panel, "cancel_run", lambda st_, rid, manager: cancelled.append(rid))
    at = make_app()
    assert not at.exception
    df = at.dataframe[0].value
    assert list(df["id"]) == ["r3", "r2", "r1", "r0", "rc"]  # newest first
    assert list(df["status"]) == ["running", "running", "interrupted", "failed", "cancelled"]
    eta = dict(zip(df["id"], df["ETA"]))
    assert eta["r3"] == "after epoch 1"  # no guess from a 1% progress bar
    # from the measured epoch time, less the seconds the page took to open on a busy machine
    assert 35 - (time.time() - now) - 1 <= int(eta["r2"].removesuffix("s")) <= 35, eta["r2"]
    detail = dict(zip(df["id"], df["detail"]))
    assert detail["r0"] == "DataError: toy.npz: no split 'valid'"  # a failed run says why
    assert detail["rc"] == "cancelled by you"  # not "cancelled by SIGTERM"
    assert df.iloc[2]["epoch"] == "2/5"
    assert picker(at).value == "r3"
    picker(at).set_value("r2").run()
    assert not at.button(key=S.RUNS_CANCEL).disabled and at.button(key=S.RUNS_RESUME).disabled
    at.button(key=S.RUNS_CANCEL).click().run()
    assert not at.exception
    wait_for(lambda: cancelled == ["r2"], what="the cancel sent in the background")
    assert at.session_state[S.RUNS_SETTLE].run_id == "r2"  # the panel waits for r2 to leave "running"
    picker(at).set_value("r0").run()
    assert at.button(key=S.RUNS_CANCEL).disabled and at.button(key=S.RUNS_RESUME).disabled  # failed: no Resume
    picker(at).set_value("r1").run()
    assert at.button(key=S.RUNS_CANCEL).disabled and not at.button(key=S.RUNS_RESUME).disabled
    assert at.code[0].value.splitlines()[-1] == "line 99" and len(at.code[0].value.splitlines()) == 40
    at.button(key=S.RUNS_RESUME).click().run()
    assert resumed == ["r1"] and not at.exception
    # while the resumed run still reads "interrupted", Resume stays disabled (no double start)
    assert at.session_state[S.RUNS_SETTLE].before == "interrupted"
    assert at.button(key=S.RUNS_RESUME).disabled


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
    broken = store.create_run("broken one", "search", {}, total_epochs=2)
    store.mark_running(broken)
    store.finish(broken, "failed", error="DataError: toy.npz: no split 'valid'")
    waiting = store.create_run("queued one", "search", {}, total_epochs=2)  # no process yet
    store.close()
    at = make_app()
    assert not at.exception
    df = at.dataframe[0].value
    assert set(df["id"]) == {done, live, broken, waiting}
    status = dict(zip(df["id"], df["status"]))
    assert status == {done: "done", live: "running", broken: "failed", waiting: "queued"}
    assert dict(zip(df["id"], df["detail"]))[broken] == "DataError: toy.npz: no split 'valid'"
    # the finished run's results card: its pick, a link into Explore, a link into Pareto
    card = at.dataframe[1].value
    assert list(card["pick"]) == ["best metric"] and list(card["mask"]) == ["011011"]
    assert list(card["open"]) == ["./?mask=011011"]  # no checkpoint on disk: the mask alone
    assert list(card["valid MAE"]) == ["0.200"] and list(card["test MAE"]) == [""]  # no test figure stored
    assert any(f"(./pareto?runs={done})" in m.value for m in at.markdown)
    picker(at).set_value(broken).run()
    assert at.button(key=S.RUNS_RESUME).disabled  # a failed run would fail again
    # a cancel through the front door reads "cancelled by you"
    picker(at).set_value(waiting).run()
    at.button(key=S.RUNS_CANCEL).click().run()
    assert not at.exception
    after_cancels(at)  # sent in the background; then the store has its result
    df = at.dataframe[0].value
    assert dict(zip(df["id"], df["status"]))[waiting] == "cancelled"
    assert dict(zip(df["id"], df["detail"]))[waiting] == "cancelled by you"
    assert not at.button(key=S.RUNS_RESUME).disabled or at.session_state.get(S.RUNS_SETTLE) is None
    picker(at).set_value(done).run()
    assert "all done" in at.code[0].value
    assert at.button(key=S.RUNS_CANCEL).disabled


def test_cancel_says_cancelling_at_once_then_follows_the_store(make_app, monkeypatch, tmp_path):
    """Cancel returns at once: the job may take seconds to stop, and the page says so meanwhile."""
    now = time.time()
    store = FakeStore([FakeRecord("r1", "a-run-with-a-rather-long-descriptive-name-for-the-table", "running",
                                  created=now - 10, started=now - 10, progress=0.0, epoch=0, total_epochs=4)])
    (tmp_path / "runs").mkdir()
    monkeypatch.setattr(resources, "_store", lambda ws: store)
    monkeypatch.setattr(resources, "_manager", lambda ws: None)
    release, asked = threading.Event(), []

    def slow_cancel(store_, run_id, manager):  # the job stops at its next safe point, seconds later
        asked.append(run_id)
        assert release.wait(30)
        store_.records[run_id].status = "cancelled"
        return "cancelled"

    monkeypatch.setattr(runs_panel, "cancel_run", slow_cancel)
    at = make_app()
    # the runs table is wide enough for the name and for any ETA a live run shows
    cols = json.loads(at.dataframe[0].proto.columns)
    assert at.dataframe[0].value["ETA"][0] == "after epoch 1"
    assert cols["name"]["width"] >= column_width(["a-run-with-a-rather-long-descriptive-name-for-the-table"])
    assert cols["ETA"]["width"] >= column_width(["after epoch 1"])
    try:
        at.button(key=S.RUNS_CANCEL).click().run()
        assert not at.exception
        wait_for(lambda: asked == ["r1"], what="the cancel to be sent")
        cancel = at.button(key=S.RUNS_CANCEL)  # while the job is still stopping:
        assert cancel.label == "Cancelling\u2026" and cancel.disabled
        assert any(c.value.startswith("**Cancelling\u2026**") for c in at.caption)
        assert at.button(key=S.RUNS_RESUME).disabled
    finally:
        release.set()
    after_cancels(at)
    assert dict(zip(at.dataframe[0].value["id"], at.dataframe[0].value["status"])) == {"r1": "cancelled"}
    assert at.button(key=S.RUNS_CANCEL).label == "Cancel" and at.button(key=S.RUNS_CANCEL).disabled
    assert not any("Cancelling" in c.value for c in at.caption)


def test_failed_cancel_is_reported_and_stops_saying_cancelling(make_app, monkeypatch, tmp_path):
    now = time.time()
    store = FakeStore([FakeRecord("r1", "one", "running", created=now - 10, started=now - 10, epoch=0,
                                  total_epochs=4)])
    (tmp_path / "runs").mkdir()
    monkeypatch.setattr(resources, "_store", lambda ws: store)
    monkeypatch.setattr(resources, "_manager", lambda ws: None)

    release = threading.Event()

    def refused(store_, run_id, manager):
        assert release.wait(30)
        raise PermissionError("the workspace is read-only")

    monkeypatch.setattr(runs_panel, "cancel_run", refused)
    at = make_app()
    at.button(key=S.RUNS_CANCEL).click().run()
    assert at.button(key=S.RUNS_CANCEL).label == "Cancelling\u2026"
    release.set()
    after_cancels(at)
    assert any(w.value.startswith("cancel r1 failed:") and "read-only" in w.value for w in at.warning)
    assert at.button(key=S.RUNS_CANCEL).label == "Cancel" and not at.button(key=S.RUNS_CANCEL).disabled


def test_results_card_gives_the_test_figure_over_seeds_with_its_interval(make_app, tmp_path):
    """Three finished seeds of one setting (and one run of another): each card reads its own
    validation and test figure, and the setting's mean test MAE with a 95% interval."""
    from mro_core.runs.store import RunStore

    from app.services.seed_groups import seed_siblings, seed_summary

    store = RunStore(tmp_path / "runs")
    ids = []
    for seed, test in ((0, 0.20), (1, 0.30), (2, 0.25), (0, 0.90)):
        lr = 0.002 if len(ids) < 3 else 0.01  # the fourth run is another setting
        cfg = {"rank_loss": "l1", "ablation": "none", "seed": seed, "train": {"seed": seed, "lr": lr}}
        rid = store.create_run(f"s{seed}", "search", cfg, total_epochs=1)
        store.mark_running(rid)
        store.finish(rid, "done", result={"picks": {"parsimonious": {"mask": "011011", "mflops": 1.75, "mae": test - 0.01,
                                                                     "test": {"mae": test}}}})
        ids.append(rid)
    recs = [store.get_run(i) for i in ids]
    store.close()
    at = make_app()
    assert not at.exception
    want = seed_summary(seed_siblings(recs[0], recs[1:]), "parsimonious", "mae")
    assert want["n"] == 3
    lines = [m.value for m in at.markdown if m.value.startswith("Across 3 seeds of this setting (seeds 0, 1, 2)")]
    assert lines and f"0.250 [{want['lo']:.3f}, {want['hi']:.3f}]" in lines[0]
    assert not any(m.value.startswith("Across 4 seeds") for m in at.markdown)  # the other setting stays out
    cards = [d.value for d in at.dataframe[1:] if "test MAE" in d.value.columns]
    assert sorted(float(c["test MAE"][0]) for c in cards) == [0.2, 0.25, 0.3, 0.9]
