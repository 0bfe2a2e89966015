"""Atomic writes: any writer failure is one WriteError naming the path and cause, the temp file is
removed, temps of dead writers are cleaned on the next write, and --out is checked before work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mro_core.atomic import WriteError, atomic_write, atomic_write_text, check_output_path, clean_stale_temps
from mro_core.cli import main

TINY = ["--n-train", "32", "--n-valid", "16", "--n-test", "16", "--epochs", "1", "--d-model", "8",
        "--device", "cpu", "--no-progress"]


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_any_writer_exception_is_a_write_error_and_the_temp_is_removed(tmp_path):
    target = tmp_path / "t.pt"
    target.write_bytes(b"old")

    def boom(f):
        f.write(b"partial")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 1 vs 2")

    with pytest.raises(WriteError) as e:
        atomic_write(target, boom)
    assert str(target) in str(e.value) and "unexpected pos" in str(e.value)
    assert len(str(e.value).splitlines()) == 1
    assert target.read_bytes() == b"old"  # previous file intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.pt"]  # no temp left


def test_dead_writers_temps_are_cleaned_live_ones_kept(tmp_path):
    dead = tmp_path / f".t.pt.{_dead_pid()}.tmp"
    dead.write_bytes(b"x" * 100)
    live = tmp_path / f".t.pt.{os.getppid()}.tmp"  # our parent is alive
    live.write_bytes(b"y")
    other = tmp_path / "notes.tmp"
    other.write_bytes(b"z")
    atomic_write_text(tmp_path / "t.pt", "new")
    assert not dead.exists() and live.exists() and other.exists()
    assert (tmp_path / "t.pt").read_text() == "new"
    assert clean_stale_temps(tmp_path) == []


def test_output_path_checks(tmp_path):
    with pytest.raises(WriteError, match="is a directory"):
        check_output_path(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WriteError, match="a parent is a file"):
        check_output_path(blocker / "sub" / "x.pt")
    assert check_output_path(tmp_path / "new" / "x.pt") == tmp_path / "new" / "x.pt"
    assert list(tmp_path.iterdir()) == [blocker]  # a check creates nothing; the probe is gone
    with pytest.raises(WriteError, match=r"folder /nonexistent-mro-test does not exist and would be created at the "
                                         r"filesystem root"):
        check_output_path("/nonexistent-mro-test/dir/x.pt")
    assert not Path("/nonexistent-mro-test").exists()
    (tmp_path / "new").mkdir()
    stale = tmp_path / "new" / f".x.pt.{_dead_pid()}.tmp"
    stale.write_bytes(b"x")
    check_output_path(tmp_path / "new" / "x.pt")
    assert not stale.exists()  # a killed writer's temp is gone before the run starts


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permission bits")
def test_permission_denied_is_named(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(WriteError, match="permission denied"):
            atomic_write_text(ro / "x.txt", "x")
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize("argv", [
    ["train", *TINY, "--out", "{d}"],
    ["data", "synthetic", "--n-train", "8", "--out", "{d}"],
    ["search", *TINY, "--workspace", "{d}/ws", "--out", "{d}"],
])
def test_out_directory_fails_before_training(tmp_path, capsys, monkeypatch, argv):
    import mro_core.training.train as train

    monkeypatch.setattr(train, "train_supernet", lambda *a, **k: pytest.fail("trained before checking --out"))
    rc = main([x.format(d=tmp_path) for x in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith("mro: error: cannot write") and "is a directory" in err[-1]
    assert not (tmp_path / "ws").exists()  # no run was created


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 2 MiB tmpfs, nearly filled so a tiny checkpoint does not fit; skipped where mounting is not allowed."""
    d = tmp_path / "fs"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(d)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({(r.stderr or r.stdout).strip()[:80]}); needs root")
    try:
        yield d
    finally:
        import gc

        gc.collect()  # close run stores the command left open
        if subprocess.run(["umount", str(d)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(d)], check=False)  # still busy: detach lazily


def test_full_disk_during_checkpoint_write_is_one_line_and_frees_the_disk(tiny_tmpfs, capsys):
    filler = tiny_tmpfs / "filler"
    with open(filler, "wb") as f:  # leave ~16 KiB: far less than a checkpoint
        f.write(b"\0" * (2 * 1024 * 1024 - 16 * 1024))
    rc = main(["train", *TINY, "--out", str(tiny_tmpfs / "t.pt")])
    err = [x for x in capsys.readouterr().err.strip().splitlines() if not x.startswith("INFO")]
    assert rc == 2 and len(err) == 1, err
    assert err[0].startswith(f"mro: error: cannot write {tiny_tmpfs / 't.pt'}") and "disk full" in err[0]
    assert sorted(p.name for p in tiny_tmpfs.iterdir()) == ["filler"]  # temp removed, disk not kept full


def test_interrupt_during_startup_is_one_line(tmp_path):
    """SIGINT while the command is still importing torch: one line, exit 130, no traceback."""
    code = (
        "import signal, os, sys, threading\n"
        "import builtins\n"
        "real = builtins.__import__\n"
        "def imp(name, *a, **k):\n"
        "    if name == 'torch':\n"
        "        raise KeyboardInterrupt\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = imp\n"
        "sys.argv = ['mro', 'train', '--out', sys.argv[1]]\n"
        "import runpy\n"
        "runpy.run_module('mro_core', run_name='__main__')\n"
    )
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.pt")], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}, timeout=60)
    assert r.returncode == 130, r.stderr[-800:]
    assert r.stderr.strip() == "mro: interrupted" and "Traceback" not in r.stderr


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.0])
def test_real_ctrl_c_in_the_first_seconds_is_one_line(tmp_path, delay):
    """A real SIGINT while `python -m mro_core train` starts up (imports, data, first batches)."""
    import signal
    import time

    root = str(Path(__file__).resolve().parent.parent)
    p = subprocess.Popen([sys.executable, "-m", "mro_core", "train", *TINY, "--out", str(tmp_path / "x.pt")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root,
                         env={**os.environ, "PYTHONPATH": root})
    time.sleep(delay)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    lines = [x for x in err.strip().splitlines() if not x.startswith("INFO")]
    assert "Traceback" not in err, err[-800:]
    if p.returncode == 0:  # finished before the signal: nothing to check
        return
    assert p.returncode in (130, -signal.SIGINT) and lines in ([], ["mro: interrupted"]), (p.returncode, err[-400:])


def test_full_disk_under_the_workspace_records_the_run_failed(tiny_tmpfs, capsys):
    """Workspace and checkpoint on a 2 MiB disk: the checkpoint (~2 MiB at demo width) does not fit.

    The temp file is removed, so the store has room again to record `failed` with the cause (it
    used to read `interrupted` with no reason, the leftover temp keeping the disk full)."""
    from mro_core.runs.store import RunStore

    ws = tiny_tmpfs / "ws"
    rc = main(["search", "--n-train", "32", "--n-valid", "16", "--n-test", "16", "--epochs", "1", "--warmup", "0",
               "--device", "cpu", "--no-progress", "--workspace", str(ws)])
    err = [x for x in capsys.readouterr().err.strip().splitlines() if x.startswith("mro:")]
    assert rc == 2 and len(err) == 1 and "disk full" in err[0], err
    with RunStore(ws) as store:
        (run,) = store.list_runs()
    assert run.status == "failed" and "disk full" in run.error
    assert not [p for p in (ws / run.id).iterdir() if p.name.endswith(".tmp")]
