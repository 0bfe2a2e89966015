"""The chosen checkpoint mirrored in the URL (``?ckpt=demo`` or ``?ckpt=<run id>``), beside the mask.

A shared link then opens the checkpoint it was made on; a link naming a checkpoint this workspace
does not have says so instead of silently falling back to the demo.
"""

from __future__ import annotations

from typing import Sequence

import streamlit as st

from app.services import state as S
from app.services.checkpoints import CheckpointOption, option_for_token, option_token


def apply_url_checkpoint(options: Sequence[CheckpointOption]) -> str | None:
    """Make a new ``?ckpt=`` value (a link just opened) the chosen checkpoint.

    Returns a warning when the URL names a checkpoint that is not in the picker, else None. A value
    this session wrote itself is ignored, so the picker (and its callback) stay in charge.
    """
    token = st.query_params.get(S.CHECKPOINT_PARAM)
    if not token or token == st.session_state.get(S.CHECKPOINT_URL_SEEN):
        return None
    st.session_state[S.CHECKPOINT_URL_SEEN] = token
    opt = option_for_token(options, token)
    if opt is None:
        return (f"The link names checkpoint {token!r}, which this workspace does not have (a run deleted, "
                f"or another workspace); showing {options[0].label} instead.")
    st.session_state[S.CHECKPOINT_CHOICE] = opt.path
    return None


def write_url_checkpoint(options: Sequence[CheckpointOption], path: str) -> None:
    """Put the checkpoint at ``path`` in the URL (and remember it as this session's own value)."""
    opt = next((o for o in options if o.path == path), None)
    if opt is None:
        return
    token = option_token(opt)
    st.session_state[S.CHECKPOINT_URL_SEEN] = token
    if st.query_params.get(S.CHECKPOINT_PARAM) != token:
        st.query_params[S.CHECKPOINT_PARAM] = token
