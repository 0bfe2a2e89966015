"""Entry point: ``streamlit run app/main.py``. Navigation only; the pages live in ``views/``.

The pages folder is deliberately not called ``pages/``: Streamlit would serve that folder in its
legacy multipage mode on the first run of a fresh server. With ``views/``, every script run starts
here and ``st.navigation`` dispatches to the page (DESIGN.md section 11).
"""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:  # `app.*` and `mro_core` import from the repository root
    sys.path.insert(0, ROOT)

import streamlit as st  # noqa: E402

# The favicon ships with the app (a lab without internet still gets it).
st.set_page_config(page_title="MRO routing explorer",
                   page_icon=str(Path(__file__).resolve().parent / "assets" / "favicon.png"), layout="wide")
st.navigation([
    st.Page("views/explore.py", title="Explore", icon=":material/toggle_on:", default=True),
    st.Page("views/graph.py", title="Graph", icon=":material/share:"),
    st.Page("views/search.py", title="Search", icon=":material/travel_explore:"),
    st.Page("views/pareto.py", title="Pareto", icon=":material/scatter_plot:"),
    st.Page("views/compare.py", title="Compare", icon=":material/table_chart:"),
    st.Page("views/learn.py", title="Learn", icon=":material/school:"),
]).run()
