"""Regression guard of issue 10, item 3: the shared training skeleton changes no result. Tiny
seeded runs of ``train_supernet`` (uniform and fixed-mask), ``run_search`` (k = 3; k = 5 Full MRO
and random search) and ``train_baseline`` (Concat+MLP, EmbraceNet) must give the recorded
fingerprints (``tests/training/fixtures/loop_identity.json``): the same checkpoint tensors bit for
bit, the same picks, masks and counts, and floating metrics within ``REL_TOL`` (1e-9) relative, so
the check holds on any CPU (see ``loop_identity.differences``)."""

import json

import pytest

from loop_identity import FIXTURE, differences, fingerprints


@pytest.mark.slow
def test_runs_match_the_recorded_ones(tmp_path):
    want = json.loads(FIXTURE.read_text())
    got = json.loads(json.dumps(fingerprints(tmp_path), sort_keys=True))
    assert set(got) == set(want)
    bad = differences(got, want)
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
