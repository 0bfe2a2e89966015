"""`mro results`: stale artefacts are found by their recorded search code, rerun in a child
process, recorded in the manifest, and current ones are left alone."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mro_core.cli import main
from mro_core.experiments import results as R
from mro_core.provenance import code_version

TINY = ("--n-train", "32", "--n-valid", "16", "--n-test", "16", "--epochs", "1", "--warmup", "0",
        "--d-model", "8", "--device", "cpu", "--no-progress")


def test_the_manifest_speaks_for_files_that_carry_no_stamp_until_they_change(tmp_path):
    (tmp_path / "results").mkdir()
    out = tmp_path / "results" / "study.html"
    out.write_text("<html>no stamp</html>")
    step = R.Step("x", ("noop",), ("results/study.html",), 1)
    assert R.recorded_version(out) is None
    assert R.stale_outputs(step, tmp_path, R.recorded_version) == ["results/study.html"]
    R.record(tmp_path, step, 3.0)
    assert R.recorded_version(out) == code_version()
    assert R.stale_outputs(step, tmp_path, R.recorded_version) == []
    entry = json.loads((tmp_path / R.MANIFEST).read_text())["results/study.html"]
    assert entry["command"] == "mro noop" and entry["seconds"] == 3.0
    out.write_text("<html>edited by hand</html>")  # no longer the file the manifest vouched for
    assert R.recorded_version(out) is None


def test_a_stale_step_reruns_and_a_current_one_does_not(tmp_path):
    step = R.Step("tiny", ("search", *TINY, "--workspace", str(tmp_path / "runs"), "--out", "ck.pt"), ("ck.pt",), 1)
    (tmp_path / "ck.pt").write_bytes(b"an old file, not even a checkpoint")
    lines = []
    with pytest.raises(Exception):  # an unreadable output is an error, not silently current
        R.stale_outputs(step, tmp_path, R.recorded_version)
    (tmp_path / "ck.pt").unlink()
    done = R.run_steps([step], tmp_path, R.recorded_version, log=lines.append)
    assert done[0]["ran"] and R.recorded_version(tmp_path / "ck.pt") == code_version()
    again = R.run_steps([step], tmp_path, R.recorded_version, log=lines.append)
    assert again == [{"step": "tiny", "ran": False}] and lines[-1].startswith("tiny: current")


def test_every_step_names_a_real_command_and_unknown_steps_are_one_line(capsys):
    from mro_core.cli.main import build_parser

    root = Path(__file__).resolve().parents[2]
    for s in R.STEPS:
        if s.script:  # a summary script: it exists and names its own command
            assert (root / s.script).is_file() and s.command.startswith(f"python {s.script} ")
            continue
        build_parser().parse_args(list(s.argv))  # each documented command parses
    assert main(["results", "--steps", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown step(s) ['nope']" in err[0]


@pytest.mark.parametrize("name, needs", [("mfeat-finetuned", "study-mfeat,mfeat-finetuned"),
                                         ("ground-truth-rankings", "study-k3,ground-truth-rankings")])
def test_a_summary_step_says_in_one_line_how_to_make_its_inputs(tmp_path, name, needs):
    step = next(s for s in R.STEPS if s.name == name)
    root = Path(__file__).resolve().parents[2]
    args = [str(tmp_path / f"missing{i}") for i in range(len(step.argv))]
    proc = subprocess.run([sys.executable, str(root / step.script), *args], capture_output=True, text=True,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert proc.returncode == 2 and sorted(p.name for p in tmp_path.iterdir()) == []
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and f"--steps {needs}" in err[0], err
