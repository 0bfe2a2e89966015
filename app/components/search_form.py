"""The Search form: dataset (synthetic knobs, or a file under the data root) and search settings.
Submitting goes through the core's front door (:func:`mro_core.runs.api.submit_search`): the request
is checked (configs, data) before anything starts, then one job runs in the background and the run
store takes it from there."""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from mro_core.config import ABLATIONS, BENCHMARKS, PRESETS, RANK_LOSSES, SyntheticConfig
from mro_core.data import DATASETS
from mro_core.runs.api import SearchRefused, refusal, submit_search
from mro_core.runs.request import RequestError, SearchRequest

from app.components.data_inspection import data_inspection
from app.components.form_fields import FieldErrors, number_field, refuse, text_field
from app.components.runs_panel import note_started
from app.resources import job_manager, workspace_store
from app.services import settings
from app.services import state as S
from app.services.form_check import check_modalities, check_planted, check_warmup, parse_budget
from app.services.data_check import check_data_file, file_kinds
from app.services.data_root import DataPathError, list_data_files, resolve_data_file
from app.services.tables import ABLATION_LABELS, RANK_LOSS_LABELS

SYN_KEYS = (S.SYN_MODALITIES, S.SYN_PLANTED, S.SYN_DATA_SEED, S.SYN_N_TRAIN, S.SYN_N_VALID, S.SYN_NOISE,
            S.SYN_NUM_KEYS, S.SYN_SEQ_LEN)
BENCHMARK_HELP = {
    "default": "the paper's k = 3 case (T, A, V), planted 011011; every mask is evaluated",
    "ring5": "k = 5, a planted ring among 20 equal-cost paths: where guidance matters",
    "ring5w": "the k = 5 ring with planted paths of unequal weight",
}


def default_run_name(method: str | None = None) -> str:
    """A fresh default run name (a new one after each start)."""
    return f"{method or 'search'}-{time.strftime('%Y%m%d-%H%M%S')}"


def _benchmark() -> tuple[str, SyntheticConfig]:
    name = st.session_state.get(S.SEARCH_BENCHMARK, "default")
    return (name, BENCHMARKS[name]) if name in BENCHMARKS else ("default", BENCHMARKS["default"])


def _on_benchmark() -> None:
    """A new benchmark: its own values in the generator fields (they are created afresh)."""
    for k in SYN_KEYS:
        st.session_state.pop(k, None)


def _synthetic_knobs(errors: FieldErrors) -> dict:
    name, syn = _benchmark()
    c1, c2, c3 = st.columns(3)
    mods = text_field(c1, errors, "Modalities", S.SYN_MODALITIES, ",".join(syn.modalities), check_modalities,
                      help="comma-separated names, k >= 2 (any k)")
    planted = text_field(c2, errors, "Planted paths", S.SYN_PLANTED, ",".join(syn.planted),
                         lambda t: check_planted(t, mods), help="paths the label depends on, e.g. T->V,A->T")
    seed = number_field(c3, errors, "Data seed", S.SYN_DATA_SEED, syn.seed, 0, 2**31 - 1)
    c1, c2, c3, c4, c5 = st.columns(5)
    n_train = number_field(c1, errors, "Train samples", S.SYN_N_TRAIN, syn.n_train, 16, 1_000_000)
    n_valid = number_field(c2, errors, "Valid samples", S.SYN_N_VALID, syn.n_valid, 16, 1_000_000)
    noise = number_field(c3, errors, "Label noise", S.SYN_NOISE, float(syn.noise), 0.0, 3.0)
    keys = number_field(c4, errors, "Keys K", S.SYN_NUM_KEYS, syn.num_keys, 2, 64)
    seq = number_field(c5, errors, "Seq. length", S.SYN_SEQ_LEN, syn.seq_len, 2, 512)
    if errors.messages:
        return {}
    out = {"benchmark": name, "data_seed": int(seed), "n_train": int(n_train), "n_valid": int(n_valid),
           "n_test": int(n_valid), "noise": float(noise), "num_keys": int(keys), "seq_len": int(seq),
           "min_len": min(syn.min_len, int(seq))}
    if tuple(mods) != syn.modalities or tuple(planted) != syn.planted:  # else the benchmark's own weights stay
        out.update(modalities=",".join(mods), planted=",".join(planted))
    return out


def _outcome() -> None:
    """The last start of this session, next to the form until the next one: the run, or why not."""
    last = st.session_state.get(S.LAST_LAUNCH) or {}
    if last.get("error"):
        st.error(f"Nothing was started: {last['error']}", icon=":material/block:")
    elif last.get("run_id"):
        st.success(f"Search started: run `{last['run_id']}`. It runs in the background and survives a page "
                   "reload; follow it under Runs below.")


def _forget_outcome() -> None:
    """Another dataset or file: the last start's refusal was about the old one."""
    st.session_state.pop(S.LAST_LAUNCH, None)


def _data_file(dataset: str, root: Path) -> tuple[str | None, str | None]:
    """The file picker of a file-based ``dataset`` (only files of its kind) and the inspection of
    the chosen file: ``(relative path, why it cannot be read)``."""
    kinds = file_kinds(dataset)
    files = list_data_files(root, suffixes=kinds)
    if not files:
        st.warning(f"No {'/'.join(kinds)} files under the data root `{root}`. Put the data there, or point "
                   "the MRO_DATA_ROOT environment variable at the folder that holds it.")
        return None, None
    if st.session_state.get(S.SEARCH_DATA_FILE) not in files:  # a file of another dataset's kind
        st.session_state.pop(S.SEARCH_DATA_FILE, None)
    # outside the form: choosing a file shows what MRO makes of it at once
    rel = st.selectbox(f"Data file (under `{root}`)", files, key=S.SEARCH_DATA_FILE, on_change=_forget_outcome,
                       help=f"the {' / '.join(kinds)} files under the data root ({dataset} reads no other kind)")
    return rel, data_inspection(dataset, root, rel)


def search_form() -> None:
    """Render the form; on submit, validate and start the search."""
    root = settings.data_root()
    dataset = st.selectbox("Dataset", DATASETS, key=S.SEARCH_DATASET, on_change=_forget_outcome,
                           help="synthetic: the planted-routing benchmark; mfeat: built in; the others read a "
                                "file under the data root")
    rel, unreadable = None, None
    if dataset == "synthetic":
        st.selectbox("Benchmark", list(BENCHMARKS), key=S.SEARCH_BENCHMARK, on_change=_on_benchmark,
                     format_func=lambda b: f"{b}: {BENCHMARK_HELP.get(b, '')}".rstrip(": "),
                     help="a named synthetic benchmark; its values fill the generator fields below")
    elif file_kinds(dataset):
        rel, unreadable = _data_file(dataset, root)
    else:
        st.caption(f"`{dataset}` is built into MRO: it reads no data file.")
    if st.session_state.pop(S.SEARCH_NAME_RESET, False) or S.SEARCH_NAME not in st.session_state:
        st.session_state[S.SEARCH_NAME] = default_run_name()
    errors = FieldErrors()
    with st.form(S.SEARCH_FORM):
        synthetic = _synthetic_knobs(errors) if dataset == "synthetic" else {}
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
        ablation = c2.selectbox("Method", ABLATIONS, key=S.SEARCH_ABLATION,
                                format_func=lambda a: ABLATION_LABELS.get(a, a),
                                help="full MRO, one of the paper's ablations, or a baseline search "
                                     "(uniform one-shot, random search)")
        budget = text_field(c3, errors, "FLOPs budget (MFLOPs)", S.SEARCH_BUDGET, "", parse_budget,
                            help="leave empty for no budget")
        seed = number_field(c4, errors, "Seed", S.SEARCH_SEED, 0, 0, 2**31 - 1)
        name = st.text_input("Run name", key=S.SEARCH_NAME, help="a fresh default after each start")
        submitted = st.form_submit_button("Start search", type="primary", key=S.SEARCH_SUBMIT,
                                          disabled=unreadable is not None,
                                          help=f"the data file cannot be read: {unreadable}" if unreadable else None)
    if not submitted:
        _outcome()
        return
    st.session_state.pop(S.LAST_LAUNCH, None)
    if errors.messages:
        refuse(errors)
        return
    try:
        data_path = str(resolve_data_file(root, rel or "")) if file_kinds(dataset) else None
    except DataPathError as e:
        st.session_state[S.LAST_LAUNCH] = {"error": str(e)}
        _outcome()
        return
    why = check_data_file(dataset, data_path) if data_path else None
    if why:  # changed on disk since it was drawn: the same one reason as under the picker
        st.session_state[S.LAST_LAUNCH] = {"error": why}
        _outcome()
        return
    req = SearchRequest(
        dataset=dataset, data_path=data_path, preset=preset, epochs=int(epochs), warmup=int(warmup),
        masks_per_step=int(mps), rank_loss=rank_loss, ablation=ablation, seed=int(seed),
        name=name.strip() or f"search-{int(time.time())}",
        budget_mflops=float(budget) if budget and budget > 0 else None, **synthetic,
    )
    with st.spinner("Checking the settings and the data, then starting the search..."):
        try:
            run_id = submit_search(workspace_store(), req, manager=job_manager())
        except (SearchRefused, RequestError, OSError, ValueError) as e:  # refused: nothing runs
            st.session_state[S.LAST_LAUNCH] = {"error": refusal(e)}
            _outcome()
            return
    # started only now that a run id came back
    st.session_state[S.LAST_LAUNCH] = {"run_id": run_id}
    st.session_state[S.SEARCH_NAME_RESET] = True  # the next start gets a fresh default name
    note_started(run_id)
    st.rerun()  # the name resets and the runs panel starts polling the new run
