"""Learn: a guided tour of the accuracy / cost trade-off on the shipped demo checkpoint."""

import _boot  # first: makes `app.*` importable (see app/_boot.py)
import streamlit as st

_boot.page()  # inside main.py's navigation (see app/_boot.py)

st.title("Learn")
