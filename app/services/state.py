"""Every ``st.session_state`` / ``st.query_params`` key of the dashboard, in one place.

Session state holds UI selections only (STYLE 17): the chosen checkpoint, the current mask,
widget values. Jobs, runs and results live in the run store, never here.
"""

from __future__ import annotations

# ------------------------------------------------------------------------------- shared state
CHECKPOINT = "checkpoint"
"""Sidebar selectbox widget key: path (str) of the selected checkpoint."""

CHECKPOINT_CHOICE = "checkpoint_choice"
"""The chosen checkpoint path, kept outside the widget so it survives page switches (Streamlit drops
a widget's state when a page without it runs); the picker is set from it on every run."""

MASK = "mask"
"""The current mask as a bit string (canonical form), shared by Explore, Graph and Pareto."""

MASK_PARAM = "mask"
"""URL query parameter that carries the current mask (``?mask=011011``), so a view is shareable."""

CHECKPOINT_PARAM = "ckpt"
"""URL query parameter that names the checkpoint beside the mask: ``demo`` or a run id
(``?ckpt=ab12cd&mask=011011``), so a shared link opens the same checkpoint, not silently the demo."""

CHECKPOINT_URL_SEEN = "checkpoint_url_seen"
"""The ``?ckpt=`` value last applied or written by this session: a different value in the URL is a
new link (applied); the same one is our own echo (the picker wins)."""

CHART_FORMAT = "chart_format"
"""What every chart's camera button saves (``svg`` / ``png``), kept outside the sidebar's widget so
it holds on pages without the sidebar (Learn)."""
CHART_FORMAT_PICK = "chart_format_pick"
"""The sidebar's format widget key."""

FLASH = "flash_message"
"""A one-shot message set by a callback and shown (then cleared) by the next page run."""

# ------------------------------------------------------------------------------------ explore
TOGGLE_PREFIX = "path_"
"""Prefix of the per-path toggle keys: ``path_T->A``."""


def toggle_key(path_name: str) -> str:
    """Session-state key of the toggle of ``path_name`` (e.g. ``"path_T->A"``)."""
    return f"{TOGGLE_PREFIX}{path_name}"


QUICK_FULL = "quick_full"
QUICK_BEST = "quick_best"
QUICK_PAPER = "quick_paper"

# -------------------------------------------------------------------------------------- graph
GRAPH_EPOCH = "graph_epoch"
GRAPH_PLAYING = "graph_playing"
"""True while the epoch replay plays (the replay fragment then reruns every PLAY_SECONDS)."""
GRAPH_PLAY = "graph_play"
GRAPH_PLAY_FRESH = "graph_play_fresh"
"""Set by Play: the next replay run shows the start epoch instead of stepping past it."""

# ------------------------------------------------------------------------------------- search
SEARCH_FORM = "search_form"
SEARCH_DATASET = "search_dataset"
SEARCH_DATA_FILE = "search_data_file"
SEARCH_PRESET = "search_preset"
SEARCH_EPOCHS = "search_epochs"
SEARCH_WARMUP = "search_warmup"
SEARCH_MASKS_PER_STEP = "search_masks_per_step"
SEARCH_RANK_LOSS = "search_rank_loss"
SEARCH_ABLATION = "search_ablation"
SEARCH_BUDGET = "search_budget"
SEARCH_SEED = "search_seed"
SEARCH_NAME = "search_name"
SEARCH_SUBMIT = "search_submit"
SYN_MODALITIES = "syn_modalities"
SYN_PLANTED = "syn_planted"
SYN_N_TRAIN = "syn_n_train"
SYN_N_VALID = "syn_n_valid"
SYN_NOISE = "syn_noise"
SYN_NUM_KEYS = "syn_num_keys"
SYN_SEQ_LEN = "syn_seq_len"
SYN_DATA_SEED = "syn_data_seed"
RUNS_SELECTED = "runs_selected"
"""The chosen run of the runs panel (not a widget key: the picker's key follows its labels)."""
RUNS_PICKER = "runs_picker_"
RUNS_PAUSE = "runs_pause"
RUNS_CANCEL = "runs_cancel"
RUNS_RESUME = "runs_resume"
RUNS_TABLE = "runs_table"
RUNS_SETTLE = "runs_settle"
"""A :class:`~app.services.job_states.Settle` after start / cancel / resume: keep refreshing until
the run leaves the status it had."""
RUNS_CANCELS = "runs_cancels"
"""``run_id -> Future`` of the cancels this session sent in the background (reported when done)."""
RUNS_RERUN = "runs_rerun"
"""Set by a runs-panel button: the next fragment run reruns the whole page (so polling restarts)."""
SEARCH_BENCHMARK = "search_benchmark"
SEARCH_NAME_RESET = "search_name_reset"
SEARCH_INSPECT = "search_inspect"
LAST_LAUNCH = "last_launch"
"""The run id (or error) of the last search started from this browser session."""

# ------------------------------------------------------------------------------------- pareto
PARETO_RUNS = "pareto_runs"
PARETO_RUNS_KEPT = "pareto_runs_kept"
"""The runs chosen last, kept across pages (a widget's own state is dropped on a page switch)."""
PARETO_RUNS_PARAM = "runs"
"""URL parameter of the Pareto page: comma-separated run ids to show (a results card's link)."""
PARETO_URL_SEEN = "pareto_url_seen"
PARETO_INCLUDE_CHECKPOINT = "pareto_include_checkpoint"
PARETO_METRIC = "pareto_metric"
PARETO_BUDGET = "pareto_budget"
PARETO_PAUSE = "pareto_pause"
PARETO_CHART = "pareto_chart"
PARETO_CSV = "pareto_csv"
PARETO_OPEN = "pareto_open"
"""Set by a selection callback: ``{"mask": bits, "ckpt": token or None}`` to open in Explore."""
PARETO_TIES = "pareto_ties"
"""Set by the chart's selection callback when the click hit several subnets drawn at one spot:
``[[mask, source id], ...]``; the page asks which one to open."""
PARETO_TABLE = "pareto_table"
PARETO_ZOOM_X = "pareto_zoom_x"
PARETO_ZOOM_Y = "pareto_zoom_y"
PARETO_ZOOM_AUTO = "pareto_zoom_auto_"
"""Prefix: ``pareto_zoom_auto_x`` / ``_y`` are True while that zoom slider spans all the data (it
then follows new points instead of pinning the old bounds)."""
PARETO_TIE_PREFIX = "pareto_tie_"
PARETO_TOP_K = "pareto_top_k"
"""Top-k number input: show only the k best masks of each source by the metric (0: all)."""
PARETO_SHOW_DOMINATED = "pareto_show_dominated"
"""Toggle: draw and list the dominated masks too (off: only the non-dominated front)."""
PARETO_FILTER_METRIC = "pareto_filter_metric"
PARETO_FILTER_MFLOPS = "pareto_filter_mflops"
"""Range sliders of the mask filters (metric as shown: percent for accuracies; MFLOPs)."""
PARETO_FILTER_AUTO = "pareto_filter_auto_"
"""Prefix: True while that filter slider spans all the data (it then widens with new points)."""
PARETO_PATHS_ON = "pareto_paths_on"
PARETO_PATHS_OFF = "pareto_paths_off"
"""Multiselects of path names that a shown mask must have on / off (a path in neither: either)."""
PARETO_PARCOORDS = "pareto_parcoords"
PARETO_PARCOORDS_ON = "pareto_parcoords_on"
PARETO_MEMO = "pareto_memo"
"""The Pareto page's rows and fronts of sources that have not changed (``app.components.pareto_sources``)."""
"""Toggle: draw the parallel coordinates (off by default: software WebGL makes every rerun seconds slower)."""
PARETO_EPOCH_RUN = "pareto_epoch_run"
"""Selectbox of the "Front per epoch" section: the run (one of those chosen above) it replays."""
PARETO_EPOCH = "pareto_epoch"
"""Its epoch slider (an epoch with a snapshot)."""
PARETO_EPOCH_FOLLOW = "pareto_epoch_follow"
"""True while the epoch slider is at the last epoch: it then moves on as a running search adds epochs."""
PARETO_EPOCH_CHART = "pareto_epoch_chart"
PARETO_HV_CHART = "pareto_hv_chart"

# ------------------------------------------------------------------------------------ compare
COMPARE_RUNS = "compare_runs"
COMPARE_PICK = "compare_pick"
COMPARE_TABLE5 = "compare_table5"
COMPARE_TABLE4 = "compare_table4"
COMPARE_RHO_CHART = "compare_rho"
COMPARE_LOSS_CHART = "compare_loss"
COMPARE_REF_METRIC = "compare_ref_metric"
COMPARE_REF_CHART = "compare_ref_chart"
COMPARE_DIFF_A = "compare_diff_a"
COMPARE_DIFF_B = "compare_diff_b"
"""The two runs (ids) whose resolved configs the config diff compares."""
COMPARE_DIFF_TABLE = "compare_diff_table"

# -------------------------------------------------------------------------------------- learn
LEARN_STEP = "learn_step"
"""Index of the tour step shown (len(steps) = the tour is complete)."""
LEARN_LARGE = "learn_large_type"
"""The Learn page's large-type switch (widget key)."""
LARGE_TYPE_ON = "large_type_on"
"""Large type for a projector, kept outside the widget so every page honours it."""
LEARN_NEXT = "learn_next"
LEARN_BACK = "learn_back"
LEARN_RESTART = "learn_restart"
LEARN_PATH = "learn_path"
LEARN_INTO_T = "learn_into_t"
LEARN_TOLERANCE = "learn_tolerance"
LEARN_BUDGET = "learn_budget"
LEARN_EPOCH = "learn_epoch"
LEARN_GT_MASK = "learn_gt_mask"
LEARN_GUESS = "learn_guess"
LEARN_REVEAL = "learn_reveal"
LEARN_REVEALED = "learn_revealed"
