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

from app.components.form_fields import FieldErrors, number_field, refuse, text_field
from app.resources import job_manager, workspace_store
from app.services import settings
from app.services import state as S
from app.services.form_check import check_modalities, check_planted, check_warmup, parse_budget
from app.services.data_root import DataPathError, list_data_files, resolve_data_file
from app.services.tables import RANK_LOSS_LABELS

_SYN = SyntheticConfig()


def _synthetic_knobs(errors: FieldErrors) -> dict:
    c1, c2, c3 = st.columns(3)
    mods = text_field(c1, errors, "Modalities", S.SYN_MODALITIES, ",".join(_SYN.modalities), check_modalities,
                      help="comma-separated names, k >= 2 (any k)")
    planted = text_field(c2, errors, "Planted paths", S.SYN_PLANTED, ",".join(_SYN.planted),
                         lambda t: check_planted(t, mods), help="paths the label depends on, e.g. T->V,A->T")
    seed = number_field(c3, errors, "Data seed", S.SYN_DATA_SEED, _SYN.seed, 0, 2**31 - 1)
    c1, c2, c3, c4, c5 = st.columns(5)
    n_train = number_field(c1, errors, "Train samples", S.SYN_N_TRAIN, _SYN.n_train, 16, 1_000_000)
    n_valid = number_field(c2, errors, "Valid samples", S.SYN_N_VALID, _SYN.n_valid, 16, 1_000_000)
    noise = number_field(c3, errors, "Label noise", S.SYN_NOISE, float(_SYN.noise), 0.0, 3.0)
    keys = number_field(c4, errors, "Keys K", S.SYN_NUM_KEYS, _SYN.num_keys, 2, 64)
    seq = number_field(c5, errors, "Seq. length", S.SYN_SEQ_LEN, _SYN.seq_len, 2, 512)
    if errors.messages:
        return {}
    return {"modalities": ",".join(mods), "planted": ",".join(planted), "data_seed": int(seed),
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
    errors = FieldErrors()
    with st.form(S.SEARCH_FORM):
        synthetic, rel = {}, None
        if dataset == "synthetic":
            synthetic = _synthetic_knobs(errors)
        else:
            rel = st.selectbox(f"Data file (under `{root}`)", files, key=S.SEARCH_DATA_FILE,
                               help="only files under the data root are offered")
        c1, c2, c3, c4 = st.columns(4)
        names = sorted(PRESETS)
        preset = c1.selectbox("Preset", names, index=names.index("demo"), key=S.SEARCH_PRESET)
        epochs = number_field(c2, errors, "Epochs", S.SEARCH_EPOCHS, 10, 1, 1000)
        warmup = number_field(c3, errors, "Warm-up epochs", S.SEARCH_WARMUP, 2, 0, 1000,
                              help="epochs of uniform mask sampling before the prior takes over")
        errors.show(c3, check_warmup(warmup, epochs))
        mps = number_field(c4, errors, "Masks per step", S.SEARCH_MASKS_PER_STEP,
                           PRESETS["demo"].train.masks_per_step, 1, 64)
        c1, c2, c3, c4 = st.columns(4)
        rank_loss = c1.selectbox("Rank loss", RANK_LOSSES, index=1, key=S.SEARCH_RANK_LOSS,
                                 format_func=lambda v: RANK_LOSS_LABELS[v])
        ablation = c2.selectbox("Ablation", ABLATIONS, key=S.SEARCH_ABLATION)
        budget = text_field(c3, errors, "FLOPs budget (MFLOPs)", S.SEARCH_BUDGET, "", parse_budget,
                            help="leave empty for no budget")
        seed = number_field(c4, errors, "Seed", S.SEARCH_SEED, 0, 0, 2**31 - 1)
        name = st.text_input("Run name", value=f"search-{time.strftime('%Y%m%d-%H%M%S')}", key=S.SEARCH_NAME)
        submitted = st.form_submit_button("Start search", type="primary", key=S.SEARCH_SUBMIT)
    if not submitted:
        return
    if errors.messages:
        refuse(errors)
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
