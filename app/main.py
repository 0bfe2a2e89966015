"""Entry point: ``streamlit run app/main.py``. Navigation only; the pages live in ``pages/``."""

import _boot  # first: makes `app.*` importable (see app/_boot.py)
import streamlit as st

# The favicon ships with the app (a lab without internet still gets it).
st.set_page_config(page_title="MRO routing explorer", page_icon=str(_boot.APP_DIR / "assets" / "favicon.png"),
                   layout="wide")
with _boot.navigating():
    st.navigation([
        st.Page("pages/explore.py", title="Explore", icon=":material/toggle_on:", default=True),
        st.Page("pages/graph.py", title="Graph", icon=":material/share:"),
        st.Page("pages/search.py", title="Search", icon=":material/travel_explore:"),
        st.Page("pages/pareto.py", title="Pareto", icon=":material/scatter_plot:"),
        st.Page("pages/compare.py", title="Compare", icon=":material/table_chart:"),
        st.Page("pages/learn.py", title="Learn", icon=":material/school:"),
    ]).run()
