import pytest

from mro_core.paths import MaskError, PathSpace, default_space


def test_paper_order_for_three_modalities():
    sp = default_space()
    assert sp.path_names == ("T->A", "T->V", "A->T", "A->V", "V->T", "V->A")
    assert sp.num_paths == 6 and sp.num_masks == 63


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_order_any_k(k):
    mods = tuple(f"m{i}" for i in range(k))
    sp = PathSpace(mods)
    assert sp.num_paths == k * (k - 1)
    pairs = [(p.src, p.tgt) for p in sp.paths]
    assert pairs == sorted(pairs) and all(s != t for s, t in pairs)
    assert len(set(pairs)) == len(pairs)


@pytest.mark.parametrize(
    "text",
    ["011011", "[0,1,1,0,1,1]", "0,1,1,0,1,1", "[0, 1, 1, 0, 1, 1]", "T->V,A->T,V->T,V->A",
     "V->A, T->V ,A -> T,V->T", "0 1 1 0 1 1"],
)
def test_every_spelling_parses_to_the_same_mask(text):
    sp = default_space()
    m = sp.parse(text)
    assert m == (0, 1, 1, 0, 1, 1)
    assert sp.to_bits(m) == "011011"


def test_sequence_inputs():
    sp = default_space()
    assert sp.parse([0, 1, 1, 0, 1, 1]) == (0, 1, 1, 0, 1, 1)
    assert sp.parse(["T->A"]) == (1, 0, 0, 0, 0, 0)


@pytest.mark.parametrize(
    "bad, match",
    [
        ("01101", "has 5 bits but this model has 6 bits"),
        ("0110111", "has 7 bits"),
        ("01201a", "symbol '2' is not 0 or 1"),
        ("000000", "all-zero mask"),
        ("T->X", "unknown path 'T->X'"),
        ("T->T", "unknown path"),
        ("", "empty mask"),
    ],
)
def test_bad_masks_name_the_problem(bad, match):
    with pytest.raises(MaskError, match=match):
        default_space().parse(bad)


def test_error_names_the_path_order():
    with pytest.raises(MaskError, match=r"T->A, T->V, A->T, A->V, V->T, V->A"):
        default_space().parse("0110")


def test_enumeration():
    sp = default_space()
    masks = sp.all_masks()
    assert len(masks) == 63 == len(set(masks))
    assert all(any(m) for m in masks)
    assert len(PathSpace(("a", "b", "c", "d")).all_masks()) == 4095
    with pytest.raises(ValueError, match="too many to enumerate"):
        PathSpace(("a", "b", "c", "d", "e")).all_masks()


@pytest.mark.parametrize("mods, match", [(("T",), "at least 2"), (("T", "T"), "unique"), (("T", "A->B"), "not usable")])
def test_bad_modalities(mods, match):
    with pytest.raises(ValueError, match=match):
        PathSpace(mods)


def test_describe_and_active():
    sp = default_space()
    assert sp.describe((0, 1, 1, 0, 1, 1)) == "011011 (T->V, A->T, V->T, V->A)"
    assert [p.name for p in sp.active_paths((1, 0, 0, 0, 0, 1))] == ["T->A", "V->A"]
