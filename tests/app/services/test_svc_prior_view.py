"""app.services.prior_view and routing: a checkpoint's prior read defensively, drawn as a graph."""

from __future__ import annotations

from mro_core.paths import PathSpace

from app.services.prior_view import edge_rows, graph_elements, read_prior, uniform_p
from app.services.routing import routing_svg

SPACE = PathSpace(("T", "A", "V"))


def test_read_prior_defensive():
    v = read_prior(None, SPACE)
    assert v.uniform and v.final.p == uniform_p(SPACE) == [0.5] * 6 and not v.messages
    v = read_prior({"p": [0.1] * 5}, SPACE)  # wrong length
    assert v.uniform and any("6 numbers" in m for m in v.messages)
    v = read_prior("garbage", SPACE)
    assert v.uniform and v.messages
    good = {"p": [0.9, 0.1, 0.5, 0.5, 0.2, 0.8], "alpha": 1.0, "beta": 0.5, "gamma": "x",
            "stats": {"cos": [0.1] * 6, "var_g": [1, 2, 3, 4, 5, 6], "var_a": "bad"},
            "history": [{"epoch": 2, "p": [0.5] * 6}, {"p": [0.6] * 6}, {"epoch": 1, "p": None}, 7]}
    v = read_prior(good, SPACE)
    assert not v.uniform and v.final.alpha == 1.0 and v.final.gamma is None
    assert [s.epoch for s in v.history] == [2, 2]  # an entry without an epoch gets its position
    assert any("var_a" in m for m in v.messages) and any("history[2]" in m for m in v.messages)
    rows = edge_rows(SPACE, v.final)
    assert [r["path"] for r in rows] == list(SPACE.path_names)
    assert rows[0]["cos"] == 0.1 and rows[0]["var_a"] is None and rows[0]["score"] is None
    partial = read_prior({"p": [0.5] * 6, "alpha": 1.0, "beta": 1.0, "gamma": 1.0,
                          "stats": {"cos": [0.0, 1.0, None, 1.0, 0.0, 1.0], "var_g": [1.0] * 6, "var_a": [2.0] * 6}},
                         SPACE)
    assert partial.final.stats["cos"][2] is None and not partial.messages  # an unobserved edge is allowed
    scores = [r["score"] for r in edge_rows(SPACE, partial.final)]
    assert scores[2] == 0.0 and scores[1] > 0 > scores[0]
    only_history = read_prior({"history": [{"epoch": 3, "p": [0.4] * 6}]}, SPACE)
    assert not only_history.uniform and only_history.final.epoch == 3


def test_graph_elements_and_svg():
    nodes, edges = graph_elements(SPACE, [0.9, 0.1, 0.5, 0.5, 0.0, 1.0], "011011")
    assert [n.id for n in nodes] == ["T", "A", "V"]
    assert all(isinstance(e.label, str) for e in edges) and edges[0].label == "T->A 0.90"
    assert [e.active for e in edges] == [False, True, True, False, True, True]
    assert edges[5].width > edges[0].width > edges[4].width
    svg = routing_svg(SPACE, "011011")
    assert svg.startswith("<svg") and svg.count("(active)") == 4 and svg.count("(off)") == 2
    big = PathSpace(("A", "B", "C", "D", "E"))
    assert routing_svg(big, "1" * 20).count("(active)") == 20


def test_edge_labels_left_off_beyond_twelve_paths():
    from app.services.prior_view import EDGE_LABEL_MAX_PATHS, edge_labels_fit

    k4, k5, k6 = (PathSpace(tuple("TAVPEG"[:k])) for k in (4, 5, 6))
    assert EDGE_LABEL_MAX_PATHS == k4.num_paths and edge_labels_fit(SPACE) and edge_labels_fit(k4)
    assert not edge_labels_fit(k5) and not edge_labels_fit(k6)
    _, edges = graph_elements(k6, [0.2] * 30, "1" * 30, labels=False)
    assert len(edges) == 30 and all(e.label == "" for e in edges)
    assert edges[0].title == "T->A: p = 0.200 (active)"  # the hover still names the path and p
