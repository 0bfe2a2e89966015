"""Honest job states for the runs panel: what a run's status means to the person who started it.

The store says ``queued / running / done / failed / cancelled / interrupted``; this module adds what
the table needs to be trusted (issue 12, item 1):

- a cancel asked for through the front door (``mro_core.runs.api.cancel_run`` logs a ``cancel``
  event; a later ``resume`` event starts a new attempt) reads "cancelled by you", not the job's
  "cancelled by SIGTERM";
- ``failed`` is not offered for Resume: the same request would fail again (fix the cause and start
  a new search); ``cancelled`` and ``interrupted`` are;
- the ETA exists only once an epoch has been measured: mean measured epoch time x epochs left,
  minus the time already spent in the current epoch (never a guess from a 1% progress bar);
- after a start, cancel or resume the panel keeps refreshing until the run's status leaves the one
  it had when the button was pressed (:class:`Settle`), so "cancelled" with Resume enabled does not
  linger after a resume;
- a cancel says :data:`CANCELLING` at once, while the job stops at its next safe point (seconds):
  the panel sends it in the background and the run's state then follows from the store.

Pure functions over plain values; the store is read in :mod:`app.services.runs`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

CANCEL_KIND = "cancel"
RESUME_KIND = "resume"
"""Event kinds the front door logs (``mro_core.runs.api.CANCEL_EVENT`` / ``RESUME_EVENT``)."""
CANCELLED_BY_YOU = "cancelled by you"
UI_RESUMABLE = ("cancelled", "interrupted")
"""Stopped runs the dashboard offers to resume (a failed run would fail again)."""
FIRST_EPOCH_ETA = "after epoch 1"
"""The ETA cell of a running run before its first epoch is measured (the widest ETA text)."""
CANCELLING = "Cancelling\u2026"
"""Shown from the click on Cancel until the run leaves its running status."""
SETTLE_SECONDS = 90.0
"""How long the panel keeps refreshing after an action while the run still shows its old status."""


def _kind(ev: Any) -> str | None:
    return ev.get("kind") if isinstance(ev, Mapping) else getattr(ev, "kind", None)


def _time(ev: Any) -> float | None:
    t = ev.get("time") if isinstance(ev, Mapping) else getattr(ev, "time", None)
    return float(t) if isinstance(t, (int, float)) and math.isfinite(t) else None


def _epoch(ev: Any) -> int:
    e = ev.get("epoch") if isinstance(ev, Mapping) else getattr(ev, "epoch", None)
    return int(e) if isinstance(e, int) else 0


def _payload(ev: Any) -> Any:
    return ev.get("payload") if isinstance(ev, Mapping) else getattr(ev, "payload", None)


def user_cancelled(events: Iterable[Any]) -> bool:
    """Whether the latest cancel / resume request of a run (events in write order) is a cancel."""
    last = None
    for ev in events:
        if _kind(ev) in (CANCEL_KIND, RESUME_KIND):
            last = _kind(ev)
    return last == CANCEL_KIND


def detail(status: str, error: str | None, cancelled_by_user: bool) -> str:
    """The table's one-line detail of a run: why it stopped, in words a user can act on."""
    if status == "cancelled" and cancelled_by_user:
        return CANCELLED_BY_YOU
    return (error or "").strip().splitlines()[0] if (error or "").strip() else ""


def resume_block(status: str) -> str | None:
    """Why Resume is not offered for a run in ``status`` (None: it is)."""
    if status in UI_RESUMABLE:
        return None
    if status in ("queued", "running"):
        return "the run is still active"
    if status == "done":
        return "the run is finished"
    if status == "failed":
        return "a failed run would fail again: fix the cause (see its error) and start a new search"
    return f"a {status} run cannot be resumed"


def epoch_seconds(epoch_events: Sequence[Any]) -> list[float]:
    """Measured wall time of each logged epoch (the search's ``seconds`` per epoch event)."""
    out = []
    for ev in epoch_events:
        p = _payload(ev)
        s = p.get("seconds") if isinstance(p, Mapping) else None
        if isinstance(s, (int, float)) and math.isfinite(s) and s > 0:
            out.append(float(s))
    return out


def eta_seconds(status: str, epoch: int | None, total: int | None, epoch_events: Sequence[Any],
                now: float | None = None) -> float | None:
    """Seconds left of a running run from its measured epoch times; None before the first epoch
    has been measured (or when the run is not running)."""
    if status != "running" or not total or not epoch_events:
        return None
    secs = epoch_seconds(epoch_events)
    if not secs:
        return None
    done = max(int(epoch or 0), max(_epoch(e) for e in epoch_events))
    left = max(int(total) - done, 0)
    last = max((t for t in (_time(e) for e in epoch_events) if t is not None), default=None)
    spent = max((now or time.time()) - last, 0.0) if last is not None else 0.0
    return max(left * (sum(secs) / len(secs)) - spent, 0.0)


def eta_text(status: str, epoch: int | None, total: int | None, eta: float | None, duration: str) -> str:
    """The ETA cell: empty before the first epoch, 'finishing' once the last epoch is logged."""
    if status != "running":
        return ""
    if eta is None:
        return FIRST_EPOCH_ETA if not epoch else ""
    if total and (epoch or 0) >= total:
        return "finishing"
    return duration or "< 1s"


@dataclass(frozen=True)
class Settle:
    """An action on a run whose effect the panel waits to see: refresh while the run still shows
    ``before`` (its status when the button was pressed), for at most ``until`` (epoch seconds).
    ``action`` names it (``"start"``, ``"cancel"``, ``"resume"``; "" when not said)."""

    run_id: str
    before: str
    until: float
    action: str = ""

    @classmethod
    def after(cls, run_id: str, before: str, now: float | None = None, *, action: str = "") -> Settle:
        return cls(run_id, before, (now or time.time()) + SETTLE_SECONDS, action)

    def cancelling(self, run_id: str, status_now: str | None, now: float | None = None) -> bool:
        """Whether ``run_id`` is being cancelled: a cancel of it still waits to be seen."""
        return self.action == "cancel" and self.run_id == run_id and self.pending(status_now, now)

    def pending(self, status_now: str | None, now: float | None = None) -> bool:
        """Still waiting: the run shows its old status and the time is not up."""
        return (now or time.time()) < self.until and status_now == self.before
