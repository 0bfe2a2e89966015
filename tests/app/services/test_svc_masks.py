"""app.services.masks: which mask a page shows (URL, session, default) and toggling bits."""

from __future__ import annotations

from mro_core.paths import PathSpace

from app.services.masks import bits_from_toggles, flip, resolve_mask

SPACE = PathSpace(("T", "A", "V"))


def test_resolve_mask_precedence():
    parse = lambda s: PathSpace.to_bits(SPACE.parse(s))  # noqa: E731
    assert resolve_mask(parse, url_value="T->V,A->T", session_value="111111", default="111111") == ("011000", None)
    bits, warn = resolve_mask(parse, url_value="0101", session_value="000011", default="111111")
    assert bits == "000011" and "does not fit" in warn
    assert resolve_mask(parse, url_value=None, session_value="000000", default="111111")[0] == "111111"
    assert bits_from_toggles([True, False, True]) == "101" and flip("101", 1) == "111"
