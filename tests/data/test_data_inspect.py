"""`mro data inspect` and its library function: what MRO makes of a data file, before a run."""

import json
import os
import pickle

import numpy as np
import pytest

import data_layouts as L
from mro_core.cli import main
from mro_core.data.base import DataError
from mro_core.data.inspect import format_inspection, inspect_dataset, inspect_path

SIDES = {"mult_aligned": "left", "mult_noalign": "left", "mmsa_aligned": "right", "mmsa_unaligned": "right",
         "meld_mmgcn": "right", "meld_dialoguernn": "right", "npz_lengths": "right", "npz_nolengths": "mixed"}
LAYOUT = {"mult_aligned": "mult", "mult_noalign": "mult", "mmsa_aligned": "mmsa", "mmsa_unaligned": "mmsa",
          "meld_mmgcn": "mmgcn", "meld_dialoguernn": "dialoguernn", "npz_lengths": "npz", "npz_nolengths": "npz"}


@pytest.mark.parametrize("key", sorted(SIDES))
def test_every_layout_is_described_as_the_loader_reads_it(tmp_path, key):
    lay = L.BUILDERS[key](tmp_path)
    ins = inspect_path(lay.path, window=lay.kwargs.get("window", 5))  # detected, no --dataset
    ds = lay.load()
    assert ins.layout == LAYOUT[key] and ins.dataset == lay.name and ins.task == ds.task
    assert ins.modalities == list(ds.modalities) and not ins.missing_splits
    if key.startswith(("mult", "mmsa")):
        assert ins.aligned is key.endswith("_aligned")
    for sp in ins.splits:
        split = ds.splits[sp.name]
        assert sp.n == len(split)
        for m in sp.modalities:
            x, v = split.features[m.name], split.valid[m.name]
            assert (m.length, m.dim) == x.shape[1:]
            assert m.padding_side == SIDES[key]
            assert m.padding_share == pytest.approx(1 - v.mean())  # the loader's own mask
            assert m.mean_length == pytest.approx(v.sum(1).mean())
            assert m.empty_samples == 0 and not m.all_zero
        lab = sp.labels
        total = sum(lab["counts"].values()) if lab["kind"] == "classes" else sum(lab["counts"]) + lab["below"] + lab["above"]
        assert total == sp.n
    if key.startswith("mult"):  # the fixture puts one -inf in audio per split
        assert all(next(m for m in sp.modalities if m.name == "A").inf == 1 for sp in ins.splits)
    if key == "mmsa_unaligned":
        a = next(m for m in ins.split("train").modalities if m.name == "A")
        assert a.padding_from == "lengths"
    assert "warnings" in format_inspection(ins)
    json.dumps(ins.to_dict())  # what the dashboard and --json get


def test_histogram_and_class_counts(tmp_path):
    lay = L.npz(tmp_path, k=2)
    z = dict(np.load(lay.path))
    z["train_label"] = np.array([-3.0, -2.9, 0.0, 0.0, 0.49, 3.0], np.float32)
    np.savez(lay.path, **z)
    lab = inspect_path(lay.path).split("train").labels
    assert lab["counts"][0] == 2 and lab["counts"][6] == 3 and lab["counts"][11] == 1
    assert lab["zeros"] == 2 and lab["below"] == lab["above"] == 0
    cls = inspect_path(L.npz(tmp_path / "c", task="classification").path).split("test").labels
    assert cls["kind"] == "classes" and sum(cls["counts"].values()) == L.SIZES["test"]


def test_planted_paths_are_shown(tmp_path):
    lay = L.npz(tmp_path, k=3, planted=("A->T", "T->V"))
    assert inspect_path(lay.path).planted_paths == ["A->T", "T->V"]
    from mro_core.data.synthetic import make_synthetic

    ins = inspect_dataset(make_synthetic(L.synthetic(3).kwargs["synthetic"]))
    assert ins.planted_paths == ["A->T"] and ins.layout == "synthetic"


def test_warnings_for_what_looks_wrong(tmp_path):
    lay = L.npz(tmp_path, k=3)
    z = dict(np.load(lay.path))
    z["train_V"][:] = 0.0  # an all-zero modality
    z["valid_A"][1] = 0.0  # a sample without a real step
    z["valid_T"][0, 0, 0] = np.nan
    z["test_label"] = z["test_label"] * 2 + 3.5  # labels outside [-3, 3]
    for m in ("T", "A", "V"):
        z.pop(f"valid_{m}_len")
    np.savez(lay.path, **z)
    with pytest.raises(DataError):  # the loader refuses it...
        lay.load()
    ins = inspect_path(lay.path)  # ...inspect says why
    text = "\n".join(ins.warnings)
    assert "train/V: every value is zero" in text
    assert "valid/A: 1 of 4 samples have no real step" in text
    assert "valid/T: 1 NaN and 0 inf" in text
    assert "test: " in text and "labels outside [-3, 3]" in text


@pytest.mark.parametrize("kind", ["npz", "mosei"])
def test_a_missing_split_is_a_warning(tmp_path, kind):
    if kind == "npz":
        lay = L.npz(tmp_path)
        z = {k: v for k, v in np.load(lay.path).items() if not k.startswith("test_")}
        np.savez(lay.path, **z)
    else:
        lay = L.mmsa(tmp_path, aligned=False)
        with open(lay.path, "rb") as f:
            data = pickle.load(f)
        del data["test"]
        with open(lay.path, "wb") as f:
            pickle.dump(data, f)
    ins = inspect_path(lay.path)
    assert ins.missing_splits == ["test"] and [s.name for s in ins.splits] == ["train", "valid"]
    assert any("split 'test' is missing" in w for w in ins.warnings)


def test_cli_text_and_json(tmp_path, capsys):
    lay = L.mult(tmp_path, aligned=False)
    assert main(["data", "inspect", str(lay.path)]) == 0
    out = capsys.readouterr().out
    assert "layout mult" in out and "left" in out and "aligned: no" in out
    assert main(["data", "inspect", str(tmp_path), "--dataset", "mosei", "--json"]) == 0  # the folder
    doc = json.loads(capsys.readouterr().out)
    assert doc["layout"] == "mult" and [s["n"] for s in doc["splits"]] == list(L.SIZES.values())
    assert main(["data", "inspect", "--dataset", "synthetic", "--n-train", "8", "--n-valid", "4", "--n-test", "4",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["planted_paths"] == ["T->V", "A->T", "V->T", "V->A"]


def _bad_files(tmp_path):
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    junk = tmp_path / "junk.pkl"
    junk.write_bytes(b"\x80\x04not a pickle")
    lst = tmp_path / "list.pkl"
    lst.write_bytes(pickle.dumps(3))
    lay = L.npz(tmp_path / "m")
    z = {k: v for k, v in np.load(lay.path).items() if k not in ("valid_A", "valid_A_len")}
    np.savez(tmp_path / "mods.npz", **z)
    z = dict(np.load(lay.path))
    z["test_V"] = np.concatenate([z["test_V"], z["test_V"]], axis=2)
    np.savez(tmp_path / "dims.npz", **z)
    mm = L.mmsa(tmp_path / "p")
    with open(mm.path, "rb") as f:
        data = pickle.load(f)
    data["valid"]["audio"] = data["valid"]["audio"][:, :, :2]
    with open(tmp_path / "p" / "aligned_50.pkl", "wb") as f:
        pickle.dump(data, f)
    return [
        (tmp_path / "nope.npz", "does not exist"),
        (empty, "is empty"),
        (text, "unknown data file type"),
        (junk, "not a complete pickle"),
        (lst, "unknown content"),
        (tmp_path / "mods.npz", "splits disagree in modalities"),
        (tmp_path / "dims.npz", "splits disagree in feature dims"),
        (mm.path, "splits disagree in feature dims"),
    ]


def test_bad_input_is_one_line_exit_2(tmp_path, capsys):
    for path, match in _bad_files(tmp_path):
        capsys.readouterr()
        assert main(["data", "inspect", str(path)]) == 2, path
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and match in err[0], (path, err)
    assert main(["data", "inspect"]) == 2
    assert "needs PATH" in capsys.readouterr().err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path, capsys):
    lay = L.npz(tmp_path)
    os.chmod(lay.path, 0)
    try:
        assert main(["data", "inspect", str(lay.path)]) == 2
        assert "permission denied" in capsys.readouterr().err
    finally:
        os.chmod(lay.path, 0o644)


def test_unreadable_file_when_running_as_root(tmp_path, capsys, monkeypatch):
    """Root reads every file, so the permission check is exercised by faking os.access."""
    lay = L.npz(tmp_path)
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(lay.path) else real(p, mode))
    assert main(["data", "inspect", str(lay.path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "permission denied" in err[0]


def test_inspect_source_takes_load_dataset_arguments(tmp_path):
    from mro_core.config import SyntheticConfig
    from mro_core.data.inspect import inspect_source

    syn = inspect_source("synthetic", synthetic=SyntheticConfig(n_train=8, n_valid=4, n_test=4))
    assert syn.dataset == "synthetic" and [s.n for s in syn.splits] == [8, 4, 4]
    lay = L.meld(tmp_path / "m", n_train=20)
    a = inspect_source("meld", lay.path, window=3, split_seed=1)
    b = inspect_source("meld", lay.path, window=3, split_seed=2)
    assert a.split("train").modalities[0].length == 3 and a.layout == "mmgcn"
    assert a.split("valid").n != b.split("valid").n or a.split("train").labels != b.split("train").labels
    with pytest.raises(DataError, match="needs a data path"):
        inspect_source("npz")
