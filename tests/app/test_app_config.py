"""Dashboard chrome: no Deploy button, a favicon shipped with the app (no internet needed)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_dashboard_config_hides_deploy_and_ships_a_favicon():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["client"]["toolbarMode"] in ("minimal", "viewer")  # no "Deploy" button
    assert (ROOT / "app" / "assets" / "favicon.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    main = (ROOT / "app" / "main.py").read_text()
    assert "assets" in main and ":material/hub:" not in main
