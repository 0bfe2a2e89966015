"""User-supplied text (run names, baseline names, error messages) shown as text, never as markup.

Plotly renders a subset of HTML in legends, hovers and annotations (``<b>``, ``<a href>``, ``<br>``)
and Streamlit renders Markdown in ``st.markdown`` / ``st.caption``: a run named
``<b>BOLD</b> <a href='x'>link</a>`` must show those characters, not bold text and a live link.
"""

from __future__ import annotations

import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>$:])")


def plotly_text(s: object) -> str:
    """``s`` escaped for plotly text (legend names, hover text, annotations): ``<`` -> ``&lt;`` etc.
    Plotly turns the entities back into the characters when it draws them."""
    return html.escape(str(s), quote=True)


def markdown_text(s: object) -> str:
    """``s`` escaped for Streamlit Markdown: HTML special characters as entities and Markdown
    punctuation backslash-escaped, so it reads exactly as typed."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(s), quote=False))
