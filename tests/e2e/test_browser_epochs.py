"""End to end in Chromium: the Pareto page's "Front per epoch" section (issue 19, item 2) on a
running search: the epoch slider follows new epochs while it is at the last one, moving it redraws
that epoch's front, and a slider moved back stays where it was put while epochs arrive. The server
and browser fixtures are the ones of ``test_browser``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from test_browser import browser, e2e_tmp, page, server, settle, shot  # noqa: E402,F401 - fixtures

from patience import expect  # noqa: E402

pytestmark = pytest.mark.browser


def _epoch(store, rid: str, epoch: int) -> None:
    """One epoch as ``run_search`` writes it: its masks, then the epoch event, then a heartbeat."""
    store.put_masks(rid, [{"mask": "000011", "mflops": 1.0, "mae": 1.0 - 0.1 * epoch},
                          {"mask": "111111", "mflops": 2.6, "mae": 0.9 - 0.15 * epoch}], "valid", "supernet")
    store.log_event(rid, "epoch", epoch, {"epoch": epoch})
    store.heartbeat(rid, epoch=epoch, progress=epoch / 5)


def test_front_per_epoch_follows_a_running_search_and_replays_an_epoch(server, page, e2e_tmp):
    from mro_core.runs.store import RunStore

    store = RunStore(e2e_tmp / "runs")
    try:
        rid = store.create_run("epoch-run", "search", {"rank_loss": "l1", "ablation": "none"}, total_epochs=5)
        store.mark_running(rid)  # this test process plays the job: its pid is alive
        for e in (1, 2):
            _epoch(store, rid, e)
        page.goto(server + "/pareto")
        expect(page.get_by_role("heading", name="Front per epoch")).to_be_visible()
        legend = page.locator(".js-plotly-plot .legendtext")
        caption = page.locator('[data-testid="stCaptionContainer"]')
        expect(legend.filter(has_text="epoch 2 front").first).to_be_attached()
        expect(caption.filter(has_text="Epoch 2 of epoch-run").first).to_be_visible()
        settle(page)
        _epoch(store, rid, 3)  # at the last epoch, the slider moves on with the search
        expect(caption.filter(has_text="Epoch 3 of epoch-run").first).to_be_visible(timeout=60_000)
        expect(legend.filter(has_text="epoch 3 front").first).to_be_attached()
        settle(page)
        slider = page.locator('[data-testid="stSlider"]').filter(has_text="Epoch").get_by_role("slider").first
        slider.focus()
        slider.press("Home")
        expect(caption.filter(has_text="Epoch 1 of epoch-run").first).to_be_visible()
        expect(legend.filter(has_text="epoch 1 front").first).to_be_attached()
        expect(legend.filter(has_text="epoch 3 front")).to_have_count(0)
        expect(legend.filter(has_text="final front").first).to_be_attached()
        settle(page)
        _epoch(store, rid, 4)  # moved back: it stays on epoch 1 while epoch 4 arrives
        page.wait_for_function(  # the hypervolume chart has taken epoch 4
            "() => [...document.querySelectorAll('.js-plotly-plot')].some(p => (p.data || []).some("
            "t => t.name === 'hypervolume' && t.x.length === 4))", timeout=60_000)
        settle(page)
        expect(caption.filter(has_text="Epoch 1 of epoch-run").first).to_be_visible()
        shot(page, "pareto-epochs.png")
        store.finish(rid, "done")
    finally:
        store.close()
