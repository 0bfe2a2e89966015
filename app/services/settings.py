"""Where the dashboard looks for things: the demo checkpoint, the run workspace, the data root.

Environment variables (read on every call, so tests and a restarted server see changes):

- ``MRO_WORKSPACE``: the run store's folder (default ``runs/``, relative to the working directory).
- ``MRO_DATA_ROOT``: the only folder data files may be picked from (default ``data/``).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_CHECKPOINT = REPO_ROOT / "checkpoints" / "demo.pt"

WORKSPACE_ENV = "MRO_WORKSPACE"
DATA_ROOT_ENV = "MRO_DATA_ROOT"
DEFAULT_WORKSPACE = "runs"
DEFAULT_DATA_ROOT = "data"


def workspace() -> Path:
    """The run workspace (absolute; it may not exist yet)."""
    return Path(os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE).expanduser().resolve()


def data_root() -> Path:
    """The data root (absolute; it may not exist yet)."""
    return Path(os.environ.get(DATA_ROOT_ENV) or DEFAULT_DATA_ROOT).expanduser().resolve()
