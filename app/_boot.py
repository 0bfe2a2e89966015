"""Bootstrap shared by ``main.py`` and every page; import it first.

1. It puts the repository root on ``sys.path``, so that ``app.*`` and ``mro_core`` import.
   (Streamlit prepends the main script's folder, ``app/``, to ``sys.path`` for every script run,
   which is how this module itself is found, as ``_boot``.)
2. :func:`page` makes sure a page runs inside ``main.py``'s ``st.navigation``. Streamlit 1.67
   serves the first script run of a fresh server in its legacy "pages directory" mode because a
   folder named ``pages/`` sits next to ``main.py`` (the mode ends once ``st.navigation`` has run).
   If that first run is for a page URL (a browser tab on ``/search`` reconnecting after a
   dashboard restart), Streamlit executes the page without ``main.py``: no page config, the
   legacy sidebar. :func:`page` notices and runs ``main.py`` instead, which dispatches to the
   same page through the real navigation.
"""

from __future__ import annotations

import runpy
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

APP_DIR = Path(__file__).resolve().parent
ROOT = str(APP_DIR.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

_local = threading.local()  # Streamlit runs each session's script in its own thread


@contextmanager
def navigating() -> Iterator[None]:
    """Mark the current script run as dispatched by ``main.py``'s navigation."""
    prev = getattr(_local, "active", False)
    _local.active = True
    try:
        yield
    finally:
        _local.active = prev


def page() -> None:
    """Call at the top of every page: outside ``main.py``'s navigation, run ``main.py`` and stop."""
    if getattr(_local, "active", False):
        return
    import streamlit as st

    runpy.run_path(str(APP_DIR / "main.py"), run_name="__main__")
    st.stop()
