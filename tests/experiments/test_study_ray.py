"""`mro study --executor ray`: a 2-task study on a local Ray (started by the test) gives the same
rows as the local executor."""

from dataclasses import replace

import pytest

from mro_core.config import SyntheticConfig, get_preset, model_config_for, to_dict
from mro_core.data.synthetic import make_synthetic
from mro_core.experiments.study import StudySpec, run_study

ray = pytest.importorskip("ray", reason="Ray is an optional extra (pip install 'mro[ray]')")

TINY = SyntheticConfig(n_train=48, n_valid=24, n_test=24, seed=3)


def _spec(tmp_path, name):
    ds = make_synthetic(TINY)
    p = get_preset("demo")
    m = model_config_for(p, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task, d_model=8, num_heads=2)
    t = replace(p.train, epochs=1, batch_size=24, device="cpu")
    return StudySpec(name, {"name": "synthetic", "synthetic": to_dict(TINY)}, to_dict(m), to_dict(t),
                     {"warmup_epochs": 0, "warmup_until": 0.0}, ("full", "uniform"), (0,), str(tmp_path / name))


@pytest.mark.slow
def test_ray_study_gives_the_local_rows(tmp_path):
    from mro_core.experiments.study_ray import ray_submitter

    local = run_study(_spec(tmp_path, "loc"), tmp_path / "loc")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        spec = _spec(tmp_path, "ray")
        remote = run_study(spec, tmp_path / "ray", submit=ray_submitter(spec))
        again = run_study(spec, tmp_path / "ray", submit=ray_submitter(spec))  # restarted: nothing redone
    finally:
        ray.shutdown()
    key = lambda r: (r["method"], r["seed"])  # noqa: E731
    drop = ("seconds",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in sorted(remote, key=key)] == \
        [{k: v for k, v in r.items() if k not in drop} for r in sorted(local, key=key)]
    assert sorted(again, key=key) == sorted(remote, key=key)
