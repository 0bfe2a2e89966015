"""Text shown in the dashboard: user-given names are escaped for Plotly and Markdown."""

from __future__ import annotations

from app.services.text import markdown_text, plotly_text


def test_text_escaping():
    name = "<b>BOLD</b> <a href='x'>link</a>"
    assert plotly_text(name) == "&lt;b&gt;BOLD&lt;/b&gt; &lt;a href=&#x27;x&#x27;&gt;link&lt;/a&gt;"
    assert "<" not in markdown_text(name) and "\\*\\*x\\*\\*" in markdown_text("**x**")
