"""The MRO dashboard (Streamlit). ``streamlit run app/main.py``; pages live in ``app/views``."""
