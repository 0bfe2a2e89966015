"""What MRO makes of the chosen data file, shown on the Search page before a search starts:
layout, splits, per-modality padding and NaN/inf, labels, and the inspection's warnings; or the one
reason the file cannot be read (the form then keeps Start disabled)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.resources import inspect_data
from app.services import state as S
from app.services.data_check import check_data_file
from app.services.data_root import DataPathError, resolve_data_file
from app.services.inspection_view import label_rows, modality_rows, summary

AUTO_MAX_BYTES = 256 * 1024 * 1024
"""Files up to this size are inspected as soon as they are chosen; larger ones on request."""


def data_inspection(dataset: str, root: Path, rel: str | None) -> str | None:
    """Inspect ``rel`` (under the data root) as ``dataset`` and show the result, or the one reason
    it cannot be read.

    Returns:
        That reason (None when the file was read, or is large and not inspected yet).
    """
    if not rel:
        return None
    with st.expander(f"What MRO reads in `{rel}`", expanded=True, icon=":material/dataset:"):
        try:
            path = resolve_data_file(root, rel)
            stat = path.stat()
        except (DataPathError, OSError) as e:
            st.error(str(e))
            return str(e)
        why = check_data_file(dataset, path)  # no numpy message about pickles for a file that is no archive
        if why:
            st.error(why, icon=":material/error:")
            return why
        asked = st.session_state.setdefault(S.SEARCH_INSPECT, [])  # large files the user asked to read
        if stat.st_size > AUTO_MAX_BYTES and rel not in asked:
            if not st.button("Inspect this file", key=f"inspect_{rel}", help="large file: reading it takes a while"):
                st.caption(f"{stat.st_size / 2**20:.0f} MB: inspected on request (`mro data inspect` does the same).")
                return None
            asked.append(rel)
        try:
            d = inspect_data(dataset, str(path), stat.st_mtime)
        except (ValueError, OSError) as e:  # DataError is a ValueError
            why = f"MRO cannot read this file as {dataset}: {str(e).splitlines()[0] if str(e) else e}"
            st.error(why)
            return why
        st.markdown(summary(d))
        for w in d.get("warnings") or []:
            st.warning(w)
        st.dataframe(modality_rows(d), hide_index=True)
        labels = label_rows(d)
        if labels:
            st.caption("Labels per split")
            st.dataframe(labels, hide_index=True)
        st.caption("The same report as `mro data inspect PATH`; a search reads the file the same way.")
    return None
