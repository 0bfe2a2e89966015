"""Learn: a guided tour of the accuracy / cost trade-off on the shipped demo checkpoint.

A few steps, each with one control and one visible effect, all answered from the demo's cached
per-mask table. Where the stand-alone ground truth of the default benchmark is in ``results/``, a
last step sets the supernet's estimates beside masks trained on their own.
"""

from dataclasses import replace

import streamlit as st

from app.components.large_type import large_type_switch
from app.components.tour_steps import (
    step_cheapest,
    step_ground_truth,
    step_into_target,
    step_path,
    step_pareto,
    step_predict,
    step_prior,
)
from app.resources import load_view
from app.services import settings
from app.services import state as S
from app.services.tour import (
    DEFAULT_TOLERANCE,
    GLOSSARY,
    GROUND_TRUTH_NAME,
    GROUND_TRUTH_STEP,
    STEPS,
    cheapest_title,
    read_ground_truth,
)

st.title("Learn: accuracy against cost, in a few steps")
large_type_switch()
try:
    demo = settings.DEMO_CHECKPOINT
    view = load_view(str(demo.resolve()), demo.stat().st_mtime)
except (OSError, ValueError) as e:
    st.error(f"The tour runs on the shipped demo checkpoint, which cannot be loaded: {e}. "
             "Rebuild it with `make demo-checkpoint`.")
    st.stop()

gt, gt_missing = read_ground_truth(settings.REPO_ROOT / "results" / GROUND_TRUTH_NAME)
steps = list(zip(STEPS, (step_path, step_into_target, step_cheapest, step_pareto, step_predict, step_prior)))
# step 3's title says what its answer is: "beats" or "nearly as good", for the tolerance now chosen
tol = float(st.session_state.get(S.LEARN_TOLERANCE, DEFAULT_TOLERANCE))
steps[2] = (replace(steps[2][0], title=cheapest_title(view.table, view.full_bits, tol)), steps[2][1])
if gt is not None:
    steps.append((GROUND_TRUTH_STEP, lambda v: step_ground_truth(v, gt)))
n = len(steps)


def _go(delta: int) -> None:
    st.session_state[S.LEARN_STEP] = max(0, min(n, st.session_state.get(S.LEARN_STEP, 0) + delta))


def _restart() -> None:
    st.session_state[S.LEARN_STEP] = 0


i = min(int(st.session_state.get(S.LEARN_STEP, 0)), n)
st.caption(f"On the shipped demo checkpoint ({view.describe()}). "
           "Every number comes from its per-mask table: nothing is retrained.")
if i >= n:
    st.progress(1.0, text="Tour complete")
    st.success("Tour complete. You have seen what a path is, what removing paths costs, how to find a cheap "
               "mask within a tolerance of the full one, how to read a Pareto front and what the prior learned.")
    if gt is None:
        st.caption(f"One more step compares the supernet with masks trained alone when "
                   f"results/{GROUND_TRUTH_NAME} exists ({gt_missing}).")
    st.markdown("Next: try any mask on **Explore**, browse runs on **Pareto**, or start your own search on "
                "**Search**.")
    st.button("Start the tour again", key=S.LEARN_RESTART, on_click=_restart)
else:
    step, show = steps[i]
    st.progress((i + 1) / n, text=f"Step {i + 1} of {n}: {step.title}")
    st.subheader(f"{i + 1}. {step.title}")
    st.markdown(step.text)
    if step.terms:
        st.caption("  \n".join(f"**{t}**: {GLOSSARY[t]}" for t in step.terms))
    show(view)
    c1, c2, _ = st.columns([1, 1, 4])
    c1.button("Back", key=S.LEARN_BACK, on_click=_go, args=(-1,), disabled=i == 0, width="stretch")
    c2.button("Finish" if i == n - 1 else "Next", key=S.LEARN_NEXT, on_click=_go, args=(1,), type="primary",
              width="stretch")
    if i == n - 1 and gt is None:
        st.caption(f"(A step comparing the supernet with masks trained alone appears when "
                   f"results/{GROUND_TRUTH_NAME} exists: {gt_missing}.)")

with st.expander("Words used here"):
    st.markdown("\n".join(f"- **{t}**: {d}" for t, d in GLOSSARY.items()))
