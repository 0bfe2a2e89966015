"""The current mask (shared by the pages, mirrored in the URL) and the source x target toggle grid.

One source of truth: ``st.session_state[MASK]`` (a bit string), mirrored to ``?mask=`` in the URL so
a view can be shared. Toggles and quick-mask buttons change it through callbacks (which run before
the page), and the page then sets every toggle from it, so they never disagree.
"""

from __future__ import annotations

import streamlit as st

from mro_core.paths import Mask, PathSpace

from app.services import state as S
from app.services.checkpoints import BEST_IS_PAPER, CheckpointView
from app.services.masks import bits_from_toggles, resolve_mask

ALL_ZERO_MESSAGE = "At least one path must stay on: the all-zero mask is not a subnet."
FULL_WIDTH_K = 5
"""From this many modalities on, the grid takes the page's full width: in the 3/5 it has beside the
routing diagram, six target columns left a toggle too narrow for its label ("T->A" was cut to "T")."""


def grid_full_width(space: PathSpace) -> bool:
    """Whether the toggle grid of ``space`` needs the page's full width (k >= :data:`FULL_WIDTH_K`)."""
    return space.k >= FULL_WIDTH_K


def set_mask(bits: str) -> None:
    """Make ``bits`` the current mask (session and URL). Safe in callbacks and in the page body."""
    st.session_state[S.MASK] = bits
    if st.query_params.get(S.MASK_PARAM) != bits:
        st.query_params[S.MASK_PARAM] = bits


def current_mask(view: CheckpointView) -> Mask:
    """Resolve the current mask for ``view`` (URL, then session, then the full mask) and store it.

    The one place a page parses a mask; below here it travels as a :data:`~mro_core.paths.Mask`.
    """
    mask, warning = resolve_mask(view.parse, url_value=st.query_params.get(S.MASK_PARAM),
                                 session_value=st.session_state.get(S.MASK), default=view.full_mask)
    if warning:
        st.warning(warning)
    set_mask(PathSpace.to_bits(mask))
    return mask


def _on_toggle(names: tuple[str, ...], index: int) -> None:
    bits = bits_from_toggles([bool(st.session_state.get(S.toggle_key(n))) for n in names])
    if "1" not in bits:
        st.session_state[S.toggle_key(names[index])] = True  # undo the click
        st.session_state[S.FLASH] = ALL_ZERO_MESSAGE
        return
    set_mask(bits)


def mask_grid(view: CheckpointView, mask: Mask) -> None:
    """One toggle per path in a source (rows) x target (columns) grid; the diagonal stays empty."""
    space = view.space
    names = space.path_names
    for name, b in zip(names, mask):
        st.session_state[S.toggle_key(name)] = b == 1
    index = {(p.src, p.tgt): i for i, p in enumerate(space.paths)}
    widths = [0.7] + [1.0] * space.k
    head = st.columns(widths, vertical_alignment="center")
    head[0].caption("source \u2193 / target \u2192")
    for j, m in enumerate(space.modalities):
        head[j + 1].markdown(f"**{m}**")
    for i, src in enumerate(space.modalities):
        cols = st.columns(widths, vertical_alignment="center")
        cols[0].markdown(f"**{src}**")
        for j in range(space.k):
            if i == j:
                cols[j + 1].markdown("\u2014")
                continue
            p = index[(i, j)]
            cols[j + 1].toggle(names[p], key=S.toggle_key(names[p]), on_change=_on_toggle, args=(names, p),
                               help=f"{names[p]}: {space.modalities[j]} attends to {src} "
                                    f"(query {space.modalities[j]}, keys/values {src})")


def _on_quick(bits: str) -> None:
    set_mask(bits)


def quick_masks(view: CheckpointView, mask: Mask) -> None:
    """Buttons that set the full mask, the best mask of the table, and the paper's 011011 (k = 3)."""
    quick = view.quick_masks()
    keys = {"Full": S.QUICK_FULL, "Best found": S.QUICK_BEST, BEST_IS_PAPER: S.QUICK_BEST, "Paper 011011": S.QUICK_PAPER}
    bits = PathSpace.to_bits(mask)
    cols = st.columns(len(quick))
    for col, (label, target) in zip(cols, quick.items()):
        col.button(f"{label} ({target})", key=keys.get(label, f"quick_{label}"), on_click=_on_quick, args=(target,),
                   disabled=target == bits, width="stretch")
