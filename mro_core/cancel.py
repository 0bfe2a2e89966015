"""Cooperative cancellation, shared by the long loops and the job that runs them.

A loop (the search) takes a ``should_stop`` callable and raises :class:`JobCancelled` at a safe
point when it turns true; the job side (:mod:`mro_core.runs.job`) turns SIGTERM into that flag.
The exception lives here, on the ground floor, so the loops need not import the job machinery.
"""

from __future__ import annotations

from typing import Callable

ShouldStop = Callable[[], bool]
"""Asked at safe points; True means "stop now, the last checkpoint is on disk"."""


class JobCancelled(Exception):
    """Raised inside a job at a safe point after it was asked to stop (SIGTERM)."""
