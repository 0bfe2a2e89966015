import logging
import os
import pickle

import numpy as np
import pytest

from mro_core.data.base import DataError
from mro_core.data.mosei import candidate_files, load_mosei

SIZES = {"train": 4, "valid": 2, "test": 3}


def _padded(rng, n, max_len, dim, lengths, side):
    """[n, max_len, dim] with non-zero rows on the real steps and zero rows as padding."""
    x = np.zeros((n, max_len, dim), np.float32)
    for i, ln in enumerate(lengths):
        rows = rng.uniform(0.5, 1.5, (ln, dim)) * rng.choice([-1, 1], (ln, dim))
        if side == "left":
            x[i, max_len - ln:] = rows
        else:
            x[i, :ln] = rows
    return x


def _mask(lengths, max_len, side):
    pos = np.arange(max_len)[None, :]
    ln = np.asarray(lengths)[:, None]
    return pos >= max_len - ln if side == "left" else pos < ln


def _lengths(rng, n, max_len):
    return rng.integers(1, max_len + 1, n)


def _mult(rng, *, seq=(5, 5, 5), dims=(6, 4, 3)):
    """MulT layout: text/audio/vision [N, L, D] left-padded, -inf in audio, labels [N, 1, 1]."""
    data, truth = {}, {}
    for s, n in SIZES.items():
        lens = {m: _lengths(rng, n, L) for m, L in zip("TAV", seq)}
        split = {
            k: _padded(rng, n, L, d, lens[m], "left")
            for k, m, L, d in zip(("text", "audio", "vision"), "TAV", seq, dims)
        }
        split["audio"][0, -1, 0] = -np.inf  # a real (last) step: MOSEI audio holds -inf
        split["vision"][0, -1, 0] = np.nan
        split["labels"] = rng.uniform(-3, 3, (n, 1, 1)).astype(np.float32)
        split["id"] = np.array([[f"vid{i}".encode(), b"0", b"1"] for i in range(n)])
        data[s] = split
        truth[s] = lens
    return data, truth


def _mmsa(rng, *, aligned, seq=(5, 5, 5), dims=(8, 4, 3)):
    """MMSA layout: right padding, text_bert token ids, regression_labels [N], lengths if unaligned."""
    data, truth = {}, {}
    for s, n in SIZES.items():
        lens = {m: _lengths(rng, n, L) for m, L in zip("TAV", seq)}
        split = {
            k: _padded(rng, n, L, d, lens[m], "right")
            for k, m, L, d in zip(("text", "audio", "vision"), "TAV", seq, dims)
        }
        ids = rng.integers(1000, 2000, (n, seq[0]))
        bert_mask = _mask(lens["T"], seq[0], "right").astype(np.int64)
        split["text_bert"] = np.stack([ids * bert_mask, bert_mask, np.zeros_like(ids)], axis=1)
        split["audio"][0, 0, 0] = -np.inf
        split["regression_labels"] = rng.uniform(-3, 3, n).astype(np.float32)
        split["id"] = np.array([f"vid$_${i}" for i in range(n)], dtype=object)
        split["raw_text"] = np.array(["some words"] * n, dtype=object)
        if not aligned:
            split["audio_lengths"] = lens["A"].tolist()
            split["vision_lengths"] = lens["V"]
        data[s] = split
        truth[s] = lens
    return data, truth


def _dump(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f)
    return path


def _check(ds, data, truth, *, side, seq, dims, label_key):
    assert ds.modalities == ("T", "A", "V")
    assert ds.task == "regression" and ds.num_classes is None
    assert ds.seq_lens == seq and ds.input_dims == dims
    for s, n in SIZES.items():
        sp = ds.splits[s]
        assert len(sp) == n
        np.testing.assert_allclose(sp.labels, np.asarray(data[s][label_key]).reshape(-1))
        assert sp.labels.dtype == np.float32 and sp.labels.shape == (n,)
        for m, L in zip("TAV", seq):
            x = sp.features[m]
            assert x.dtype == np.float32 and np.isfinite(x).all()
            np.testing.assert_array_equal(sp.valid[m], _mask(truth[s][m], L, side))


def test_candidate_files():
    assert candidate_files("mosei", True) == ["mosei_senti_data.pkl", "mosei_data.pkl", "aligned_50.pkl"]
    assert candidate_files("mosi", False) == ["mosi_data_noalign.pkl", "unaligned_50.pkl"]


def test_mult_aligned_folder_and_file_left_padding(tmp_path, caplog):
    data, truth = _mult(np.random.default_rng(0))
    path = _dump(tmp_path / "mosei_senti_data.pkl", data)
    with caplog.at_level(logging.WARNING):
        ds = load_mosei(tmp_path, name="mosei")
    _check(ds, data, truth, side="left", seq=(5, 5, 5), dims=(6, 4, 3), label_key="labels")
    assert ds.name == "mosei" and ds.meta["layout"] == "mult"
    assert "mosei_senti_data.pkl:train/A: replaced 1 NaN/inf" in caplog.text
    assert "mosei_senti_data.pkl:test/V: replaced 1 NaN/inf" in caplog.text
    # the -inf sat in a real step: it is now 0 and that step stays valid
    assert ds.splits["train"].features["A"][0, -1, 0] == 0 and ds.splits["train"].valid["A"][0, -1]
    ds_file = load_mosei(path, name="mosei")
    for m in "TAV":
        np.testing.assert_array_equal(ds_file.splits["test"].features[m], ds.splits["test"].features[m])


def test_mult_mosi_unaligned_lengths_differ(tmp_path):
    seq, dims = (5, 7, 6), (6, 5, 20)  # MOSI: audio 5, vision 20; unaligned lengths per modality
    data, truth = _mult(np.random.default_rng(1), seq=seq, dims=dims)
    _dump(tmp_path / "mosi_data_noalign.pkl", data)
    _dump(tmp_path / "mosi_data.pkl", _mult(np.random.default_rng(2))[0])  # the aligned sibling
    ds = load_mosei(tmp_path, name="mosi", aligned=False)
    assert ds.name == "mosi" and ds.meta["file"].endswith("mosi_data_noalign.pkl")
    _check(ds, data, truth, side="left", seq=seq, dims=dims, label_key="labels")


def test_mult_mosei_data_name_accepted(tmp_path):
    data, _ = _mult(np.random.default_rng(3))
    _dump(tmp_path / "mosei_data.pkl", data)
    assert load_mosei(tmp_path).meta["file"].endswith("mosei_data.pkl")


def test_mmsa_aligned_right_padding_from_zero_rows(tmp_path):
    data, truth = _mmsa(np.random.default_rng(4), aligned=True)
    path = _dump(tmp_path / "MOSEI" / "Processed" / "aligned_50.pkl", data)
    ds = load_mosei(tmp_path, name="mosei")  # MMSA's own tree below the folder
    assert ds.meta["layout"] == "mmsa" and ds.meta["file"] == str(path)
    _check(ds, data, truth, side="right", seq=(5, 5, 5), dims=(8, 4, 3), label_key="regression_labels")
    assert load_mosei(path).splits["valid"].labels.shape == (2,)


def test_mmsa_unaligned_uses_lengths(tmp_path, caplog):
    seq = (5, 8, 6)
    data, truth = _mmsa(np.random.default_rng(5), aligned=False, seq=seq)
    # a real audio step that happens to be all zero stays valid: lengths decide, not zero rows
    i = int(np.argmax(truth["train"]["A"] >= 2))
    data["train"]["audio"][i, 1] = 0.0
    truth["train"]["A"][i] = max(truth["train"]["A"][i], 2)
    path = _dump(tmp_path / "unaligned_50.pkl", data)
    with caplog.at_level(logging.WARNING):
        ds = load_mosei(path, name="mosi", aligned=False)
    _check(ds, data, truth, side="right", seq=seq, dims=(8, 4, 3), label_key="regression_labels")
    assert ds.splits["train"].valid["A"][i, 1]
    assert "unaligned_50.pkl:train/A: replaced 1 NaN/inf" in caplog.text


def test_file_name_disagreeing_with_aligned_is_logged(tmp_path, caplog):
    path = _dump(tmp_path / "unaligned_50.pkl", _mmsa(np.random.default_rng(6), aligned=False)[0])
    with caplog.at_level(logging.WARNING, logger="mro_core.data.mosei"):
        load_mosei(path, aligned=True)
    assert "suggests unaligned" in caplog.text


def test_text_bert_only_is_explained(tmp_path):
    data, _ = _mmsa(np.random.default_rng(7), aligned=True)
    for s in SIZES:
        del data[s]["text"]
    with pytest.raises(DataError, match="text_bert.*token ids.*'text' feature array"):
        load_mosei(_dump(tmp_path / "aligned_50.pkl", data))


def test_folder_without_file_names_what_was_looked_for(tmp_path):
    _dump(tmp_path / "mosi_data.pkl", {})
    with pytest.raises(DataError, match=r"mosei_senti_data\.pkl, mosei_data\.pkl, aligned_50\.pkl"):
        load_mosei(tmp_path, name="mosei")
    with pytest.raises(DataError, match="does not exist"):
        load_mosei(tmp_path / "nope.pkl")
    with pytest.raises(DataError, match="name must be one of"):
        load_mosei(tmp_path, name="iemocap")


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: list(d.values()), "expected a dict with 'train'"),
        (lambda d: {k: v for k, v in d.items() if k != "valid"}, r"missing split\(s\) \['valid'\]"),
        (lambda d: {s: {k: v for k, v in sp.items() if k != "labels"} for s, sp in d.items()},
         "neither 'labels'"),
        (lambda d: {s: {k: v for k, v in sp.items() if k != "vision"} for s, sp in d.items()},
         "missing key 'vision'"),
        (lambda d: {s: {**sp, "audio": sp["audio"][:, :, 0]} for s, sp in d.items()}, r"3-D \[N, L, D\]"),
        (lambda d: {s: {**sp, "labels": sp["labels"] * 2} for s, sp in d.items()}, r"lies in \[-3, 3\]"),
        (lambda d: {s: {**sp, "labels": np.repeat(sp["labels"], 2, axis=1)} for s, sp in d.items()},
         "one sentiment score per sample"),
        (lambda d: {s: {**sp, "text": sp["text"][:-1]} for s, sp in d.items()}, "one row per label"),
    ],
)
def test_bad_content_is_a_data_error(tmp_path, mutate, match):
    data, _ = _mult(np.random.default_rng(8))
    data["train"]["labels"][0] = 2.9  # so doubling leaves [-3, 3]
    with pytest.raises(DataError, match=match):
        load_mosei(_dump(tmp_path / "mosei_senti_data.pkl", mutate(data)))


def test_mmsa_lengths_out_of_range(tmp_path):
    data, _ = _mmsa(np.random.default_rng(9), aligned=False)
    data["test"]["vision_lengths"] = np.full(SIZES["test"], 99)
    with pytest.raises(DataError, match=r"vision_lengths: lengths must lie in \[0, 5\]"):
        load_mosei(_dump(tmp_path / "unaligned_50.pkl", data), aligned=False)


def test_truncated_and_unsafe_files(tmp_path):
    blob = pickle.dumps(_mult(np.random.default_rng(10))[0])
    (tmp_path / "mosei_senti_data.pkl").write_bytes(blob[:-50])
    with pytest.raises(DataError, match="truncated"):
        load_mosei(tmp_path)

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    _dump(tmp_path / "x" / "mosei_senti_data.pkl", {"train": Evil()})
    with pytest.raises(DataError, match="unsafe"):
        load_mosei(tmp_path / "x")
    assert not marker.exists()
