"""The plotly chart config that makes a chart's toolbar camera button save the figure.

Plotly's ``toImage`` draws the file in the browser (no kaleido, no server, works offline) and
supports ``png``, ``svg``, ``jpeg`` and ``webp``. The toolbar has one camera button, and a second,
custom button would need a JavaScript ``click`` function, which Streamlit's JSON chart config
cannot carry; so the format is a choice the session makes once for every chart. Pure, no Streamlit.
"""

from __future__ import annotations

FORMATS = {"svg": "SVG (vector)", "png": "PNG (image)"}
"""The formats offered, with their labels: SVG for papers (scales without loss), PNG for slides
and chats that do not take SVG."""
DEFAULT_FORMAT = "svg"
DEFAULT_FILENAME = "mro-figure"
PNG_SCALE = 2
"""PNG pixels per CSS pixel: twice the on-screen size, sharp on a projector or a high-DPI screen."""


def export_config(fmt: str = DEFAULT_FORMAT, filename: str | None = None) -> dict:
    """``st.plotly_chart``'s ``config``: the camera button saves ``fmt`` as ``filename`` (without
    extension; plotly adds it), and plotly's logo is left off the toolbar.

    Raises:
        ValueError: on a format not in :data:`FORMATS`.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown chart export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    opts: dict = {"format": fmt, "filename": filename or DEFAULT_FILENAME}
    if fmt == "png":
        opts["scale"] = PNG_SCALE
    return {"toImageButtonOptions": opts, "displaylogo": False}
