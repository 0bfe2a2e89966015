"""Non-UI logic of the dashboard: loading, tables, path checks, state keys. No ``import streamlit``."""
