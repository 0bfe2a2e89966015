"""End to end in a real headless Chromium: the dashboard served by ``streamlit run``.

Starts ``streamlit run app/main.py`` on a free port (empty temporary workspace and data root),
waits on exactly ``/_stcore/health`` == "ok" (every other path answers 200 with the app page),
then drives Debian's Chromium with Playwright; no browser is ever downloaded. Screenshots for the
README land in ``docs/screenshots/`` when ``MRO_UPDATE_SCREENSHOTS=1`` (else ``test-artifacts/``). Waits are on element text and on the app's run state, never
on fixed sleeps or fixed budgets: ``patience.expect`` keeps retrying while the app works and fails
once it has been idle without the condition (tests/e2e/patience.py), so a loaded machine makes the
suite slower, not red.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Screenshots go to test-artifacts/ (ignored by git); MRO_UPDATE_SCREENSHOTS=1 writes the README's
# docs/screenshots/ instead, so a plain `make test` leaves the work tree clean.
SHOTS = ROOT / ("docs/screenshots" if os.environ.get("MRO_UPDATE_SCREENSHOTS") == "1" else "test-artifacts/screenshots")
STARTUP_TIMEOUT_S = 60.0

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is absent (install Debian's chromium: apt-get install -y chromium)",
                allow_module_level=True)
playwright_sync = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

from app.services.metrics_view import display_value, format_mflops  # noqa: E402

from patience import CAP_S, expect, settle  # noqa: E402


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(base: str, proc: subprocess.Popen, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
    """Poll exactly ``/_stcore/health`` until it answers ``ok`` (any other path is always 200)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode} before becoming healthy")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200 and r.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{base}/_stcore/health did not answer 'ok' within {timeout_s:.0f}s")


@pytest.fixture(scope="module")
def e2e_tmp(tmp_path_factory):
    """The server's temporary folder: its workspace is ``runs/`` in it (tests may add runs)."""
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="module")
def server(e2e_tmp):
    tmp = e2e_tmp
    port = free_port()
    env = dict(os.environ, MRO_WORKSPACE=str(tmp / "runs"), MRO_DATA_ROOT=str(tmp / "data"),
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    log = open(tmp / "streamlit.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(CAP_S * 1000)  # actions wait for their element; a settled page has it
    yield pg
    ctx.close()


@pytest.fixture(scope="module")
def table():
    from mro_core.training.checkpoint import load_checkpoint

    return {r["mask"]: r for r in load_checkpoint(ROOT / "checkpoints" / "demo.pt").mask_table}


# ----------------------------------------------------------------------------------- helpers
def metric_value(page, label: str):
    """The value element of the st.metric labelled ``label``."""
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(rf"^{re.escape(label)}$")))
    return box.first.locator('[data-testid="stMetricValue"]')


def toggle_label(page, path_name: str):
    """The clickable label of a path toggle (the input role=switch itself is visually hidden)."""
    return page.locator("label").filter(has=page.get_by_role("switch", name=path_name, exact=True))


def explore_done(page, bits: str):
    """The last element Explore renders for ``bits`` (after the latency forwards)."""
    return page.locator('[data-testid="stCaptionContainer"]').filter(has_text=f"Latency of {bits} measured on")


_HIDE_WORKSPACE = """(hide) => {
    for (const e of document.querySelectorAll('[data-testid="stSidebar"] [data-testid="stCaptionContainer"]')) {
        if (e.innerText.startsWith("Workspace:")) { e.style.visibility = hide ? "hidden" : ""; }
    }
}"""
"""The sidebar's workspace line names the test run's temporary folder: left out of the README's
screenshots (hidden for the shot, shown again after), never rewritten."""


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate(_HIDE_WORKSPACE, True)
    try:
        page.screenshot(path=str(SHOTS / name), full_page=True)
    finally:
        page.evaluate(_HIDE_WORKSPACE, False)


# ------------------------------------------------------------------------------------- tests
def test_first_request_to_a_page_gets_the_real_navigation(server, page):
    """First in this file on purpose: the server is fresh. A tab reconnecting to /search after a
    restart must get main.py's navigation, not Streamlit's legacy pages-directory mode (which a
    folder named pages/ next to main.py would trigger; the pages live in app/views/)."""
    page.goto(server + "/search")
    expect(page.locator("h1").first).to_have_text("Search")
    settle(page)
    nav = page.locator('[data-testid="stSidebarNav"]')
    expect(nav.get_by_text("Explore", exact=True)).to_be_visible()
    expect(nav.get_by_text("main", exact=True)).to_have_count(0)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_chrome_no_deploy_button_and_a_local_favicon(server, page):
    page.goto(server + "/")
    expect(page.locator("h1").first).to_have_text("Explore subnets")
    settle(page)
    expect(page.locator('[data-testid="stAppDeployButton"]')).to_have_count(0)
    expect(page.get_by_role("button", name="Deploy")).to_have_count(0)
    icons = page.locator('link[rel~="icon"]')
    expect(icons.first).to_be_attached()
    for i in range(icons.count()):
        href = icons.nth(i).get_attribute("href") or ""
        assert not href.startswith(("http://", "https://")) or href.startswith(server), href  # nothing off the box
    page.wait_for_url(re.compile(r"[?&]ckpt=demo"))  # the checkpoint rides in the URL beside the mask


def test_explore_toggle_updates_metrics(server, page, table):
    page.goto(server + "/")
    mflops, mae = metric_value(page, "MFLOPs"), metric_value(page, "MAE")
    expect(mflops).to_have_text(format_mflops(table["111111"]["mflops"]))
    expect(mae).to_have_text(display_value("mae", table["111111"]["mae"]))
    settle(page)
    toggle_label(page, "T->A").click()
    expect(mflops).to_have_text(format_mflops(table["011111"]["mflops"]))
    expect(mae).to_have_text(display_value("mae", table["011111"]["mae"]))
    expect(page.get_by_role("switch", name="T->A", exact=True)).not_to_be_checked()
    page.wait_for_url(re.compile(r"[?&]mask=011111"))
    expect(explore_done(page, "011111")).to_be_visible()
    expect(metric_value(page, "Latency / batch")).to_have_text(re.compile(r"^\d+\.\d ms \u00b1 \d+\.\d$"))
    toggle_label(page, "A->V").click()  # 011011: the paper's (and the planted) subnet
    expect(mflops).to_have_text(format_mflops(table["011011"]["mflops"]))
    expect(mae).to_have_text(display_value("mae", table["011011"]["mae"]))
    expect(explore_done(page, "011011")).to_be_visible()
    settle(page)
    shot(page, "explore.png")


def test_shared_link_opens_the_mask(server, page, table):
    page.goto(server + "/?mask=T->V,A->T,V->T,V->A")
    expect(metric_value(page, "MFLOPs")).to_have_text(format_mflops(table["011011"]["mflops"]))
    expect(page.get_by_role("switch", name="T->A", exact=True)).not_to_be_checked()
    expect(page.get_by_role("switch", name="V->A", exact=True)).to_be_checked()
    page.wait_for_url(re.compile(r"[?&]mask=011011"))


def test_graph_page(server, page):
    page.goto(server + "/graph?mask=011011")
    expect(page.locator("h1").first).to_have_text("Modal Relation Graph")
    expect(page.get_by_text("its paths are highlighted", exact=False)).to_be_visible()
    frame = page.frame_locator("iframe[title*='agraph']").first
    expect(frame.locator("canvas").first).to_be_visible()
    settle(page)
    shot(page, "graph.png")


def test_pareto_point_opens_in_explore(server, page):
    page.goto(server + "/pareto")
    front = page.locator(".js-plotly-plot .scatterlayer .trace").nth(1).locator(".points path")
    expect(front.first).to_be_attached()
    expect(page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="Best under")).to_be_visible()
    settle(page)
    shot(page, "pareto.png")
    front.nth(1).click(force=True)
    expect(page.locator("h1").first).to_have_text("Explore subnets")
    page.wait_for_url(re.compile(r"[?&]mask=[01]{6}"))
    bits = re.search(r"mask=([01]{6})", page.url).group(1)
    for name, b in zip(("T->A", "T->V", "A->T", "A->V", "V->T", "V->A"), bits):
        sw = page.get_by_role("switch", name=name, exact=True)
        (expect(sw).to_be_checked if b == "1" else expect(sw).not_to_be_checked)()


def _search_available() -> bool:
    out = subprocess.run([sys.executable, "-m", "mro_core", "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    return re.search(r"\bsearch\b", out.stdout) is not None


@pytest.mark.slow
def test_search_from_the_page_fills_pareto_while_it_runs(server, page, e2e_tmp):
    """A real search started from the form: its points reach the Pareto chart while it is still
    running ("running, epoch e/E" on the chart), then a Cancel from the runs panel reads "cancelled
    by you"."""
    if not _search_available():
        pytest.skip("`python -m mro_core --help` lists no `search` subcommand in this build")
    try:
        page.goto(server + "/search")
        settle(page)
        for label, value in (("Epochs", "40"), ("Warm-up epochs", "1"), ("Train samples", "200"),
                             ("Valid samples", "64")):
            box = page.get_by_label(label, exact=True)
            box.fill(value)
            box.press("Tab")
        page.get_by_label("Run name", exact=True).fill("e2e-search")
        page.get_by_role("button", name="Start search").click()
        expect(page.get_by_text("Search started: run", exact=False)).to_be_visible(timeout=120_000)
        expect(page.get_by_label("Run name", exact=True)).not_to_have_value("e2e-search")  # a fresh default
        # The Pareto page lists the new run; its chart refreshes live until the run's first evaluated
        # masks appear, drawn as a trace named after the run while the run still says "running".
        page.goto(server + "/pareto")
        expect(page.locator(".js-plotly-plot").first).to_be_attached()
        page.wait_for_function(
            r"""() => {
                const plot = document.querySelector('.js-plotly-plot');
                if (!plot || !plot._fullData) return false;
                const run = plot._fullData.filter(t => (t.name || '').includes('e2e-search') && t.x && t.x.length);
                const live = (plot._fullLayout.annotations || []).some(a => /running, epoch [1-9]\d*\/40/.test(a.text));
                return run.length > 0 && live;
            }""",
            polling=500, timeout=240_000)
        points = page.locator(".js-plotly-plot .scatterlayer .trace .points path")
        assert points.count() > 63  # the checkpoint's 63 masks plus the run's, before the run ended
        shot(page, "pareto-live.png")
        # Stop it from the runs panel: the table then says who cancelled it.
        page.goto(server + "/search")
        settle(page)
        page.get_by_role("button", name="Cancel", exact=True).click()
        caption = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="cancelled by you")
        expect(caption.first).to_be_visible(timeout=60_000)
        # the run picker says so too (it once kept "- running" after the table said otherwise)
        run_picker = page.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text("Run", exact=True))
        expect(run_picker.get_by_role("combobox")).to_have_value(re.compile(r"- cancelled$"))
        settle(page)
        shot(page, "search.png")
    finally:  # never leave a 40-epoch job running on the machine
        _cancel_active(e2e_tmp / "runs", "e2e-search")


def _cancel_active(workspace: Path, name: str) -> None:
    from mro_core.runs.api import cancel_run
    from mro_core.runs.store import RunStore

    if not workspace.exists():
        return
    store = RunStore(workspace)
    try:
        for rec in store.list_runs(kind="search"):
            if rec.name == name and store.effective_status(rec) in ("queued", "running"):
                cancel_run(store, rec.id)
    finally:
        store.close()


# ------------------------------------------------------------------ names, ties, form, tour
HTML_NAME = "<b>BOLD</b> <a href='x'>link</a>"


def _add_run(workspace: Path, name: str, masks: list[dict], checkpoint: Path | None = None) -> str:
    from mro_core.runs.store import RunStore

    store = RunStore(workspace)
    try:
        rid = store.create_run(name, "search", {"rank_loss": "l1", "ablation": "none"}, total_epochs=1)
        store.mark_running(rid, pid=None)
        store.put_masks(rid, masks, "valid", "supernet")
        if checkpoint is not None:
            store.update_run(rid, checkpoint=str(checkpoint))
        store.finish(rid, "done")
    finally:
        store.close()
    return rid


def test_html_run_name_is_shown_as_text(server, page, e2e_tmp):
    _add_run(e2e_tmp / "runs", HTML_NAME, [{"mask": "011011", "mflops": 1.7, "mae": 0.3},
                                           {"mask": "111111", "mflops": 2.6, "mae": 0.2}])
    page.goto(server + "/pareto")
    legend = page.locator(".js-plotly-plot .legendtext").filter(has_text="<b>BOLD</b>")
    expect(legend.first).to_be_attached()
    assert "<a href='x'>link</a>" in legend.first.text_content()  # the characters, not a link
    expect(page.locator(".js-plotly-plot a")).to_have_count(0)
    expect(page.locator(".js-plotly-plot .legendtext b")).to_have_count(0)
    expect(page.locator('[data-testid="stMultiSelect"]').get_by_text(HTML_NAME, exact=False).first).to_be_visible()
    settle(page)


def test_tie_click_opens_the_chosen_run(server, page, e2e_tmp):
    tie = [{"mask": "000010", "mflops": 0.5, "mae": 0.8}, {"mask": "000100", "mflops": 0.5, "mae": 0.8},
           {"mask": "111111", "mflops": 2.6, "mae": 0.25}]
    ck = e2e_tmp / "tie_b.pt"
    ck.write_bytes((ROOT / "checkpoints" / "demo.pt").read_bytes())
    _add_run(e2e_tmp / "runs", "tie-a", tie)
    b = _add_run(e2e_tmp / "runs", "tie-b", tie, checkpoint=ck)
    page.goto(server + "/pareto")
    legend = page.locator(".js-plotly-plot .legendtext").filter(has_text="tie-b")
    expect(legend.first).to_be_attached()
    settle(page)
    # the front trace of tie-b; its first point sits where both runs put 000010 and 000100
    idx = page.evaluate("""() => document.querySelector('.js-plotly-plot').data
        .findIndex(t => (t.name || '').startsWith('tie-b') && (t.name || '').endsWith('Pareto front'))""")
    assert idx >= 0
    page.locator(".js-plotly-plot .scatterlayer .trace").nth(idx).locator(".points path").first.click(force=True)
    choice = page.get_by_role("button", name=re.compile(rf"^000010 from tie-b \({b}\)"))
    expect(choice).to_be_visible()
    expect(page.get_by_text("4 subnets are drawn at the point you clicked", exact=False)).to_be_visible()
    choice.click()
    expect(page.locator("h1").first).to_have_text("Explore subnets")
    page.wait_for_url(re.compile(rf"ckpt={b}"))
    assert "mask=000010" in page.url
    expect(page.get_by_role("switch", name="V->T", exact=True)).to_be_checked()
    expect(page.get_by_role("switch", name="A->V", exact=True)).not_to_be_checked()


def test_bad_request_is_refused_with_its_reason(server, page):
    page.goto(server + "/search")
    settle(page)
    box = page.get_by_label("FLOPs budget (MFLOPs)", exact=True)
    box.fill("abc")
    box.press("Tab")
    page.get_by_role("button", name="Start search").click()
    expect(page.get_by_text("Nothing was started", exact=False)).to_be_visible()
    expect(page.get_by_text("FLOPs budget: 'abc' is not a number", exact=False).first).to_be_visible()
    # every field fine on its own, but the front door cannot build the data: its one-line reason
    box.fill("")
    box.press("Tab")
    seq = page.get_by_label("Seq. length", exact=True)
    seq.fill("4")
    seq.press("Tab")
    page.get_by_role("button", name="Start search").click()
    # (Streamlit's Markdown draws ">=" as a sign)
    reason = re.compile(r"Nothing was started: synthetic: min_len \(4\) must be (>=|\u2265) num_keys \(8\)")
    expect(page.get_by_text(reason)).to_be_visible()
    expect(page.get_by_text("Search started", exact=False)).to_have_count(0)


def test_tour_walks_to_its_end(server, page):
    page.goto(server + "/learn")
    expect(page.locator("h1").first).to_have_text(re.compile("^Learn"))
    from app.services import settings
    from app.services.tour import GROUND_TRUTH_NAME, GROUND_TRUTH_STEP, read_ground_truth

    # step 3's title follows its answer (tour.cheapest_title): any of its wordings
    step3 = "(The cheapest mask|A cheaper mask|No cheaper mask)"
    titles = [re.escape(t) for t in ("What a path is", "Turn off every path into T")] + [step3] + [
        re.escape(t) for t in ("Read the Pareto front", "Guess first: which paths matter?", "What the prior learned")]
    if read_ground_truth(settings.REPO_ROOT / "results" / GROUND_TRUTH_NAME)[0] is not None:
        titles.append(re.escape(GROUND_TRUTH_STEP.title))  # the stand-alone comparison, when results/ has it
    for i, title in enumerate(titles, start=1):
        expect(page.locator("h3").filter(has_text=re.compile(rf"{i}\. {title}"))).to_be_visible()
        settle(page)
        if i == 3:
            shot(page, "learn.png")
        page.get_by_role("button", name="Finish" if i == len(titles) else "Next", exact=True).click()
    expect(page.get_by_text("Tour complete", exact=False).first).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_running_search_is_drawn_live_and_keeps_the_zoom(server, page, e2e_tmp):
    """A run that is still going shows its points so far and "running, epoch e/E"; the next epoch's
    points arrive through the live refresh, and a zoom set with the zoom sliders stays.
    (Streamlit redraws a changed figure as a new chart, so a mouse zoom lasts only until new points.)"""
    from mro_core.runs.store import RunStore

    store = RunStore(e2e_tmp / "runs")
    try:
        rid = store.create_run("live-run", "search", {"rank_loss": "l1", "ablation": "none"}, total_epochs=3)
        store.mark_running(rid)  # this test process plays the job: its pid is alive
        store.heartbeat(rid, epoch=1, progress=1 / 3)
        store.put_masks(rid, [{"mask": "011011", "mflops": 1.75, "mae": 0.3},
                              {"mask": "111111", "mflops": 2.6, "mae": 0.25}], "valid", "supernet")
        page.goto(server + "/pareto")
        legend = page.locator(".js-plotly-plot .legendtext").filter(has_text="live-run")
        expect(legend.first).to_be_attached()
        expect(page.locator(".js-plotly-plot .annotation-text").filter(has_text="running, epoch 1/3")).to_be_attached()
        settle(page)
        page.get_by_text("Zoom (kept while new points arrive)").click()
        thumb = page.locator('[data-testid="stSlider"]').filter(has_text="MFLOPs shown").get_by_role("slider").first
        thumb.focus()
        for _ in range(30):
            thumb.press("ArrowRight")
        read = "() => document.querySelector('.js-plotly-plot')._fullLayout.xaxis.range.map(v => v.toFixed(4))"
        page.wait_for_function("() => !document.querySelector('.js-plotly-plot')._fullLayout.xaxis.autorange")
        settle(page)
        zoomed = page.evaluate(read)
        store.heartbeat(rid, epoch=2, progress=2 / 3)
        store.put_masks(rid, [{"mask": "000011", "mflops": 0.9, "mae": 0.5}], "valid", "supernet")
        expect(page.locator(".js-plotly-plot .annotation-text").filter(has_text="running, epoch 2/3")).to_be_attached(
            timeout=60_000)
        assert page.evaluate(read) == zoomed  # the refresh with new points kept the zoom
        store.finish(rid, "done")
    finally:
        store.close()
