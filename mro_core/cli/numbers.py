"""The one validation layer for numbers on the command line: every numeric flag of ``mro`` is
parsed by :func:`whole` or :func:`real`, so a bad value is one line naming the flag, what was given
and what is allowed (``mro: error: argument --seed: must be a whole number >= 0 (got -1)``), before
any data is read or anything is created.

Bounds are what the program can honour, not taste: counts fit SQLite's 64-bit integers and the
machine (a 10^20-epoch run overflowed the store; a 10^8-step sequence asked torch for 120 GB),
seeds fit numpy's and torch's generators (0 .. 2^32 - 1), and NaN or infinity is never a setting.
The configs (:mod:`mro_core.config`) check the relations between values (``min_len <= seq_len``,
``d_model`` divisible by the heads); this layer checks each value alone.
"""

from __future__ import annotations

import argparse
import math
from typing import Callable

MAX_SEED = 2**32 - 1
"""numpy's ``default_rng`` and ``torch.manual_seed`` accept seeds up to here across platforms."""
MAX_COUNT = 10**6
"""Epochs, batch sizes, masks per step: far beyond any real run, far below SQLite's 2^63."""
MAX_SAMPLES = 10**7
"""Generated samples per split (10^7 x 12 steps x 17 dims x 3 modalities is already 24 GB)."""
MAX_SEQ_LEN = 4096
"""Sequence steps: attention is O(L^2) per path; the real files have at most 500 steps."""
MAX_WIDTH = 4096
"""Model width and feature dims."""


def whole(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    """An argparse ``type``: an integer in ``[lo, hi]`` (either bound may be None)."""

    def parse(text: str) -> int:
        try:
            v = int(str(text).strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number{_range(lo, hi)} (got {text!r})") from None
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"must be a whole number{_range(lo, hi)} (got {text})")
        return v

    parse.__name__ = "whole number"  # argparse names the type in some messages
    return parse


def real(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
         hi_open: bool = False) -> Callable[[str], float]:
    """An argparse ``type``: a finite number in the interval (open at an end when asked)."""

    def describe() -> str:
        parts = []
        if lo is not None:
            parts.append(f"{'>' if lo_open else '>='} {lo:g}")
        if hi is not None:
            parts.append(f"{'<' if hi_open else '<='} {hi:g}")
        return " and ".join(parts)

    def parse(text: str) -> float:
        what = "a finite number" + (f" {describe()}" if describe() else "")
        try:
            v = float(str(text).strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what} (got {text!r})") from None
        bad = not math.isfinite(v)
        bad = bad or (lo is not None and (v <= lo if lo_open else v < lo))
        bad = bad or (hi is not None and (v >= hi if hi_open else v > hi))
        if bad:
            raise argparse.ArgumentTypeError(f"must be {what} (got {text})")
        return v

    parse.__name__ = "number"
    return parse


def _range(lo: int | None, hi: int | None) -> str:
    if lo is not None and hi is not None:
        return f" from {lo} to {hi}"
    if lo is not None:
        return f" >= {lo}"
    if hi is not None:
        return f" <= {hi}"
    return ""


def lengths(flag: str, text: str, k: int, *, lo: int = 1, hi: int = MAX_SEQ_LEN) -> list[int]:
    """A comma-separated list of sequence lengths: one (for every modality) or ``k``.

    Raises:
        ValueError: one line naming ``flag``, what was given and what is allowed.
    """
    parse = whole(lo, hi)
    items = [x for x in str(text).split(",")]
    try:
        vals = [parse(x) for x in items]
    except argparse.ArgumentTypeError as e:
        raise ValueError(f"{flag}: each length {e} in {text!r}") from None
    if len(vals) == 1:
        vals = vals * k
    if len(vals) != k:
        raise ValueError(f"{flag} needs one length or {k} comma-separated lengths (got {len(items)}: {text!r})")
    return vals


SEED = whole(0, MAX_SEED)
COUNT = whole(1, MAX_COUNT)
COUNT0 = whole(0, MAX_COUNT)
SAMPLES = whole(1, MAX_SAMPLES)
SEQ = whole(1, MAX_SEQ_LEN)
WIDTH = whole(1, MAX_WIDTH)
