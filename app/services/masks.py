"""The current mask: where it comes from (URL, session, default) and how toggles map to it."""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

from mro_core.paths import MaskError

T = TypeVar("T")


def resolve_mask(
    parse: Callable[[str], T],
    *,
    url_value: str | None,
    session_value: str | None,
    default: T,
) -> tuple[T, str | None]:
    """Pick the current mask: a valid URL value first (a shared link), then the session's, then
    ``default``.

    Args:
        parse: turns any accepted spelling into the mask (the dashboard passes
            ``CheckpointView.parse``, which returns a :data:`~mro_core.paths.Mask`), raising
            :class:`~mro_core.paths.MaskError` (a ``ValueError``) when it does not fit the model.

    Returns:
        The parsed mask (or ``default``) and, when the URL or session value had to be dropped, a message saying why.
    """
    warning = None
    for origin, value in (("URL", url_value), ("session", session_value)):
        if not value:
            continue
        try:
            return parse(str(value)), warning
        except (MaskError, ValueError) as e:
            if origin == "URL":
                warning = f"The mask in the URL ({value!r}) does not fit this checkpoint: {e}"
    return default, warning


def bits_from_toggles(values: Sequence[bool]) -> str:
    """Toggle states in path order -> bit string (may be all zero: the caller rejects that)."""
    return "".join("1" if v else "0" for v in values)


def flip(bits: str, index: int) -> str:
    """``bits`` with the bit at ``index`` flipped."""
    b = list(bits)
    b[index] = "0" if b[index] == "1" else "1"
    return "".join(b)


def path_names_text(names: Sequence[str], bits: str) -> str:
    """``"T->V, A->T"``: the names of the paths ``bits`` switches on ('' when it does not fit).

    ``names`` are the path names in mask order (``PathSpace.path_names``). A plain string walk, not
    ``PathSpace.parse``: the Pareto page annotates every drawn row on each rerun, and at k = 6 with
    20,000 rows parsing took about 0.6 s of each redraw; this takes milliseconds. Anything but a
    string of ``len(names)`` ``0``/``1`` characters with at least one ``1`` gives ''.
    """
    if len(bits) != len(names) or "1" not in bits or bits.strip("01"):
        return ""
    return ", ".join(n for n, b in zip(names, bits) if b == "1")
