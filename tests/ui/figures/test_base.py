"""ui.figures: shared Plotly builders; user text stays text."""

import numpy as np
import plotly.graph_objects as go

from ui.figures import base as figures


def test_safe_labels_escape_markup_and_disambiguate():
    out = figures.safe_labels(["<b>", "the", "the", "a&b"])
    assert out == ["&lt;b&gt;", "the", "the₂", "a&amp;b"]  # shown literally by Plotly
    assert "<" not in "".join(out)


def test_heatmap_has_labels_and_no_nan_values():
    m = np.array([[0.5, 0.5], [np.nan, np.inf]])
    fig = figures.heatmap(m, ["a", "<script>"], ["q1", "q2"], title="t")
    assert isinstance(fig, go.Figure)
    trace = fig.data[0]
    assert list(trace.x) == ["a", "&lt;script&gt;"]
    z = np.array(trace.z, dtype=float)
    assert np.isnan(z[1]).all() and z[0].tolist() == [0.5, 0.5]  # nan is a gap, not a colour
    assert fig.layout.yaxis.autorange == "reversed"


def test_weights_bar_and_lines():
    w = np.array([0.1, 0.7, np.nan])
    bar = figures.weights_bar(w, ["x", "y", "z"], highlight=1)
    assert list(bar.data[0].y) == [0.1, 0.7, 0.0]
    assert list(bar.data[0].text) == ["0.10", "0.70", "–"]
    lines = figures.token_lines(np.eye(3)[[1, 0, 2]], ["x", "<i>y", "z"], query=0)
    line_traces = [t for t in lines.data if t.mode == "lines"]
    assert len(line_traces) == 1  # only query 0's single strong link
    assert line_traces[0].line.width == 15.0
    texts = [t for t in lines.data if t.mode == "text"]
    assert all("<i>" not in s for t in texts for s in t.text)


def test_lines_never_start_on_a_label():
    lines = figures.token_lines(np.full((3, 3), 1 / 3), ["a", "b", "c"], query=1)
    xs = [x for t in lines.data if t.mode == "lines" for x in t.x]
    assert min(xs) > 0 and max(xs) < 1  # labels sit at x=0 (to its left) and x=1 (right)
    anchors = [t.textposition for t in lines.data if t.mode == "text"]
    assert anchors == ["middle left", "middle right"]
