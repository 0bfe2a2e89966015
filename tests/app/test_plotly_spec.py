"""The test helper that decodes plotly's typed arrays gives back the values the figure was made of."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from plotly_spec import decode_typed


def test_decode_typed_round_trips_numpy_traces():
    x = np.array([0.125, 1.5, 2.75])
    z = np.arange(6, dtype=np.int32).reshape(2, 3)
    fig = go.Figure([go.Scatter(x=x, y=[1, 2, 3], customdata=np.array([["a"], ["b"], ["c"]], dtype=object)),
                     go.Heatmap(z=z)])
    raw = json.loads(pio.to_json(fig))
    assert "bdata" in raw["data"][0]["x"]  # plotly really encodes it: the helper is needed
    out = decode_typed(raw)
    assert out["data"][0]["x"] == [0.125, 1.5, 2.75]
    assert out["data"][0]["y"] == [1, 2, 3]
    assert out["data"][0]["customdata"] == [["a"], ["b"], ["c"]]
    assert out["data"][1]["z"] == [[0, 1, 2], [3, 4, 5]]
