"""`mro eval --batch-size`: metrics do not depend on the evaluation batch size, on any layout."""

import json

import pytest

import data_layouts as L
from mro_core.cli import main

TRAIN = ["--preset", "demo", "--epochs", "1", "--device", "cpu", "--no-progress", "--d-model", "16"]


def _train(tmp_path, lay):
    out = tmp_path / "ck.pt"
    extra = ["--unaligned"] if lay.kwargs.get("aligned") is False else []
    if lay.name == "meld":
        extra += ["--window", str(lay.kwargs["window"])]
    assert main(["train", "--dataset", lay.name, "--data-path", str(lay.path), *extra, *TRAIN,
                 "--out", str(out)]) == 0
    return out


def _eval(capsys, ckpt, *extra):
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(ckpt), "--all-masks", "--split", "test", "--json", *extra]) == 0
    return {r["mask"]: r for r in json.loads(capsys.readouterr().out)["rows"]}


@pytest.mark.parametrize("key", ["mult_noalign", "npz_nolengths", "meld_mmgcn"])
def test_eval_batch_size_1_and_64_give_the_same_metrics(tmp_path, capsys, key):
    lay = L.BUILDERS[key](tmp_path)
    ckpt = _train(tmp_path, lay)
    one, many, two = (_eval(capsys, ckpt, "--batch-size", str(b)) for b in (1, 64, 2))
    assert one.keys() == many.keys() and len(one) >= 3
    for mask, r in one.items():
        for k, v in r.items():
            if isinstance(v, float):
                assert v == pytest.approx(many[mask][k], abs=1e-5), (mask, k)
                assert v == pytest.approx(two[mask][k], abs=1e-5), (mask, k)


def test_eval_batch_size_must_be_positive(tmp_path, capsys):
    ckpt = _train(tmp_path, L.BUILDERS["npz_lengths"](tmp_path))
    capsys.readouterr()
    # refused by the parser, before the checkpoint is read
    assert main(["eval", "--checkpoint", str(ckpt), "--all-masks", "--batch-size", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("mro: error: argument --batch-size: must be a whole number from 1 to")
