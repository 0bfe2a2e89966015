"""Table-driven: every kind of bad input gives one line `mro: error: ...` naming the problem, exit
code 2, no traceback, nothing on stdout."""

from __future__ import annotations

import pickle
import sqlite3

import numpy as np
import pytest
import torch

from mro_core.cli import main

TINY = ["--n-train", "32", "--n-valid", "16", "--n-test", "16", "--epochs", "1", "--d-model", "8",
        "--device", "cpu", "--no-progress"]


def _npz(path, **mutate):
    rng = np.random.default_rng(0)
    z = {"modalities": np.array(["a", "b", "c"]), "task": np.array("regression")}
    for s in ("train", "valid", "test"):
        for m in "abc":
            z[f"{s}_{m}"] = rng.normal(size=(6, 5, 4)).astype(np.float32)
        z[f"{s}_label"] = rng.uniform(-3, 3, 6)
    for k, v in mutate.items():
        if v is None:
            z.pop(k)
        else:
            z[k] = v
    np.savez(path, **z)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    ck = d / "ck.pt"
    assert main(["train", *TINY, "--out", str(ck)]) == 0
    f = {"ck": ck, "dir": d}
    f["trunc_ck"] = d / "trunc.pt"
    f["trunc_ck"].write_bytes(ck.read_bytes()[:2000])
    f["not_ck"] = d / "notes.txt"
    f["not_ck"].write_text("just text")
    raw = torch.load(ck, weights_only=True)
    raw["model_config"]["input_dims"] = [5, 5, 5]
    f["other_cfg"] = d / "other.pt"
    torch.save(raw, f["other_cfg"])
    raw = torch.load(ck, weights_only=True)
    raw["model_config"]["d_model"] = 16
    f["other_width"] = d / "width.pt"
    torch.save(raw, f["other_width"])
    k2 = d / "k2.npz"
    main(["data", "synthetic", "--out", str(k2), "--modalities", "P,Q", "--n-train", "8", "--n-valid", "4",
          "--n-test", "4"])
    raw = torch.load(ck, weights_only=True)
    raw["data"] = {"name": "npz", "data_path": str(k2)}
    f["other_k"] = d / "otherk.pt"
    torch.save(raw, f["other_k"])
    f["ok_npz"] = _npz(d / "ok.npz")
    f["missing_key"] = _npz(d / "mk.npz", valid_label=None)
    f["wrong_dims"] = _npz(d / "wd.npz", test_b=np.zeros((6, 5, 9), np.float32))
    f["mismatch"] = _npz(d / "mm.npz", train_c=np.zeros((4, 5, 4), np.float32))
    f["empty"] = _npz(d / "em.npz", test_a=np.zeros((0, 5, 4)), test_b=np.zeros((0, 5, 4)),
                      test_c=np.zeros((0, 5, 4)), test_label=np.zeros(0))
    f["range"] = _npz(d / "rg.npz", train_label=np.full(6, 7.0))
    f["classes"] = _npz(d / "cl.npz", task=np.array("classification"), num_classes=np.array(2),
                        train_label=np.array([0, 1, 2, 0, 1, 0]), valid_label=np.zeros(6, np.int64),
                        test_label=np.ones(6, np.int64))
    f["trunc_npz"] = d / "tr.npz"
    f["trunc_npz"].write_bytes(f["ok_npz"].read_bytes()[:300])
    wrong = d / "mosei_senti_data.pkl"
    with open(wrong, "wb") as fh:
        pickle.dump({"train": {"foo": np.zeros(3)}, "valid": {}, "test": {}}, fh)
    f["wrong_layout"] = wrong
    meld_bad = d / "MELD_features_raw1.pkl"
    with open(meld_bad, "wb") as fh:
        pickle.dump((1, 2, 3), fh)
    f["meld_bad"] = meld_bad
    # hostile / broken headers: sizes declared far beyond the file (issue 14, item 4)
    f["huge_npz"] = _with_member(f["ok_npz"], d / "huge.npz", "train_a", _npy_header((10**9, 10**9, 4)))
    f["lying_npz"] = _with_member(f["ok_npz"], d / "lying.npz", "valid_b", _npy_header((6, 5, 4000)))
    f["broken_header_npz"] = _with_member(f["ok_npz"], d / "bh.npz", "test_c", b"\x93NUMPY\x01\x00\x10\x00{'descr': 12}   \n")
    (d / "hp").mkdir()
    f["huge_pkl"] = d / "hp" / "mosei_senti_data.pkl"
    f["huge_pkl"].write_bytes(b"\x80\x04\x8e" + (2**31).to_bytes(8, "little") + b"abc.")
    # data that does not fit the (k=3, dims 17, regression) synthetic checkpoint (issue 14, item 1)
    f["k2_npz"] = k2
    f["cls_npz"] = _npz(d / "cls3.npz", modalities=np.array(["T", "A", "V"]), task=np.array("classification"),
                        num_classes=np.array(2),
                        **{f"{s}_{m}": np.ones((6, 5, 17), np.float32) for s in ("train", "valid", "test") for m in "TAV"},
                        **{f"{s}_label": np.array([0, 1, 0, 1, 0, 1]) for s in ("train", "valid", "test")})
    f["odd_name"] = d / "features.bin"
    f["odd_name"].write_bytes(b"x")
    # run stores (issue 14, 2b / 5b): a run row with bad JSON; a file damaged in place
    from mro_core.runs.store import RunStore

    s = RunStore(d / "damaged_ws")
    f["damaged_id"] = s.create_run("damaged", "search", {})
    s.create_run("fine", "search", {})
    s.close()
    con = sqlite3.connect(d / "damaged_ws" / "mro.sqlite")
    con.execute("UPDATE runs SET config = '{bad' WHERE id = ?", (f["damaged_id"],))
    con.commit()
    con.close()
    f["damaged_ws"] = d / "damaged_ws"
    s = RunStore(d / "damaged_ws")
    f["done_id"] = s.create_run("finished", "search", {"argv": ["search"]})
    s.finish(f["done_id"], "done")
    s.close()
    s = RunStore(d / "broken_ws")
    for _ in range(3):
        s.create_run("r", "search", {"pad": "x" * 3000})
    s.close()
    with open(d / "broken_ws" / "mro.sqlite", "r+b") as fh:
        fh.seek(4096)
        fh.write(b"\xff" * 8192)
    f["broken_ws"] = d / "broken_ws"
    (d / "text_ws").mkdir()
    (d / "text_ws" / "mro.sqlite").write_bytes(b"this is not sqlite" * 100)
    f["text_ws"] = d / "text_ws"
    return f


def _npy_header(shape) -> bytes:
    import io

    b = io.BytesIO()
    np.lib.format.write_array_header_1_0(b, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return b.getvalue() + b"\0" * 64


def _with_member(src, dst, key, blob):
    """A copy of the npz ``src`` whose member ``key`` is replaced by raw ``blob``."""
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, blob if info.filename == f"{key}.npy" else zin.read(info))
    return dst


CASES = [
    # masks
    ("mask wrong length", ["eval", "--checkpoint", "{ck}", "--mask", "0110"], "has 4 bits"),
    ("mask bad symbol", ["eval", "--checkpoint", "{ck}", "--mask", "01a011"], "symbol 'a'"),
    ("mask all zero", ["eval", "--checkpoint", "{ck}", "--mask", "000000"], "all-zero"),
    ("mask unknown path", ["eval", "--checkpoint", "{ck}", "--mask", "T->Z"], "unknown path"),
    ("flops mask", ["flops", "--preset", "mosei", "--mask", "1111111"], "has 7 bits"),
    # data files
    ("npz missing file", ["train", "--dataset", "npz", "--data-path", "{dir}/nope.npz", "--out", "{dir}/x.pt"], "does not exist"),
    ("npz truncated", ["train", "--dataset", "npz", "--data-path", "{trunc_npz}", "--out", "{dir}/x.pt"], "truncated"),
    ("npz missing key", ["train", "--dataset", "npz", "--data-path", "{missing_key}", "--out", "{dir}/x.pt"], "missing key 'valid_label'"),
    ("npz wrong dims", ["train", "--dataset", "npz", "--data-path", "{wrong_dims}", "--out", "{dir}/x.pt"], "feature dim 9"),
    ("npz mismatched N", ["train", "--dataset", "npz", "--data-path", "{mismatch}", "--out", "{dir}/x.pt"], "4 samples but there are 6 labels"),
    ("npz empty split", ["train", "--dataset", "npz", "--data-path", "{empty}", "--out", "{dir}/x.pt"], "empty"),
    ("npz label range", ["train", "--dataset", "npz", "--data-path", "{range}", "--out", "{dir}/x.pt"], "must lie in [-3, 3]"),
    ("npz class ids", ["train", "--dataset", "npz", "--data-path", "{classes}", "--out", "{dir}/x.pt"], "class ids span"),
    ("mosei wrong layout", ["train", "--dataset", "mosei", "--data-path", "{wrong_layout}", "--out", "{dir}/x.pt"], "mosei"),
    ("meld wrong layout", ["train", "--dataset", "meld", "--data-path", "{meld_bad}", "--out", "{dir}/x.pt"], "MELD"),
    ("no data path", ["train", "--dataset", "mosi", "--out", "{dir}/x.pt"], "needs --data-path"),
    ("npz huge declared shape", ["train", "--dataset", "npz", "--data-path", "{huge_npz}", "--out", "{dir}/x.pt"], "declares shape [1000000000, 1000000000, 4]"),
    ("npz shape beyond file", ["train", "--dataset", "npz", "--data-path", "{lying_npz}", "--out", "{dir}/x.pt"], "but the file holds"),
    ("npz broken header", ["train", "--dataset", "npz", "--data-path", "{broken_header_npz}", "--out", "{dir}/x.pt"], "broken array header"),
    ("pickle huge declared item", ["train", "--dataset", "mosei", "--data-path", "{huge_pkl}", "--out", "{dir}/x.pt"], "more bytes but only 0 are left"),
    # outputs
    ("train out is a directory", ["train", *TINY, "--out", "{dir}"], "is a directory"),
    ("data out is a directory", ["data", "synthetic", "--out", "{dir}"], "is a directory"),
    ("table out parent is a file", ["table", "--suite", "table5", *TINY[:-1], "--workspace", "{dir}/ws", "--out", "{not_ck}/t"], "a parent is a file"),
    # eval on another file: loaded and checked, never ignored
    ("eval data missing", ["eval", "--checkpoint", "{ck}", "--mask", "111111", "--data-path", "/nonexistent/x.npz"], "does not exist"),
    ("eval data other k", ["eval", "--checkpoint", "{ck}", "--mask", "111111", "--data-path", "{k2_npz}"], "k=2"),
    ("eval data other dims", ["eval", "--checkpoint", "{ck}", "--mask", "111111", "--data-path", "{ok_npz}"], "trained on modalities"),
    ("eval data other task", ["eval", "--checkpoint", "{ck}", "--mask", "111111", "--data-path", "{cls_npz}", "--dataset", "npz"], "is for a regression task but the data is classification"),
    ("eval data kind unknown", ["eval", "--checkpoint", "{ck}", "--mask", "111111", "--data-path", "{odd_name}"], "pass --dataset"),
    ("eval synthetic with path", ["eval", "--checkpoint", "{ck}", "--mask", "111111", "--dataset", "synthetic", "--data-path", "{ok_npz}"], "not used by synthetic"),
    ("eval wrong kind", ["eval", "--checkpoint", "{ck}", "--mask", "111111", "--dataset", "mosei", "--data-path", "{ok_npz}"], "ok.npz is not a complete pickle"),
    ("quality data other k", ["quality", "--checkpoint", "{ck}", "--data-path", "{k2_npz}", "--workdir", "{dir}/q"], "k=2"),
    # checkpoints
    ("checkpoint missing", ["eval", "--checkpoint", "{dir}/none.pt", "--mask", "111111"], "no such checkpoint"),
    ("checkpoint truncated", ["eval", "--checkpoint", "{trunc_ck}", "--mask", "111111"], "not a readable checkpoint"),
    ("not a checkpoint", ["eval", "--checkpoint", "{not_ck}", "--mask", "111111"], "not a readable checkpoint"),
    ("checkpoint other config", ["eval", "--checkpoint", "{other_cfg}", "--mask", "111111"], "checkpoint expects feature dims [5, 5, 5]"),
    ("checkpoint weights vs config", ["eval", "--checkpoint", "{other_width}", "--mask", "111111"], "do not fit its config"),
    ("checkpoint other k", ["eval", "--checkpoint", "{other_k}", "--mask", "111111"], "k=2"),
    # options
    ("eval both mask options", ["eval", "--checkpoint", "{ck}", "--mask", "111111", "--all-masks"], "exactly one of"),
    ("seq-len count", ["flops", "--preset", "mosei", "--mask", "111111", "--seq-len", "1,2"], "--seq-len"),
    ("bad window", ["train", "--window", "0", "--out", "{dir}/x.pt"], "--window"),
    ("warmup > epochs", ["search", *TINY, "--warmup", "5", "--workspace", "{dir}/ws"], "--warmup (5) is more than --epochs (1)"),
    ("unknown run", ["runs", "show", "nope", "--workspace", "{dir}/ws"], "mro runs list"),
    ("run row damaged", ["runs", "show", "{damaged_id}", "--workspace", "{damaged_ws}"], "is damaged (bad JSON in its 'config' column)"),
    ("resume a done run", ["runs", "resume", "{done_id}", "--workspace", "{damaged_ws}"], "is already done"),
    ("store file damaged", ["runs", "list", "--workspace", "{broken_ws}"], "database disk image is malformed"),
    ("store file is not a store", ["runs", "list", "--workspace", "{text_ws}"], "not an MRO run store"),
    ("bad lr", ["train", *TINY, "--lr", "-1", "--out", "{dir}/x.pt"], "argument --lr: must be a finite number > 0 (got -1)"),
    ("batch vs heads", ["train", *TINY, "--d-model", "10", "--out", "{dir}/x.pt"], "divisible"),
    ("synthetic planted", ["data", "synthetic", "--planted", "T->Q", "--out", "{dir}/s.npz"], "unknown path"),
    ("synthetic min len", ["data", "synthetic", "--min-len", "2", "--out", "{dir}/s.npz"], "min_len"),
]


@pytest.mark.parametrize("name, argv, match", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_line(files, capsys, name, argv, match):
    argv = [a.format(**{k: str(v) for k, v in files.items()}) for a in argv]
    rc = main(argv)
    cap = capsys.readouterr()
    err = cap.err.strip().splitlines()
    err = [line for line in err if line.startswith("mro: error:")]
    assert rc == 2, (name, cap.err[-500:])
    assert len(err) == 1 and match in err[0], (name, cap.err[-500:])
    assert "Traceback" not in cap.err and cap.out == ""


@pytest.mark.parametrize("argv", [["train", "--preset", "nope"], ["search", "--ablation", "nope"],
                                  ["eval", "--split", "train"], ["bogus"]])
def test_unknown_choices_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_nan_features_are_cleaned_not_rejected(files, tmp_path, caplog):
    bad = _npz(tmp_path / "nan.npz", train_a=np.full((6, 5, 4), np.nan, np.float32))
    assert main(["train", "--dataset", "npz", "--data-path", str(bad), *TINY[6:], "--out", str(tmp_path / "n.pt")]) == 0
    assert "replaced 120 NaN/inf feature values with 0" in caplog.text


def test_evaluation_is_deterministic(files, capsys):
    import json

    docs = []
    for _ in range(2):
        assert main(["eval", "--checkpoint", str(files["ck"]), "--all-masks", "--json"]) == 0
        docs.append(json.loads(capsys.readouterr().out))
    assert docs[0] == docs[1]


def test_eval_uses_the_data_path_it_is_given(files, tmp_path, capsys):
    """`eval --data-path` on a compatible file reports that file's numbers, not the training data's."""
    import json

    other = tmp_path / "other.npz"
    assert main(["data", "synthetic", "--n-train", "8", "--n-valid", "40", "--n-test", "8", "--data-seed", "7",
                 "--out", str(other)]) == 0
    capsys.readouterr()
    docs = []
    for extra in ([], ["--data-path", str(other)], ["--data-path", str(other), "--dataset", "npz"]):
        assert main(["eval", "--checkpoint", str(files["ck"]), "--mask", "111111", "--json", *extra]) == 0
        docs.append(json.loads(capsys.readouterr().out))
    assert docs[1]["loss"] != docs[0]["loss"]  # the file was read, not ignored
    assert docs[1]["loss"] == docs[2]["loss"]  # detected kind == named kind
