"""Regression guard of issue 10, item 3: the shared training skeleton changes no result. Tiny
seeded runs of ``train_supernet`` (uniform and fixed-mask), ``run_search`` (k = 3; k = 5 Full MRO
and random search) and ``train_baseline`` (Concat+MLP, EmbraceNet) must give the fingerprints
recorded from the code before the refactor (``tests/fixtures/loop_identity.json``): the same
histories, picks, metrics and checkpoint contents, bit for bit."""

import json

import pytest

from loop_identity import FIXTURE, fingerprints


@pytest.mark.slow
def test_runs_are_bit_identical_to_the_recorded_ones(tmp_path):
    want = json.loads(FIXTURE.read_text())
    got = json.loads(json.dumps(fingerprints(tmp_path), sort_keys=True))
    assert set(got) == set(want)
    for name in sorted(want):
        assert got[name] == want[name], f"{name} differs from the recorded run"
