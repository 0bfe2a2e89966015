"""app.services.config_diff: dotted flattening and the keys two resolved configs differ in."""

from __future__ import annotations

from app.services.config_diff import ABSENT, Difference, config_diff, flatten, show

A = {"preset": "demo", "seed": 0, "train": {"lr": 0.001, "epochs": 4, "opt": {"name": "adam"}},
     "search": {"rank_loss": "l1", "budget": None}, "argv": ["search", "--seed", "0"], "extra": {}}
B = {"preset": "demo", "seed": 1, "train": {"lr": 0.001, "epochs": 8, "opt": {"name": "adam"}},
     "search": {"rank_loss": "l2", "budget": 1.5}, "argv": ["search", "--seed", "1"], "new": True}


def test_flatten_makes_dotted_keys_and_keeps_lists_and_empty_dicts_as_leaves():
    assert flatten(A) == {"preset": "demo", "seed": 0, "train.lr": 0.001, "train.epochs": 4,
                          "train.opt.name": "adam", "search.rank_loss": "l1", "search.budget": None,
                          "argv": ["search", "--seed", "0"], "extra": {}}


def test_only_differing_keys_side_by_side_sorted():
    diff = config_diff(A, B)
    assert diff == [
        Difference("argv", '["search", "--seed", "0"]', '["search", "--seed", "1"]'),
        Difference("extra", "{}", ABSENT),
        Difference("new", ABSENT, "true"),
        Difference("search.budget", "null", "1.5"),
        Difference("search.rank_loss", "l1", "l2"),
        Difference("seed", "0", "1"),
        Difference("train.epochs", "4", "8"),
    ]
    assert all(d.key not in ("preset", "train.lr", "train.opt.name") for d in diff)  # equal: left out


def test_identical_configs_have_no_difference_and_nan_equals_nan():
    assert config_diff(A, dict(A)) == []
    assert config_diff({"x": float("nan")}, {"x": float("nan")}) == []


def test_a_nested_dict_against_a_leaf_and_bool_against_int():
    assert config_diff({"t": {"lr": 1}}, {"t": 5}) == [Difference("t", ABSENT, "5"), Difference("t.lr", "1", ABSENT)]
    assert config_diff({"flag": True}, {"flag": 1}) == [Difference("flag", "true", "1")]


def test_show_writes_one_line():
    assert show("a b") == "a b" and show(None) == "null" and show({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'
