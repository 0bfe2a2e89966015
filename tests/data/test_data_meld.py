import logging
import pickle

import numpy as np
import pytest

from mro_core.data.base import DataError
from mro_core.data.meld import EMOTIONS, load_meld

DIMS = {"T": 6, "A": 4, "V": 3}
TRAIN = {d: n for d, n in zip(range(10), [4, 1, 3, 6, 2, 5, 3, 1, 2, 4])}  # dialogue -> utterances
TEST = {100: 3, 101: 2, 102: 4}


def _feats(vid, n, dim, rng):
    """Per utterance u of dialogue vid: [u + 1, vid, noise...], so a window shows where it came from."""
    x = rng.uniform(0.5, 1.5, (n, dim)).astype(np.float32)
    x[:, 0] = np.arange(1, n + 1)
    x[:, 1] = vid
    return x


def _emotions(vid, n):
    return [int((vid + u) % 7) for u in range(n)]


def _sentiments(vid, n):
    return [int((vid * 3 + u) % 3) for u in range(n)]


def _tuple(layout, rng=None, train=TRAIN, test=TEST):
    """MMGCN's 10-tuple or DialogueRNN's 9-tuple of dicts by dialogue id."""
    rng = rng or np.random.default_rng(0)
    dialogues = {**train, **test}
    ids = {v: [f"d{v}_u{u}" for u in range(n)] for v, n in dialogues.items()}
    speakers = {v: [[1, 0, 0, 0, 0, 0, 0, 0, 0]] * n for v, n in dialogues.items()}
    labels = {v: _emotions(v, n) for v, n in dialogues.items()}
    # text as a list of per-utterance vectors, audio and visual as 2-D arrays: both occur
    text = {v: list(_feats(v, n, DIMS["T"], rng)) for v, n in dialogues.items()}
    audio = {v: _feats(v, n, DIMS["A"], rng) for v, n in dialogues.items()}
    sentence = {v: ["hi"] * n for v, n in dialogues.items()}
    train_vid, test_vid = list(train), set(test)
    if layout == "mmgcn":
        visual = {v: _feats(v, n, DIMS["V"], rng) for v, n in dialogues.items()}
        visual[3][0, 2] = np.nan
        return (ids, speakers, labels, text, audio, visual, sentence, train_vid, test_vid, None)
    sentiment = {v: _sentiments(v, n) for v, n in dialogues.items()}
    return (ids, speakers, labels, text, audio, sentence, train_vid, test_vid, sentiment)


def _dump(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f)
    return path


def _row(split, vid, utt):
    """Index of the sample for utterance number utt (1-based) of dialogue vid."""
    t = split.features["T"]
    last = split.valid["T"].sum(axis=1) - 1
    cur = t[np.arange(len(t)), last]
    (hit,) = np.flatnonzero((cur[:, 1] == vid) & (cur[:, 0] == utt))
    return hit


def _dialogues(split):
    return set(np.unique(split.features["T"][:, 0, 1]).astype(int).tolist())


def test_mmgcn_layout(tmp_path, caplog):
    path = _dump(tmp_path / "MELD_features_raw1.pkl", _tuple("mmgcn"))
    with caplog.at_level(logging.WARNING):
        ds = load_meld(path, window=5)
    assert ds.name == "meld" and ds.modalities == ("T", "A", "V")
    assert ds.task == "classification" and ds.num_classes == 7 and ds.class_names == EMOTIONS
    assert ds.class_names[:3] == ("neutral", "surprise", "fear") and ds.class_names[6] == "anger"
    assert ds.input_dims == (6, 4, 3) and ds.seq_lens == (5, 5, 5)
    assert ds.meta["layout"] == "mmgcn" and ds.extra_targets == ()
    assert len(ds.splits["train"]) + len(ds.splits["valid"]) == sum(TRAIN.values())
    assert len(ds.splits["test"]) == sum(TEST.values())
    assert "raw1.pkl:" in caplog.text and "/V: replaced 1 NaN/inf" in caplog.text
    for s, sp in ds.splits.items():
        assert sp.labels.dtype == np.int64 and all(not sp.extra for sp in ds.splits.values())
        for m in ds.modalities:
            assert np.isfinite(sp.features[m]).all()
            np.testing.assert_array_equal(sp.valid[m], sp.valid["T"])  # one window for all
    test = ds.splits["test"]
    for vid, n in TEST.items():
        for u in range(1, n + 1):
            assert test.labels[_row(test, vid, u)] == _emotions(vid, n)[u - 1]


@pytest.mark.parametrize("window", [5, 2, 1])
def test_context_window_of_third_utterance(tmp_path, window):
    ds = load_meld(_dump(tmp_path / "MELD_features_raw1.pkl", _tuple("mmgcn")), window=window)
    sp = ds.splits["test"]
    i = _row(sp, 102, 3)  # dialogue 102 has 4 utterances
    keep = min(3, window)
    for m in ds.modalities:
        x, v = sp.features[m][i], sp.valid[m][i]
        assert x.shape[0] == window
        np.testing.assert_array_equal(v, np.arange(window) < keep)  # right padding
        np.testing.assert_array_equal(x[:keep, 0], np.arange(4 - keep, 4))  # ..., 2, 3 in order
        assert (x[:keep, 1] == 102).all() and (x[keep:] == 0).all()
    # the first utterance of a dialogue has only itself
    j = _row(sp, 102, 1)
    assert sp.valid["T"][j].sum() == 1 and sp.features["T"][j, 0, 0] == 1


def test_valid_carved_from_train_without_overlap(tmp_path):
    path = _dump(tmp_path / "MELD_features_raw1.pkl", _tuple("mmgcn"))
    ds = load_meld(path, valid_fraction=0.3, seed=0)
    train, valid = _dialogues(ds.splits["train"]), _dialogues(ds.splits["valid"])
    assert len(valid) == 3 and not train & valid and train | valid == set(TRAIN)
    assert _dialogues(ds.splits["test"]) == set(TEST)
    assert sorted(ds.meta["valid_dialogues"]) == sorted(valid)
    assert _dialogues(load_meld(path, valid_fraction=0.3, seed=0).splits["valid"]) == valid
    seeds = {frozenset(load_meld(path, valid_fraction=0.3, seed=s).meta["valid_dialogues"]) for s in range(4)}
    assert len(seeds) > 1  # the seed picks the dialogues
    assert len(_dialogues(load_meld(path, valid_fraction=0.1).splits["valid"])) == 1


def test_dialoguernn_layout_has_sentiment_and_no_visual(tmp_path):
    ds = load_meld(_dump(tmp_path / "MELD_features_raw.pkl", _tuple("dialoguernn")), window=3)
    assert ds.modalities == ("T", "A") and ds.meta["layout"] == "dialoguernn"
    assert ds.extra_targets == ("sentiment",)
    target = {0: 0.0, 1: 1.0, 2: -1.0}  # neutral, positive, negative
    for sp in ds.splits.values():
        sen = sp.extra["sentiment"]
        assert sen.dtype == np.float32 and sen.shape == sp.labels.shape
        assert set(np.unique(sen).tolist()) <= {-1.0, 0.0, 1.0}
    test = ds.splits["test"]
    for vid, n in TEST.items():
        for u in range(1, n + 1):
            i = _row(test, vid, u)
            assert test.extra["sentiment"][i] == target[_sentiments(vid, n)[u - 1]]
            assert test.labels[i] == _emotions(vid, n)[u - 1]


def test_folder_prefers_mmgcn_file(tmp_path):
    _dump(tmp_path / "MELD_features" / "MELD_features_raw.pkl", _tuple("dialoguernn"))
    assert load_meld(tmp_path).meta["layout"] == "dialoguernn"
    _dump(tmp_path / "MELD_features_raw1.pkl", _tuple("mmgcn"))
    assert load_meld(tmp_path).meta["layout"] == "mmgcn"


def test_missing_file_and_bad_arguments(tmp_path):
    with pytest.raises(DataError, match=r"MELD_features_raw1\.pkl, MELD_features_raw\.pkl"):
        load_meld(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        load_meld(tmp_path / "nope.pkl")
    with pytest.raises(ValueError, match="window"):
        load_meld(tmp_path, window=0)
    with pytest.raises(ValueError, match="valid_fraction"):
        load_meld(tmp_path, valid_fraction=1.0)


def _set(tup, i, value):
    t = list(tup)
    t[i] = value
    return tuple(t)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda t: {"train": t}, "expected the 10-tuple.*got a dict"),
        (lambda t: t[:8], "got a tuple of length 8"),
        (lambda t: _set(t, 5, "visual"), "element 5 .* should be a dict"),
        (lambda t: _set(t, 7, 42), "element 7 should be a collection"),
        (lambda t: _set(t, 3, {k: v for k, v in t[3].items() if k != 2}), "dialogue 2 has no T features"),
        (lambda t: _set(t, 2, {**t[2], 4: [0, 9]}), r"emotion ids span \[0, 9\]"),
        (lambda t: _set(t, 4, {**t[4], 4: t[4][4][:1]}), r"expected \[2 utterances, D\]"),
        (lambda t: _set(t, 8, set(t[8]) | {0}), "in both trainVid and testVid"),
        (lambda t: _set(t, 7, [0]), "need 2 or more"),
    ],
)
def test_bad_content_is_a_data_error(tmp_path, mutate, match):
    with pytest.raises(DataError, match=match):
        load_meld(_dump(tmp_path / "MELD_features_raw1.pkl", mutate(_tuple("mmgcn"))))


def test_bad_sentiment_ids(tmp_path):
    t = _tuple("dialoguernn")
    t = _set(t, 8, {**t[8], 100: [0, 3, 1]})
    with pytest.raises(DataError, match=r"sentiment ids span \[0, 3\]"):
        load_meld(_dump(tmp_path / "MELD_features_raw.pkl", t))


def test_truncated_file(tmp_path):
    blob = pickle.dumps(_tuple("mmgcn"))
    (tmp_path / "MELD_features_raw1.pkl").write_bytes(blob[: len(blob) // 3])
    with pytest.raises(DataError, match="truncated"):
        load_meld(tmp_path)
