"""The Search form: dataset (synthetic knobs, or a file under the data root) and search settings.
Submitting goes through the core's front door (:func:`mro_core.runs.api.submit_search`): the request
is checked (configs, data) before anything starts, then one job runs in the background and the run
store takes it from there."""

from __future__ import annotations

import time

import streamlit as st

from mro_core.config import ABLATIONS, PRESETS, RANK_LOSSES, SyntheticConfig
from mro_core.data import DATASETS
from mro_core.runs.api import SearchRefused, submit_search
from mro_core.runs.request import SearchRequest

from app.resources import job_manager, workspace_store
from app.services import settings
from app.services import state as S
from app.services.data_root import DataPathError, list_data_files, resolve_data_file
from app.services.tables import RANK_LOSS_LABELS

_SYN = SyntheticConfig()


def _synthetic_knobs() -> dict:
    c1, c2, c3 = st.columns(3)
    mods = c1.text_input("Modalities", ",".join(_SYN.modalities), key=S.SYN_MODALITIES,
                         help="comma-separated names, k >= 2 (any k)")
    planted = c2.text_input("Planted paths", ",".join(_SYN.planted), key=S.SYN_PLANTED,
                            help="paths the label depends on, e.g. T->V,A->T")
    seed = c3.number_input("Data seed", 0, 2**31 - 1, _SYN.seed, key=S.SYN_DATA_SEED)
    c1, c2, c3, c4, c5 = st.columns(5)
    n_train = c1.number_input("Train samples", 16, 1_000_000, _SYN.n_train, step=500, key=S.SYN_N_TRAIN)
    n_valid = c2.number_input("Valid samples", 16, 1_000_000, _SYN.n_valid, step=100, key=S.SYN_N_VALID)
    noise = c3.number_input("Label noise", 0.0, 3.0, float(_SYN.noise), step=0.05, key=S.SYN_NOISE)
    keys = c4.number_input("Keys K", 2, 64, _SYN.num_keys, key=S.SYN_NUM_KEYS)
    seq = c5.number_input("Seq. length", 2, 512, _SYN.seq_len, key=S.SYN_SEQ_LEN)
    return {"modalities": mods.replace(" ", ""), "planted": planted.replace(" ", ""), "data_seed": int(seed),
            "n_train": int(n_train), "n_valid": int(n_valid), "n_test": int(n_valid), "noise": float(noise),
            "num_keys": int(keys), "seq_len": int(seq), "min_len": min(int(keys), int(seq))}


def search_form() -> None:
    """Render the form; on submit, validate and start the search."""
    root = settings.data_root()
    dataset = st.selectbox("Dataset", DATASETS, key=S.SEARCH_DATASET,
                           help="synthetic: the planted-routing benchmark; the others read a file under the data root")
    files: list[str] = []
    if dataset != "synthetic":
        files = list_data_files(root)
        if not files:
            st.warning(f"No .npz/.pkl files under the data root `{root}`. Put the data there, or point "
                       "the MRO_DATA_ROOT environment variable at the folder that holds it.")
    with st.form(S.SEARCH_FORM):
        synthetic, rel = {}, None
        if dataset == "synthetic":
            synthetic = _synthetic_knobs()
        else:
            rel = st.selectbox(f"Data file (under `{root}`)", files, key=S.SEARCH_DATA_FILE,
                               help="only files under the data root are offered")
        c1, c2, c3, c4 = st.columns(4)
        names = sorted(PRESETS)
        preset = c1.selectbox("Preset", names, index=names.index("demo"), key=S.SEARCH_PRESET)
        epochs = c2.number_input("Epochs", 1, 1000, 10, key=S.SEARCH_EPOCHS)
        warmup = c3.number_input("Warm-up epochs", 0, 1000, 2, key=S.SEARCH_WARMUP,
                                 help="epochs of uniform mask sampling before the prior takes over")
        mps = c4.number_input("Masks per step", 1, 64, PRESETS["demo"].train.masks_per_step, key=S.SEARCH_MASKS_PER_STEP)
        c1, c2, c3, c4 = st.columns(4)
        rank_loss = c1.selectbox("Rank loss", RANK_LOSSES, index=1, key=S.SEARCH_RANK_LOSS,
                                 format_func=lambda v: RANK_LOSS_LABELS[v])
        ablation = c2.selectbox("Ablation", ABLATIONS, key=S.SEARCH_ABLATION)
        budget = c3.number_input("FLOPs budget (MFLOPs, 0 = none)", 0.0, 1e6, 0.0, key=S.SEARCH_BUDGET)
        seed = c4.number_input("Seed", 0, 2**31 - 1, 0, key=S.SEARCH_SEED)
        name = st.text_input("Run name", value=f"search-{time.strftime('%Y%m%d-%H%M%S')}", key=S.SEARCH_NAME)
        submitted = st.form_submit_button("Start search", type="primary", key=S.SEARCH_SUBMIT)
    if not submitted:
        return
    try:
        data_path = str(resolve_data_file(root, rel or "")) if dataset != "synthetic" else None
    except DataPathError as e:
        st.error(str(e))
        return
    req = SearchRequest(
        dataset=dataset, data_path=data_path, preset=preset, epochs=int(epochs), warmup=int(warmup),
        masks_per_step=int(mps), rank_loss=rank_loss, ablation=ablation, seed=int(seed),
        name=name.strip() or f"search-{int(time.time())}",
        budget_mflops=float(budget) if budget and budget > 0 else None, **synthetic,
    )
    with st.spinner("Checking the data and starting the search..."):
        try:
            run_id = submit_search(workspace_store(), req, manager=job_manager())
        except (SearchRefused, OSError) as e:
            st.session_state[S.LAST_LAUNCH] = {"error": str(e)}
            st.error(f"The search did not start: {e}")
            return
    st.session_state[S.LAST_LAUNCH] = {"run_id": run_id}
    st.session_state[S.RUNS_SELECTED] = run_id
    st.success(f"Search started: run `{run_id}`. It runs in the background and survives a page reload.")
