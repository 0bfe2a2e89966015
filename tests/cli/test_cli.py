"""The `mro` command as a user runs it: JSON on stdout only, one-line errors with exit code 2."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mro_core.cli import main

TINY = ["--dataset", "synthetic", "--n-train", "48", "--n-valid", "24", "--n-test", "24",
        "--preset", "demo", "--epochs", "1", "--device", "cpu", "--no-progress", "--d-model", "16"]


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory):
    out = tmp_path_factory.mktemp("ck") / "tiny.pt"
    assert main(["train", *TINY, "--out", str(out)]) == 0
    return out


def test_train_writes_a_weights_only_checkpoint_with_a_mask_table(tiny_ckpt):
    raw = torch.load(tiny_ckpt, weights_only=True)
    assert raw["format"] == "mro-checkpoint" and raw["epoch"] == 1
    assert len(raw["mask_table"]) == 63
    assert {"mask", "mae", "corr", "acc7", "acc2", "f1", "mflops"} <= set(raw["mask_table"][0])


def test_eval_one_mask_json_is_one_document(tiny_ckpt, capsys):
    assert main(["eval", "--checkpoint", str(tiny_ckpt), "--mask", "[0,1,1,0,1,1]", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["mask"] == "011011" and doc["mflops"] > 0 and "mae" in doc


def test_eval_all_masks_json(tiny_ckpt, capsys):
    assert main(["eval", "--checkpoint", str(tiny_ckpt), "--all-masks", "--split", "test", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["rows"]) == 63 and doc["split"] == "test"
    assert len({r["mask"] for r in doc["rows"]}) == 63


def test_eval_sample_masks_is_seeded_distinct_and_stratified(tiny_ckpt, capsys):
    argv = ["eval", "--checkpoint", str(tiny_ckpt), "--sample-masks", "12", "--json"]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert len(rows) == 12 and len({r["mask"] for r in rows}) == 12
    # 12 over the counts 1..6: two each, but only one mask has 6 paths; its spare share goes to another count
    counts = [r["mask"].count("1") for r in rows]
    assert counts.count(6) == 1 and sorted(counts.count(c) for c in range(1, 6)) == [2, 2, 2, 2, 3]
    assert main(argv) == 0 and [r["mask"] for r in json.loads(capsys.readouterr().out)["rows"]] == [r["mask"] for r in rows]
    rc, err = _err(capsys, ["eval", "--checkpoint", str(tiny_ckpt), "--sample-masks", "3", "--all-masks"])
    assert rc == 2 and "exactly one of" in err


def test_eval_matches_the_stored_table(tiny_ckpt, capsys):
    raw = torch.load(tiny_ckpt, weights_only=True)
    stored = {r["mask"]: r for r in raw["mask_table"]}
    assert main(["eval", "--checkpoint", str(tiny_ckpt), "--mask", "T->V,V->A", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["mae"] == pytest.approx(stored["010001"]["mae"], abs=1e-6)


def _err(capsys, argv):
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    return rc, err


@pytest.mark.parametrize("mask, match", [
    ("0110", "has 4 bits but this model has 6 bits"),
    ("000000", "all-zero mask"),
    ("01x011", "symbol 'x'"),
    ("T->Q", "unknown path"),
])
def test_bad_masks_exit_2_with_one_line(tiny_ckpt, capsys, mask, match):
    rc, err = _err(capsys, ["eval", "--checkpoint", str(tiny_ckpt), "--mask", mask])
    assert rc == 2 and match in err and len(err.splitlines()) == 1 and err.startswith("mro: error:")


def test_bad_checkpoints_exit_2(tmp_path, tiny_ckpt, capsys):
    trunc = tmp_path / "trunc.pt"
    trunc.write_bytes(tiny_ckpt.read_bytes()[:1000])
    junk = tmp_path / "junk.pt"
    junk.write_text("hello")
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    cases = [(trunc, "not a readable checkpoint"), (junk, "not a readable checkpoint"),
             (other, "not an MRO checkpoint"), (tmp_path / "missing.pt", "no such checkpoint")]
    for path, match in cases:
        rc, err = _err(capsys, ["eval", "--checkpoint", str(path), "--mask", "111111"])
        assert rc == 2 and match in err and len(err.splitlines()) == 1, err


class _Evil:
    def __reduce__(self):
        return (os.system, (f"touch {_Evil.marker}",))


def test_a_checkpoint_that_runs_code_is_refused_and_not_run(tmp_path, capsys):
    _Evil.marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": "mro-checkpoint", "x": _Evil()}, path)
    rc, err = _err(capsys, ["eval", "--checkpoint", str(path), "--mask", "111111"])
    assert rc == 2 and "not a safe MRO checkpoint" in err
    assert not _Evil.marker.exists()


def test_checkpoint_against_data_of_another_shape(tmp_path, tiny_ckpt, capsys):
    other = tmp_path / "k2.npz"
    assert main(["data", "synthetic", "--out", str(other), "--modalities", "P,Q", "--n-train", "8",
                 "--n-valid", "4", "--n-test", "4"]) == 0
    capsys.readouterr()
    ck = torch.load(tiny_ckpt, weights_only=True)
    ck["data"] = {"name": "npz", "data_path": str(other)}
    p = tmp_path / "re.pt"
    torch.save(ck, p)
    rc, err = _err(capsys, ["eval", "--checkpoint", str(p), "--mask", "111111"])
    assert rc == 2 and "modalities" in err and "k=2" in err


def test_unknown_preset_and_missing_data_path(capsys, tmp_path):
    assert main(["train", "--preset", "nope", "--out", str(tmp_path / "x.pt")]) == 2
    rc, err = _err(capsys, ["train", "--dataset", "mosei", "--out", str(tmp_path / "x.pt")])
    assert rc == 2 and "needs --data-path" in err


def test_resume_continues_after_the_last_epoch(tmp_path, capsys):
    out = tmp_path / "r.pt"
    assert main(["train", *TINY, "--out", str(out)]) == 0
    argv = [a if a != "1" else "2" for a in TINY]  # --epochs 2
    assert main(["train", *argv, "--out", str(out), "--resume"]) == 0
    resumed = torch.load(out, weights_only=True)
    assert main(["train", *argv, "--out", str(tmp_path / "s.pt")]) == 0
    straight = torch.load(tmp_path / "s.pt", weights_only=True)
    assert [h["epoch"] for h in resumed["history"]] == [1, 2]
    for k, v in straight["state_dict"].items():
        torch.testing.assert_close(resumed["state_dict"][k], v)


def test_python_dash_m_and_console_script(tiny_ckpt):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    out = subprocess.run([sys.executable, "-m", "mro_core", "eval", "--checkpoint", str(tiny_ckpt),
                          "--mask", "111111", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["mask"] == "111111"
    script = Path(sys.executable).with_name("mro")
    bad = subprocess.run([str(script), "eval", "--checkpoint", str(tiny_ckpt), "--mask", "11"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr


def test_demo_prints_the_shipped_checkpoint_table(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "planted paths: T->V, A->T, V->T, V->A" in out and "Full mask" in out


def _ctrl_c_here() -> None:
    """A real SIGINT to this process, caught here (as an interrupted import machinery can swallow it)."""
    import os
    import signal
    import time

    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    except KeyboardInterrupt:
        pass


def test_an_interrupt_that_a_library_turns_into_another_error_is_still_one_line(monkeypatch, capsys):
    """A Ctrl-C inside a library's import can leave it half-initialised and surface as an unrelated
    error (scipy: AttributeError); the command line reports it as the interrupt it was."""
    import importlib

    cli_main = importlib.import_module("mro_core.cli.main")

    def half_imported(a):
        _ctrl_c_here()
        raise AttributeError("Module 'scipy' has no attribute '_lib'")

    monkeypatch.setattr(cli_main, "cmd_provenance", half_imported)
    assert cli_main.main(["provenance", "x.pt"]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mro: interrupted"]


@pytest.mark.parametrize("surfaces_as", [KeyboardInterrupt, ValueError])
def test_after_an_interrupt_nothing_more_is_imported(monkeypatch, capsys, surfaces_as):
    """Importing a half-imported module again (decimal) made CPython print its own warning before
    our line; so once Ctrl-C is seen, the user-error classes (an import) are not even looked up."""
    import importlib

    cli_main = importlib.import_module("mro_core.cli.main")

    def interrupted(a):
        _ctrl_c_here()
        raise surfaces_as("inside an import")

    def no_imports():
        raise AssertionError("the user-error classes were imported after an interrupt")

    monkeypatch.setattr(cli_main, "cmd_provenance", interrupted)
    monkeypatch.setattr(cli_main, "_user_errors", no_imports)
    assert cli_main.main(["provenance", "x.pt"]) == 130
    assert capsys.readouterr().err.strip().splitlines() == ["mro: interrupted"]


def test_an_error_without_an_interrupt_is_not_taken_for_one(monkeypatch):
    import importlib

    cli_main = importlib.import_module("mro_core.cli.main")

    def broken(a):
        raise AttributeError("a real bug")

    monkeypatch.setattr(cli_main, "cmd_provenance", broken)
    with pytest.raises(AttributeError, match="a real bug"):
        cli_main.main(["provenance", "x.pt"])
