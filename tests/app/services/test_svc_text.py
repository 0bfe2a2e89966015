"""Text shown in the dashboard: user-given names are escaped for Plotly and Markdown."""

from __future__ import annotations

from app.services.text import markdown_text, plotly_text


def test_text_escaping():
    name = "<b>BOLD</b> <a href='x'>link</a>"
    assert plotly_text(name) == "&lt;b&gt;BOLD&lt;/b&gt; &lt;a href=&#x27;x&#x27;&gt;link&lt;/a&gt;"
    assert "<" not in markdown_text(name) and "\\*\\*x\\*\\*" in markdown_text("**x**")


def test_column_width_fits_the_longest_text():
    from app.services.text import CELL_PADDING_PX, CHAR_PX, MAX_COLUMN_PX, column_width

    assert column_width(["ETA", "after epoch 1"]) == CHAR_PX * len("after epoch 1") + CELL_PADDING_PX
    assert column_width([""]) == 50 and column_width([], min_px=80) == 80
    assert column_width(["x" * 10_000]) == MAX_COLUMN_PX  # Streamlit's widest column


def test_table_height_shows_every_row_up_to_the_cap():
    from app.services.text import MAX_TABLE_ROWS, ROW_PX, table_height

    assert table_height(30) == ROW_PX * 31 + 3  # k = 6's 30 paths and the header
    assert table_height(0) == table_height(1) == ROW_PX * 2 + 3
    assert table_height(10 * MAX_TABLE_ROWS) == table_height(MAX_TABLE_ROWS)  # longer tables scroll
