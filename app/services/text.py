"""User-supplied text (run names, baseline names, error messages) shown as text, never as markup,
and wide enough to be read in full.

Plotly renders a subset of HTML in legends, hovers and annotations (``<b>``, ``<a href>``, ``<br>``)
and Streamlit renders Markdown in ``st.markdown`` / ``st.caption``: a run named
``<b>BOLD</b> <a href='x'>link</a>`` must show those characters, not bold text and a live link.
"""

from __future__ import annotations

import html
import re
from typing import Iterable

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>$:])")


def plotly_text(s: object) -> str:
    """``s`` escaped for plotly text (legend names, hover text, annotations): ``<`` -> ``&lt;`` etc.
    Plotly turns the entities back into the characters when it draws them."""
    return html.escape(str(s), quote=True)


def markdown_text(s: object) -> str:
    """``s`` escaped for Streamlit Markdown: HTML special characters as entities and Markdown
    punctuation backslash-escaped, so it reads exactly as typed."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(s), quote=False))


CHAR_PX = 8
"""A generous average width of one character in a table cell: lowercase letters and digits are
about 6-7.5 px in the grid's 14 px sans-serif font (a name in capitals alone may need more)."""
CELL_PADDING_PX = 24
"""A cell's left and right padding plus room for the column's sort arrow."""
MAX_COLUMN_PX = 1000
"""Streamlit's widest column (62.5 rem); a longer text is cut there."""


def column_width(texts: Iterable[object], *, min_px: int = 50) -> int:
    """Pixels a table column needs to show each of ``texts`` (include the header) in full, for
    ``st.column_config`` ``width``: left to size itself, the runs table cut run names and the ETA
    (issue 19). At least ``min_px``, at most :data:`MAX_COLUMN_PX`."""
    longest = max((len(str(t)) for t in texts), default=0)
    return max(min_px, min(MAX_COLUMN_PX, CHAR_PX * longest + CELL_PADDING_PX))


ROW_PX = 35
"""Height of one row (and of the header) of ``st.dataframe`` at the default font."""
MAX_TABLE_ROWS = 40
"""Most rows a table shows without scrolling: k = 6's 30 paths fit; longer tables scroll."""


def table_height(n_rows: int, *, max_rows: int = MAX_TABLE_ROWS) -> int:
    """Pixels ``st.dataframe`` needs to show ``n_rows`` rows and its header without scrolling (at
    most ``max_rows`` rows): its default height shows about 10, which cut k = 6's 30 paths to a
    third."""
    return ROW_PX * (min(max(n_rows, 1), max_rows) + 1) + 3
