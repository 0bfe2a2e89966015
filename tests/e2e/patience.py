"""Waits derived from what the dashboard is doing, not fixed budgets.

A Streamlit page is *busy* while its script runs or reruns (``stApp``'s
``data-test-script-state`` is not ``notRunning``), while it is not connected
(``data-test-connection-state``), or while it still shows stale elements. Two waits follow:

* :func:`settle`: until the page has been idle for three polls in a row (~300 ms), so a test acts on
  a page whose script has finished. Before its first run the state is ``initial``, which counts as
  busy: a freshly loaded page is not mistaken for a settled one while torch is still importing.
* :func:`expect`: Playwright's ``expect`` whose assertions keep retrying while the page is busy and
  fail only once the page has been idle for ``IDLE_GRACE_S`` without the condition holding (or
  after the hard cap ``CAP_S`` for a page that never stops working). On a loaded machine a slow
  script run therefore makes a test slower, never red; a condition that an idle page does not
  meet still fails within seconds.
"""

from __future__ import annotations

import time

from playwright.sync_api import Page
from playwright.sync_api import expect as _pw_expect

CAP_S = 300.0
"""A page that is still working after this long is hung: fail (seconds)."""
IDLE_GRACE_S = 10.0
"""How long an idle page may go without meeting a condition before it fails (seconds): covers the
gap between a click and the rerun it starts, and the browser's own drawing."""
ATTEMPT_MS = 1_000
"""One try of a Playwright assertion inside the patient loop (milliseconds)."""

BUSY_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) return true;
    const script = app.getAttribute('data-test-script-state');
    const conn = app.getAttribute('data-test-connection-state');
    return script !== 'notRunning' || (conn !== null && conn !== 'CONNECTED')
        || !!document.querySelector('[data-stale="true"]')
        || !!document.querySelector('[data-testid="stStatusWidgetRunningIcon"]');
}"""


def busy(page: Page) -> bool:
    """Whether the page's script is running, it is reconnecting, or it shows stale elements."""
    try:
        return bool(page.evaluate(BUSY_JS))
    except Exception:  # a navigation in flight destroys the context: that is work going on
        return True


def settle(page: Page, *, cap_s: float = CAP_S) -> None:
    """Wait until the page has been idle for three polls in a row (the running state only shows a
    moment into a run, hence three)."""
    page.evaluate("window.__calm = 0")
    page.wait_for_function(
        f"""() => {{
            const busy = ({BUSY_JS})();
            window.__calm = busy ? 0 : (window.__calm || 0) + 1;
            return window.__calm >= 3;
        }}""",
        polling=100,
        timeout=cap_s * 1000,
    )


def patiently(page: Page, attempt, *, cap_s: float = CAP_S, grace_s: float = IDLE_GRACE_S) -> None:
    """Run ``attempt(timeout_ms)`` (a Playwright assertion) until it passes; re-raise its error once
    the page has been idle for ``grace_s`` or ``cap_s`` has passed."""
    start = last_busy = time.monotonic()
    while True:
        try:
            attempt(ATTEMPT_MS)
            return
        except AssertionError:
            now = time.monotonic()
            if busy(page):
                last_busy = now
            if now - last_busy > grace_s or now - start > cap_s:
                raise


class _Patient:
    """Playwright's assertions on one target, each retried by :func:`patiently`."""

    def __init__(self, target, assertions, page: Page):
        self._target, self._assertions, self._page = target, assertions, page

    @property
    def not_(self) -> "_Patient":
        return _Patient(self._target, self._assertions.not_, self._page)

    def __getattr__(self, name: str):
        method = getattr(self._assertions, name)
        if not callable(method) or not name.startswith(("to_", "not_to_")):
            return method

        def patient(*args, timeout: float | None = None, **kw):
            cap = CAP_S if timeout is None else max(timeout / 1000, CAP_S)
            patiently(self._page, lambda ms: method(*args, timeout=ms, **kw), cap_s=cap)

        return patient


def expect(target) -> _Patient:
    """``playwright.sync_api.expect`` for a Locator or a Page, patient while the app works."""
    page = target if isinstance(target, Page) else target.page
    return _Patient(target, _pw_expect(target), page)
