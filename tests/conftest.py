"""Shared fixtures: tiny configs, batches and datasets (CPU, seconds)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mro_core.config import ModelConfig, SyntheticConfig
from mro_core.data.base import Batch

DEVICE = os.environ.get("TORCH_DEVICE", "cpu")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the dashboard's `app` package lives at the repository root
    sys.path.insert(0, str(ROOT))


def tiny_config(k: int = 3, **kw) -> ModelConfig:
    mods = ("T", "A", "V", "X", "Y")[:k]
    base = dict(modalities=mods, input_dims=tuple(3 + i for i in range(k)), d_model=8, num_heads=2,
                ff_mult=2, dropout=0.0, layers_per_path=1)
    base.update(kw)
    return ModelConfig(**base)


def tiny_batch(cfg: ModelConfig, B: int = 4, lens: tuple[int, ...] | None = None, seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    lens = lens or tuple(5 + i for i in range(len(cfg.modalities)))
    x, v = {}, {}
    for m, L, D in zip(cfg.modalities, lens, cfg.input_dims):
        x[m] = torch.randn(B, L, D, generator=g)
        n = torch.randint(1, L + 1, (B,), generator=g)
        v[m] = torch.arange(L)[None, :] < n[:, None]
    if cfg.task == "regression":
        y = torch.rand(B, generator=g) * 6 - 3
    else:
        y = torch.randint(0, cfg.out_dim, (B,), generator=g)
    return Batch(x, v, y)


@pytest.fixture
def small_synthetic_cfg() -> SyntheticConfig:
    return SyntheticConfig(n_train=64, n_valid=32, n_test=32, seed=1)


def wait_for(cond, timeout: float = 10.0, what: str = "condition"):
    """Poll ``cond`` until it returns something truthy (returned), or fail after ``timeout`` s."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def store(tmp_path):
    from mro_core.runs.store import RunStore

    s = RunStore(tmp_path / "runs")
    yield s
    s.close()


@pytest.fixture
def open_app(monkeypatch, tmp_path):
    """AppTest of the dashboard with an empty workspace and data root under ``tmp_path``:
    ``open_app(page="views/x.py", query={...})``. ``st.cache_resource`` is cleared before each
    app and afterwards (AppTest instances share the process-wide cache)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from app.services import settings

    monkeypatch.setenv(settings.WORKSPACE_ENV, str(tmp_path / "runs"))
    monkeypatch.setenv(settings.DATA_ROOT_ENV, str(tmp_path / "data"))
    app = str(Path(__file__).resolve().parents[1] / "app" / "main.py")

    def make(page: str | None = None, query: dict | None = None) -> AppTest:
        st.cache_resource.clear()
        at = AppTest.from_file(app, default_timeout=60)
        at.query_params.update(query or {})
        at.run()
        return at.switch_page(page).run() if page else at

    yield make
    st.cache_resource.clear()


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    np.random.seed(0)


# One intra-op thread: tiny tensors gain nothing from two, and tests running beside other
# processes on a 2-core machine otherwise stall on thread contention.
torch.set_num_threads(1)
