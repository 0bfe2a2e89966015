"""The bad-input corpus, table-driven: every kind of bad input to every subcommand gives one line
`mro: error: ...` naming the problem (stderr holds that line and nothing else but log lines), exit
code 2, no traceback, nothing on stdout and nothing created. Cases run in-process through the CLI's
`main`; a few run the real `python -m mro_core` entry point (`test_entry_point_*`).

`test_corpus_covers_every_subcommand` keeps the table honest: at least 150 cases and every
subcommand of `mro --help` among them."""

from __future__ import annotations

import argparse
import os
import pickle
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

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
    # issue 20: what the round of 148 bad inputs found
    f["l0_npz"] = _npz(d / "l0.npz", **{f"{s}_{m}": np.zeros((6, 0, 4), np.float32) for s in ("train", "valid", "test") for m in "abc"})
    f["d0_npz"] = _npz(d / "d0.npz", train_b=np.zeros((6, 5, 0), np.float32))
    f["complex_npz"] = _npz(d / "cx.npz", valid_c=(np.ones((6, 5, 4)) + 1j).astype(np.complex64))
    f["garbage_csv"] = d / "garbage.csv"
    f["garbage_csv"].write_bytes(b"\xfd\x00\xffnot a table" * 20)
    f["other_csv"] = d / "other.csv"
    f["other_csv"].write_text("a,b\n1,2\n")
    (d / "empty_ws").mkdir()
    f["empty_ws"] = d / "empty_ws"
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
    ("unknown run", ["runs", "show", "nope", "--workspace", "{damaged_ws}"], "mro runs list"),
    ("run row damaged", ["runs", "show", "{damaged_id}", "--workspace", "{damaged_ws}"], "is damaged (bad JSON in its 'config' column)"),
    ("resume a done run", ["runs", "resume", "{done_id}", "--workspace", "{damaged_ws}"], "is already done"),
    ("store file damaged", ["runs", "list", "--workspace", "{broken_ws}"], "database disk image is malformed"),
    ("store file is not a store", ["runs", "list", "--workspace", "{text_ws}"], "not an MRO run store"),
    ("bad lr", ["train", *TINY, "--lr", "-1", "--out", "{dir}/x.pt"], "argument --lr: must be a finite number > 0 (got -1)"),
    ("batch vs heads", ["train", *TINY, "--d-model", "10", "--out", "{dir}/x.pt"], "divisible"),
    ("synthetic planted", ["data", "synthetic", "--planted", "T->Q", "--out", "{dir}/s.npz"], "unknown path"),
    ("synthetic min len", ["data", "synthetic", "--min-len", "2", "--out", "{dir}/s.npz"], "min_len"),
]


SYN = ["--n-train", "16", "--n-valid", "8", "--n-test", "8"]  # tiny data where a case reads any

NUMBERS = [  # (flag, bad value, what the line says): each value alone, named by its flag
    ("--epochs", "99999999999999999999", "argument --epochs: must be a whole number from 1 to 1000000"),
    ("--epochs", "0", "argument --epochs: must be a whole number from 1"),
    ("--epochs", "2.5", "argument --epochs: must be a whole number"),
    ("--batch-size", "-3", "argument --batch-size: must be a whole number from 1"),
    ("--lr", "nan", "argument --lr: must be a finite number > 0 (got nan)"),
    ("--lr", "0", "argument --lr: must be a finite number > 0 (got 0)"),
    ("--weight-decay", "-0.1", "argument --weight-decay: must be a finite number >= 0"),
    ("--weight-decay", "inf", "argument --weight-decay: must be a finite number >= 0 (got inf)"),
    ("--masks-per-step", "0", "argument --masks-per-step: must be a whole number from 1"),
    ("--seed", "-1", "argument --seed: must be a whole number from 0 to 4294967295 (got -1)"),
    ("--seed", "4294967296", "argument --seed: must be a whole number from 0 to 4294967295"),
    ("--seed", "one", "argument --seed: must be a whole number from 0 to 4294967295 (got 'one')"),
    ("--d-model", "0", "argument --d-model: must be a whole number from 1"),
    ("--d-model", "100000", "argument --d-model: must be a whole number from 1 to 4096"),
    ("--layers-per-path", "0", "argument --layers-per-path: must be a whole number from 1 to 64"),
    ("--dropout", "1", "argument --dropout: must be a finite number >= 0 and < 1 (got 1)"),
    ("--dropout", "inf", "argument --dropout: must be a finite number >= 0 and < 1"),
    ("--window", "0", "argument --window: must be a whole number from 1"),
    ("--split-seed", "-2", "argument --split-seed: must be a whole number from 0"),
    ("--num-keys", "1", "argument --num-keys: must be a whole number from 2"),
    ("--seq-len", "0", "argument --seq-len: must be a whole number from 1 to 4096"),
    ("--seq-len", "100000000", "argument --seq-len: must be a whole number from 1 to 4096"),
    ("--min-len", "-1", "argument --min-len: must be a whole number from 1"),
    ("--extra-dims", "-1", "argument --extra-dims: must be a whole number from 0"),
    ("--noise", "nan", "argument --noise: must be a finite number >= 0 (got nan)"),
    ("--n-train", "0", "argument --n-train: must be a whole number from 1"),
    ("--n-valid", "1e3", "argument --n-valid: must be a whole number"),
    ("--n-test", "-5", "argument --n-test: must be a whole number from 1"),
    ("--data-seed", "-1", "argument --data-seed: must be a whole number from 0"),
]
SEARCH_NUMBERS = [
    ("--warmup", "-1", "argument --warmup: must be a whole number from 0"),
    ("--warmup-until", "nan", "argument --warmup-until: must be a finite number >= 0"),
    ("--warmup-max", "-1", "argument --warmup-max: must be a whole number from 0"),
    ("--uniform-mix", "1", "argument --uniform-mix: must be a finite number >= 0 and < 1"),
    ("--rank-momentum", "1.5", "argument --rank-momentum: must be a finite number >= 0 and < 1"),
    ("--rank-weight", "-1", "argument --rank-weight: must be a finite number >= 0"),
    ("--rho", "0", "argument --rho: must be a finite number > 0 and <= 1 (got 0)"),
    ("--budget-mflops", "nan", "argument --budget-mflops: must be a finite number > 0 (got nan)"),
    ("--budget-mflops", "-1", "argument --budget-mflops: must be a finite number > 0 (got -1)"),
    ("--finetune-epochs", "-1", "argument --finetune-epochs: must be a whole number from 0"),
]
_PREFIX = {"train": ["train", "--out", "{dir}/n.pt"], "search": ["search", "--workspace", "{dir}/nws"],
           "table": ["table", "--suite", "table5", "--workspace", "{dir}/nws"],
           "study": ["study", "--name", "n", "--out-dir", "{dir}/nst", "--workdir", "{dir}/nsw"],
           "data": ["data", "synthetic", "--out", "{dir}/n.npz"]}
for i, (flag, value, says) in enumerate(NUMBERS):  # each value through two commands, in rotation
    first = ("train", "search", "table", "study", "data")[i % 5]
    if first == "data" and flag not in ("--num-keys", "--seq-len", "--min-len", "--extra-dims", "--noise",
                                        "--n-train", "--n-valid", "--n-test", "--data-seed"):
        first = "train"
    second = next(c for c in ("search", "study", "train", "table")[i % 4:] + ("search", "study") if c != first)
    for cmd in (first, second):
        CASES.append((f"{cmd} {flag} {value}", [*_PREFIX[cmd], flag, value], says))
for i, (flag, value, says) in enumerate(SEARCH_NUMBERS):
    for cmd in ("search", ("table", "study")[i % 2]):
        CASES.append((f"{cmd} {flag} {value}", [*_PREFIX[cmd], flag, value], says))

CASES += [
    # issue 20, tracebacks
    ("search modalities T planted ''", ["search", "--modalities", "T", "--planted", "", "--workspace", "{dir}/nws"], "--modalities needs at least two"),
    ("search planted ''", ["search", "--planted", "", "--workspace", "{dir}/nws"], "--planted names no path (got '')"),
    ("data planted ' , '", ["data", "synthetic", "--planted", " , ", "--out", "{dir}/n.npz"], "--planted names no path"),
    ("train modalities ',A'", ["train", "--modalities", ",A", "--out", "{dir}/n.pt"], "--modalities needs at least two"),
    ("flops seq-len -5", ["flops", "--mask", "111111", "--seq-len", "-5"], "--seq-len: each length must be a whole number from 1 to 4096 (got -5)"),
    ("flops seq-len 0", ["flops", "--mask", "111111", "--seq-len", "0"], "--seq-len: each length must be a whole number from 1"),
    ("flops seq-len 1e8", ["flops", "--mask", "111111", "--seq-len", "100000000"], "from 1 to 4096 (got 100000000)"),
    ("flops seq-len text", ["flops", "--mask", "111111", "--seq-len", "ten"], "(got 'ten')"),
    ("flops seq-len gap", ["flops", "--mask", "111111", "--seq-len", "5,,5"], "--seq-len: each length"),
    ("flops seq-len count 4", ["flops", "--all-masks", "--seq-len", "5,5,5,5"], "--seq-len needs one length or 3"),
    ("flops no mask", ["flops"], "exactly one of --mask M or --all-masks"),
    ("flops dataset and checkpoint", ["flops", "--mask", "111111", "--dataset", "mosei", "--checkpoint", "{ck}"], "not both"),
    ("flops unaligned alone", ["flops", "--mask", "111111", "--unaligned"], "--unaligned needs --dataset"),
    ("flops unknown preset", ["flops", "--mask", "111111", "--preset", "nope"], "unknown preset 'nope'"),
    ("flops bad checkpoint", ["flops", "--mask", "111111", "--checkpoint", "{not_ck}"], "not a readable checkpoint"),
    ("flops dataset choice", ["flops", "--mask", "111111", "--dataset", "meld"], "invalid choice: 'meld'"),
    # issue 20, accepted nonsense
    ("mask path twice", ["eval", "--checkpoint", "{ck}", "--mask", "T->V,T->V"], "path T->V is named twice"),
    ("mask path twice spaced", ["eval", "--checkpoint", "{ck}", "--mask", "[T -> V, A->T, T->V]"], "named twice"),
    ("flops mask path twice", ["flops", "--mask", "A->V,A->V"], "path A->V is named twice"),
    ("mask empty", ["eval", "--checkpoint", "{ck}", "--mask", " "], "empty mask"),
    ("mask bits with spaces", ["eval", "--checkpoint", "{ck}", "--mask", "0 1 1"], "has 3 bits"),
    ("npz complex features", ["train", "--dataset", "npz", "--data-path", "{complex_npz}", "--out", "{dir}/x.pt"], "must be real numbers (got complex dtype complex64)"),
    ("inspect complex features", ["data", "inspect", "{complex_npz}"], "'valid_c': features must be real numbers"),
    ("search out under a missing root folder", ["search", "--out", "/nonexistent-mro-corpus/dir/x.pt", "--workspace", "{dir}/nws"], "would be created at the filesystem root"),
    ("train out under a missing root folder", ["train", "--out", "/nonexistent-mro-corpus/x.pt"], "folder /nonexistent-mro-corpus does not exist"),
    ("data out under a missing root folder", ["data", "synthetic", "--out", "/nonexistent-mro-corpus/a/b.npz"], "filesystem root"),
    ("table out under a missing root folder", ["table", "--suite", "table4", "--out", "/nonexistent-mro-corpus/t"], "filesystem root"),
    ("quality out under a missing root folder", ["quality", "--all-masks", "--checkpoint", "{ck}", "--out", "/nonexistent-mro-corpus/g.csv"], "filesystem root"),
    ("runs list missing workspace", ["runs", "list", "--workspace", "/does/not/exist"], "run workspace /does/not/exist does not exist"),
    ("runs show missing workspace", ["runs", "show", "abc", "--workspace", "/does/not/exist"], "does not exist"),
    ("runs list workspace is a file", ["runs", "list", "--workspace", "{not_ck}"], "is a file, not a folder"),
    ("runs show in an empty folder", ["runs", "show", "abc", "--workspace", "{empty_ws}"], "no run 'abc'"),
    # issue 20, vague one-liners
    ("inspect L = 0", ["data", "inspect", "{l0_npz}"], "features have shape [6, 0, 4], with no time step (L = 0)"),
    ("train L = 0", ["train", "--dataset", "npz", "--data-path", "{l0_npz}", "--out", "{dir}/x.pt"], "with no time step (L = 0)"),
    ("inspect D = 0", ["data", "inspect", "{d0_npz}"], "no feature channel (D = 0)"),
    ("quality out garbage csv", ["quality", "--all-masks", "--checkpoint", "{ck}", "--out", "{garbage_csv}", "--workdir", "{dir}/gq"], "garbage.csv is not a results table (not UTF-8 text: byte 0xfd"),
    ("quality out another table", ["quality", "--all-masks", "--checkpoint", "{ck}", "--out", "{other_csv}", "--workdir", "{dir}/gq"], "other.csv is not this job's results table (no column 'mask')"),
    ("quality out without all-masks", ["quality", "--checkpoint", "{ck}", "--out", "{dir}/q.csv"], "--out is for `mro quality --all-masks`"),
    ("quality rank without all-masks", ["quality", "--checkpoint", "{ck}", "--rank", "{ck}"], "--rank is for"),
    ("quality n-masks 1", ["quality", "--checkpoint", "{ck}", "--n-masks", "1"], "argument --n-masks: must be a whole number from 2"),
    ("quality epochs 0", ["quality", "--checkpoint", "{ck}", "--epochs", "0"], "argument --epochs"),
    ("quality seeds 0", ["quality", "--all-masks", "--checkpoint", "{ck}", "--seeds", "0"], "argument --seeds: must be a whole number from 1"),
    ("quality workers x", ["quality", "--all-masks", "--checkpoint", "{ck}", "--workers", "x"], "argument --workers: must be a whole number"),
    ("quality missing checkpoint", ["quality", "--checkpoint", "{dir}/none.pt"], "no such checkpoint"),
    ("quality bad mask", ["quality", "--checkpoint", "{ck}", "--masks", "111111;01"], "has 2 bits"),
    ("quality rank missing", ["quality", "--all-masks", "--checkpoint", "{ck}", "--rank", "{dir}/none.pt", "--out", "{dir}/g2.csv", "--workdir", "{dir}/g2", "--seeds", "1", "--epochs", "1"], None),
    # study
    ("study name with a slash", ["study", "--name", "a/b", *SYN, "--out-dir", "{dir}/st"], "study name 'a/b' must be"),
    ("study name dots", ["study", "--name", "..", *SYN, "--out-dir", "{dir}/st"], "study name '..' must be"),
    ("study unknown method", ["study", "--name", "s", "--methods", "full,bogus", *SYN, "--out-dir", "{dir}/st"], "unknown method(s) ['bogus']"),
    ("study no method", ["study", "--name", "s", "--methods", ",", *SYN, "--out-dir", "{dir}/st"], "at least one method"),
    ("study ground truth missing", ["study", "--name", "s", "--ground-truth", "{dir}/none.csv", *SYN], "--ground-truth"),
    ("study ground truth garbage", ["study", "--name", "s", "--ground-truth", "{garbage_csv}", *SYN], "garbage.csv is not a results table"),
    ("study ground truth other table", ["study", "--name", "s", "--ground-truth", "{other_csv}", *SYN], "no column 'mask'"),
    ("study hit rate without planted", ["study", "--name", "s", "--hit-rate", "on", "--dataset", "npz", "--data-path", "{ok_npz}", "--out-dir", "{dir}/st"], "--hit-rate on needs data with planted paths"),
    ("study workers 0", ["study", "--name", "s", "--workers", "0"], "argument --workers: must be a whole number from 1 to 256 (got 0)"),
    ("study seeds 5000", ["study", "--name", "s", "--seeds", "5000"], "argument --seeds: must be a whole number from 1 to 1000"),
    ("study executor", ["study", "--name", "s", "--executor", "dask"], "invalid choice: 'dask'"),
    ("study needs a name", ["study"], "the following arguments are required: --name"),
    ("study data missing", ["study", "--name", "s", "--dataset", "npz", "--data-path", "{dir}/nope.npz"], "does not exist"),
    # eval
    ("eval batch size 0", ["eval", "--checkpoint", "{ck}", "--all-masks", "--batch-size", "0"], "argument --batch-size"),
    ("eval no mask", ["eval", "--checkpoint", "{ck}"], "exactly one of"),
    ("eval device", ["eval", "--checkpoint", "{ck}", "--mask", "111111", "--device", "tpu"], "invalid choice: 'tpu'"),
    ("eval L = 0 data", ["eval", "--checkpoint", "{ck}", "--mask", "111111", "--data-path", "{l0_npz}"], "L = 0"),
    ("eval complex data", ["eval", "--checkpoint", "{ck}", "--mask", "111111", "--data-path", "{complex_npz}"], "complex"),
    # data
    ("data no kind", ["data"], "the following arguments are required: kind"),
    ("data unknown kind", ["data", "fake"], "invalid choice: 'fake'"),
    ("data synthetic no out", ["data", "synthetic"], "needs --out FILE.npz"),
    ("data inspect no path", ["data", "inspect"], "needs PATH"),
    ("data inspect missing", ["data", "inspect", "{dir}/nope.npz"], "does not exist"),
    ("data inspect truncated", ["data", "inspect", "{trunc_npz}"], "truncated"),
    ("data inspect window 0", ["data", "inspect", "{ok_npz}", "--window", "0"], "argument --window"),
    ("data inspect odd file", ["data", "inspect", "{odd_name}"], "unknown data file type"),
    ("data synthetic min > max", ["data", "synthetic", "--min-len", "20", "--seq-len", "12", "--out", "{dir}/s.npz"], "min_len"),
    ("data synthetic json out dir", ["data", "synthetic", "--json", "--out", "{dir}"], "is a directory"),
    # train, search, table
    ("train no out", ["train"], "the following arguments are required: --out"),
    ("train unknown preset", ["train", "--preset", "nope", "--out", "{dir}/x.pt"], "invalid choice: 'nope'"),
    ("train amp", ["train", "--amp", "fp8", "--out", "{dir}/x.pt"], "invalid choice: 'fp8'"),
    ("train unknown flag", ["train", "--epochz", "3", "--out", "{dir}/x.pt"], "unrecognized arguments: --epochz"),
    ("search distributed without out", ["search", "--distributed", "--workspace", "{dir}/nws"], "--distributed runs under torchrun"),
    ("search unknown rank loss", ["search", "--rank-loss", "l7", "--workspace", "{dir}/nws"], "invalid choice: 'l7'"),
    ("search detach with run id", ["search", "--detach", "--run-id", "abc", "--workspace", "{damaged_ws}", *SYN], "no run 'abc'"),
    ("search out is a directory", ["search", "--out", "{dir}", "--workspace", "{dir}/nws"], "is a directory"),
    ("search data missing", ["search", "--dataset", "npz", "--data-path", "{dir}/nope.npz", "--workspace", "{dir}/nws"], "does not exist"),
    ("search L = 0 data", ["search", "--dataset", "npz", "--data-path", "{l0_npz}", "--workspace", "{dir}/nws"], "L = 0"),
    ("table no suite", ["table"], "the following arguments are required: --suite"),
    ("table seeds 0", ["table", "--suite", "table5", "--seeds", "0"], "argument --seeds: must be a whole number from 1"),
    ("table pick", ["table", "--suite", "table5", "--pick", "worst"], "invalid choice: 'worst'"),
    # runs
    ("runs no action", ["runs"], "the following arguments are required: action"),
    ("runs unknown action", ["runs", "delete"], "invalid choice: 'delete'"),
    ("runs show no id", ["runs", "show", "--workspace", "{damaged_ws}"], "needs a run id"),
    ("runs cancel no id", ["runs", "cancel", "--workspace", "{damaged_ws}"], "needs a run id"),
    ("runs list with an id", ["runs", "list", "abc", "--workspace", "{damaged_ws}"], "takes no run id"),
    ("runs cancel unknown", ["runs", "cancel", "nope", "--workspace", "{damaged_ws}"], "no run 'nope'"),
    ("runs resume unknown", ["runs", "resume", "nope", "--workspace", "{damaged_ws}"], "no run 'nope'"),
    ("runs show on a broken store", ["runs", "show", "abc", "--workspace", "{broken_ws}"], "malformed"),
    # bench, demo, provenance, results, the top level
    ("bench device", ["bench", "--device", "tpu"], "invalid choice: 'tpu'"),
    ("bench memory batch 0", ["bench", "--memory", "--memory-batch-size", "0"], "argument --memory-batch-size"),
    ("bench memory limit nan", ["bench", "--memory", "--memory-limit-gb", "nan"], "argument --memory-limit-gb: must be a finite number > 0"),
    ("bench memory data", ["bench", "--memory", "--memory-data", "meld"], "invalid choice: 'meld'"),
    ("demo missing checkpoint", ["demo", "--checkpoint", "{dir}/none.pt"], "no such checkpoint"),
    ("demo not a checkpoint", ["demo", "--checkpoint", "{not_ck}"], "not a readable checkpoint"),
    ("demo top 0", ["demo", "--top", "0"], "argument --top: must be a whole number from 1"),
    ("demo truncated", ["demo", "--checkpoint", "{trunc_ck}"], "not a readable checkpoint"),
    ("provenance no files", ["provenance"], "the following arguments are required: files"),
    ("provenance missing file", ["provenance", "{dir}/none.pt"], "no such file"),
    ("provenance data file", ["provenance", "{ok_npz}"], "is neither a checkpoint"),
    ("results unknown step", ["results", "--steps", "bogus", "--list"], "unknown step(s) ['bogus']"),
    ("baselines seeds 0", ["baselines", "--dataset", "mfeat", "--seeds", "0"], "argument --seeds"),
    ("baselines seeds text", ["baselines", "--dataset", "mfeat", "--seeds", "x"], "argument --seeds"),
    ("baselines on regression data", ["baselines", *SYN, "--out", "{dir}/bl"], "needs a classification dataset"),
    ("baselines out at the root", ["baselines", "--dataset", "mfeat", "--out", "/nonexistent-mro/x/y"],
     "filesystem root"),
    ("sweep k 2", ["sweep", "--name", "w", "--k", "2"], "every k must be 3..8"),
    ("sweep k text", ["sweep", "--name", "w", "--k", "four"], "expected comma-separated integers"),
    ("sweep no name", ["sweep"], "the following arguments are required: --name"),
    ("sweep name with a slash", ["sweep", "--name", "a/b", "--out-dir", "{dir}/sw"], "sweep name 'a/b' must be"),
    ("sweep unknown method", ["sweep", "--name", "w", "--methods", "full,bogus", "--out-dir", "{dir}/sw"],
     "unknown ['bogus']"),
    ("sweep topologies 0", ["sweep", "--name", "w", "--topologies", "0"], "argument --topologies"),
    ("sweep out at the root", ["sweep", "--name", "w", "--out-dir", "/nonexistent-mro/x"], "filesystem root"),
    ("sweep workdir at the root", ["sweep", "--name", "w", "--out-dir", "{dir}/sw", "--workdir", "/nonexistent-mro/w"],
     "filesystem root"),
    ("no command", [], "the following arguments are required: command"),
    ("unknown command", ["bogus"], "invalid choice: 'bogus'"),
    ("unknown top flag", ["--bogus", "runs", "list"], "unrecognized arguments: --bogus"),
]

LOG_LINE = re.compile(r"^(DEBUG|INFO|WARNING) ")


def _run(files, argv):
    return [a.format(**{k: str(v) for k, v in files.items()}) for a in argv]


@pytest.mark.parametrize("name, argv, match", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_line(files, capsys, name, argv, match):
    rc = main(_run(files, argv))
    cap = capsys.readouterr()
    lines = [line for line in cap.err.strip().splitlines() if not LOG_LINE.match(line)]
    assert rc == 2, (name, cap.err[-500:])
    assert len(lines) == 1 and lines[0].startswith("mro: error: "), (name, cap.err[-500:])
    assert match is None or match in lines[0], (name, lines[0])
    assert "Traceback" not in cap.err and cap.out == ""


def test_corpus_covers_every_subcommand():
    from mro_core.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    covered = {c[1][0] for c in CASES if c[1]}
    assert set(sub.choices) <= covered, sorted(set(sub.choices) - covered)
    assert len(CASES) >= 150 and len({c[0] for c in CASES}) == len(CASES)


def test_refusals_create_nothing(files, tmp_path, capsys):
    """A read does not write and a check does not create: no folder, no store, no lock."""
    assert main(["runs", "list", "--workspace", str(tmp_path / "typo")]) == 2
    assert main(["search", "--out", "/nonexistent-mro-corpus/dir/x.pt", "--workspace", str(tmp_path / "ws")]) == 2
    assert main(["search", "--epochs", "99999999999999999999", "--out", str(tmp_path / "new" / "x.pt"),
                 "--workspace", str(tmp_path / "ws")]) == 2
    assert main(["runs", "list", "--workspace", str(files["empty_ws"])]) == 0
    assert "no runs in" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == [] and list(files["empty_ws"].iterdir()) == []
    assert not Path("/nonexistent-mro-corpus").exists()


@pytest.mark.parametrize("argv, says", [
    (["search", "--epochs", "99999999999999999999"], "mro: error: argument --epochs: must be a whole number"),
    (["flops", "--mask", "111111", "--seq-len", "-5"], "mro: error: --seq-len: each length must be"),
    (["runs", "list", "--workspace", "/does/not/exist"], "mro: error: run workspace /does/not/exist does not exist"),
    (["eval", "--mask", "T->V,T->V"], "mro: error: path T->V is named twice"),
])
def test_entry_point_prints_exactly_one_line(argv, says, tmp_path):
    """The real `python -m mro_core`: stderr is exactly one line, exit code 2."""
    root = Path(__file__).resolve().parents[2]
    r = subprocess.run([sys.executable, "-m", "mro_core", *argv], capture_output=True, text=True, cwd=tmp_path,
                       env={**os.environ, "PYTHONPATH": str(root)}, timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(says), r.stderr
    assert list(tmp_path.iterdir()) == []


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
