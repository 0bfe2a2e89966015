"""A plotly chart element's figure as plain JSON: typed arrays decoded to lists.

Plotly 6+ serialises numpy arrays as base64 typed arrays (``{"dtype": "f8", "bdata": ...}``), which
plotly.js reads directly; the dashboard passes numpy arrays for large traces so plotly does not
validate them element by element. Tests read values, so they decode them first.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np


def decode_typed(value: Any) -> Any:
    """``value`` with every ``{"dtype", "bdata"[, "shape"]}`` typed array replaced by a list."""
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:
            arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
            if value.get("shape"):
                arr = arr.reshape([int(n) for n in str(value["shape"]).split(",")])
            return arr.tolist()
        return {k: decode_typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_typed(v) for v in value]
    return value


def chart_spec(element) -> dict:
    """The figure of an AppTest ``plotly_chart`` element, typed arrays decoded."""
    return decode_typed(json.loads(element.proto.spec))
