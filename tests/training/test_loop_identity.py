"""Regression guard of issue 10, item 3: the shared training skeleton changes no result. Tiny
seeded runs of ``train_supernet`` (uniform and fixed-mask), ``run_search`` (k = 3; k = 5 Full MRO
and random search) and ``train_baseline`` (Concat+MLP, EmbraceNet) must give the recorded
fingerprints (``tests/training/fixtures/loop_identity.json``): the same checkpoint tensors bit for
bit, the same picks, masks and counts, and floating metrics within ``REL_TOL`` (1e-9) relative, so
the check holds on any CPU that rounds float32 as the recording one did (see
``loop_identity.differences``); on one that does not, structure, rounding-free values and a repeat
on the same machine are compared (``loop_identity.portable_differences``)."""

import json

import pytest

from loop_identity import FIXTURE, differences, fingerprints, portable_differences, same_rounding, structure


@pytest.mark.slow
def test_runs_match_the_recorded_ones(tmp_path):
    """Bit for bit where this CPU rounds as the recording one did; elsewhere (another SIMD width) the
    same structure and the same rounding-free values, and the run repeats bit for bit on this machine."""
    want = json.loads(FIXTURE.read_text())
    got = json.loads(json.dumps(fingerprints(tmp_path / "a"), sort_keys=True))
    assert set(got) == set(want)
    if same_rounding(got, want):
        bad = differences(got, want)
    else:
        bad = portable_differences(got, want)
        again = json.loads(json.dumps(fingerprints(tmp_path / "b"), sort_keys=True))
        bad += [f"not repeatable here: {d}" for d in differences(again, got)]
    assert not bad, f"{len(bad)} differences from the recorded runs, first: " + "; ".join(bad[:5])


def test_the_comparison_is_exact_where_it_must_be_and_tolerant_where_it_may():
    """Floats within 1e-9 relative pass; a changed digest, mask, count or a float beyond it fail."""
    want = {"corr": 0.21563559354718517, "mask": "011011", "n": 3, "w": "tensor(2,):torch.float32:ab"}
    assert differences(dict(want, corr=0.21563559354718514), want) == []
    assert differences(dict(want, corr=0.2156356), want)
    assert differences(dict(want, mask="011010"), want)
    assert differences(dict(want, n=4), want)
    assert differences(dict(want, w="tensor(2,):torch.float32:ac"), want)
    assert differences({"corr": want["corr"]}, want)


def test_the_portable_comparison_keeps_structure_and_rounding_free_values():
    """On another CPU: a float's or a digest's value may move, a shape, dtype, key, mask or count may not."""
    want = {"corr": 0.2, "mask": "011011", "n": 3, "w": "tensor(2,):torch.float32:ab"}
    assert differences(structure(dict(want, corr=0.3, w="tensor(2,):torch.float32:cd")), structure(want)) == []
    assert differences(structure(dict(want, w="tensor(3,):torch.float32:ab")), structure(want))
    assert differences(structure(dict(want, w="tensor(2,):torch.float64:ab")), structure(want))
    assert differences(structure(dict(want, mask="011010")), structure(want))
    assert differences(structure(dict(want, n=4)), structure(want))
