"""mro_core.config: the one definition of the search's choices, validation, presets, dict round trips."""

from __future__ import annotations

import pytest

from mro_core.config import (
    ABLATIONS,
    PRESETS,
    RANK_LOSSES,
    RANK_TARGETS,
    ModelConfig,
    SearchConfig,
    SyntheticConfig,
    TrainConfig,
    from_dict,
    get_preset,
    to_dict,
)


def test_the_choices_are_defined_once_and_shared():
    from mro_core.search import ranking
    from mro_core.search import run as search
    assert ranking.RANK_LOSSES is RANK_LOSSES and ranking.RANK_TARGETS is RANK_TARGETS
    assert search.SearchConfig is SearchConfig
    assert RANK_LOSSES == ("l0", "l1", "l2", "linf") and ABLATIONS[0] == "none"


@pytest.mark.parametrize("kw, match", [
    ({"rank_loss": "l3"}, "unknown rank loss 'l3'"),
    ({"rank_target": "x"}, "unknown rank target"),
    ({"ablation": "x"}, "unknown ablation"),
    ({"warmup_epochs": -1}, "must be >= 0"),
    ({"rho": 0.0}, "'rho' must lie in"),
    ({"budget_mflops": 0.0}, "'budget_mflops' must be > 0"),
])
def test_search_config_validation(kw, match):
    with pytest.raises(ValueError, match=match):
        SearchConfig(**kw)


@pytest.mark.parametrize("cls, kw, match", [
    (TrainConfig, {"epochs": 0}, "'epochs' must be >= 1"),
    (TrainConfig, {"lr": 0.0}, "'lr' must be > 0"),
    (TrainConfig, {"device": "tpu"}, "'device' must be one of"),
    (ModelConfig, {"d_model": 10, "num_heads": 4}, "divisible"),
    (SyntheticConfig, {"planted": ()}, "'planted' needs at least one path"),
])
def test_config_validation(cls, kw, match):
    with pytest.raises(ValueError, match=match):
        cls(**kw)


def test_dict_round_trip_and_unknown_keys():
    for cfg in (ModelConfig(), TrainConfig(epochs=3), SearchConfig(rank_loss="l2"), SyntheticConfig(n_train=50)):
        assert from_dict(type(cfg), to_dict(cfg)) == cfg
    with pytest.raises(ValueError, match=r"unknown TrainConfig field\(s\) \['bogus'\]"):
        from_dict(TrainConfig, {"bogus": 1})


def test_presets():
    assert get_preset("demo") is PRESETS["demo"]
    assert all(p.rank_loss in RANK_LOSSES for p in PRESETS.values())
    with pytest.raises(ValueError, match="unknown preset 'nope'; choose one of"):
        get_preset("nope")
