"""app.services.chart_export: the toolbar camera button's config (SVG or PNG, offline)."""

from __future__ import annotations

import pytest

from app.services.chart_export import FORMATS, PNG_SCALE, export_config


def test_svg_is_the_default_and_names_the_file():
    assert export_config() == {"toImageButtonOptions": {"format": "svg", "filename": "mro-figure"},
                               "displaylogo": False}
    assert export_config("svg", "pareto")["toImageButtonOptions"]["filename"] == "pareto"


def test_png_is_drawn_at_twice_the_screen_size():
    opts = export_config("png", "x")["toImageButtonOptions"]
    assert opts == {"format": "png", "filename": "x", "scale": PNG_SCALE} and PNG_SCALE == 2


def test_only_formats_plotly_draws_in_the_browser_are_offered():
    assert set(FORMATS) <= {"png", "svg", "jpeg", "webp"}  # plotly.js toImage formats
    with pytest.raises(ValueError, match="choose one of svg, png"):
        export_config("pdf")  # plotly.js cannot write PDF client-side
