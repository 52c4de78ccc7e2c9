"""What every figure shares: colours, the chart config, tick and cell-text rules, and the
basic maps (heatmap, one row as bars, lines between tokens). Never imports streamlit.

Token labels come from visitors: Plotly renders a subset of HTML in labels and hover text, so
every label goes through ui.app.text.plotly_text (and token_labels for repeats).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui.app.text import plotly_text, token_labels

# Colour scales start at the page's background (transparent), so a map reads the same in
# Streamlit's light and dark themes: weight 0 is "nothing", weight 1 is full purple.
ATTN_SCALE = [
    [0.0, "rgba(108,63,197,0)"],
    [0.1, "rgba(108,63,197,0.18)"],
    [0.4, "rgba(108,63,197,0.55)"],
    [1.0, "rgba(88,40,180,1)"],
]
DIVERGING = [
    [0.0, "rgba(214,69,65,1)"],
    [0.5, "rgba(128,128,128,0)"],
    [1.0, "rgba(47,111,196,1)"],
]
ACCENT = "#6C3FC5"
ACCENT_SOFT = "rgba(108,63,197,0.45)"
# Every st.plotly_chart gets this: PNG export at 3x the on-screen size, no Plotly logo.
PLOTLY_CONFIG = {"toImageButtonOptions": {"format": "png", "scale": 3}, "displaylogo": False}
MAX_VALUE_CELLS = 100  # print numbers in cells only up to 10 x 10: beyond that they are unreadable
# Token labels per axis: past this, every k-th one. More cannot be read, and the browser
# measures every label it draws (256 of them on three axes took a Concept page ~25 s to draw).
MAX_TICK_LABELS = 48
MINUS_INF = "−∞"  # the text of a masked cell (a -inf score)


def tick_every(n: int, panels: int = 1) -> int:
    """Label every k-th of n tokens, so that at most MAX_TICK_LABELS labels are drawn across
    the width (`panels` maps side by side share it)."""
    return max(1, -(-n * panels // MAX_TICK_LABELS))


def cell_text(m: np.ndarray, decimals: int) -> np.ndarray:
    """Cell labels: the value, −∞ for masked (-inf) cells, "" for missing (NaN) ones."""
    flat = [
        f"{v:.{decimals}f}" if np.isfinite(v) else (MINUS_INF if v == -np.inf else "")
        for v in np.ravel(m)
    ]
    return np.asarray(flat, dtype=object).reshape(np.shape(m))


def log_ticks(values, margin: float = 2.0) -> list[float]:
    """1-2-5 ticks covering the finite positive values (Plotly's own log ticks drop digits),
    from min / margin to max · margin."""
    v = np.asarray([x for x in np.ravel(values) if x is not None], np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    if not len(v):
        return []
    lo, hi = np.floor(np.log10(v.min())), np.ceil(np.log10(v.max()))
    ticks = [m * 10.0**e for e in np.arange(lo, hi + 1) for m in (1, 2, 5)]
    return [t for t in ticks if v.min() / margin <= t <= v.max() * margin]


def safe_labels(labels: Sequence[str]) -> list[str]:
    """Unique tick labels as plain text (ui.text.token_labels) with markup shown literally."""
    return [plotly_text(label) for label in token_labels([str(x) for x in labels])]


def _finite(matrix) -> np.ndarray:
    """float64 copy with NaN/inf replaced by None-able NaN so no NaN is drawn as a colour."""
    m = np.asarray(matrix, dtype=np.float64)
    return np.where(np.isfinite(m), m, np.nan)


def fast_figure(data: list[dict], layout: dict) -> go.Figure:
    """A figure from full property dicts, without Plotly's per-property validation (which
    costs more than the rest of a small chart). Layout keys must be written out in full
    (title={"text": …}, not title="…")."""
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def _title(text: str) -> dict:
    return {"text": text}


def heatmap(
    matrix,
    x_labels: Sequence[str] | None = None,
    y_labels: Sequence[str] | None = None,
    *,
    title: str = "",
    zmin: float | None = 0.0,
    zmax: float | None = 1.0,
    colorscale: str = ATTN_SCALE,
    show_values: bool | None = None,
    x_title: str = "key (attended to)",
    y_title: str = "query (attending)",
    height: int | None = None,
    value_format: str = ".2f",
) -> go.Figure:
    """A labelled heatmap, rows top to bottom. Values are printed in cells when small enough."""
    m = _finite(matrix)
    rows, cols = m.shape
    xs = safe_labels(x_labels) if x_labels is not None else [str(j) for j in range(cols)]
    ys = safe_labels(y_labels) if y_labels is not None else [str(i) for i in range(rows)]
    if show_values is None:
        show_values = rows * cols <= MAX_VALUE_CELLS
    trace = {
        "type": "heatmap",
        "z": m,
        "x": xs,
        "y": ys,
        "zmin": zmin,
        "zmax": zmax,
        "colorscale": colorscale,
        "hovertemplate": f"{y_title}: %{{y}}<br>{x_title}: %{{x}}<br>value: %{{z:.4f}}"
        "<extra></extra>",
    }
    if show_values:
        trace["texttemplate"] = f"%{{z:{value_format}}}"
    layout = {
        "title": _title(title),
        "height": height or max(320, 28 * rows + 140),
        "margin": {"l": 10, "r": 10, "t": 50 if title else 20, "b": 10},
        "yaxis": {
            "autorange": "reversed",
            "title": _title(y_title),
            "type": "category",
            "dtick": tick_every(rows),
        },
        "xaxis": {
            "title": _title(x_title),
            "type": "category",
            "tickangle": -60,
            "dtick": tick_every(cols),
        },
    }
    return fast_figure([trace], layout)


def weights_bar(weights, labels: Sequence[str], *, title: str = "", highlight: int | None = None):
    """Bar chart of one attention row (weights over keys)."""
    raw = np.asarray(weights, dtype=np.float64)
    w = np.nan_to_num(raw)  # a missing weight (NaN) is drawn as no bar, labelled "–"
    xs = safe_labels(labels)
    bar = {
        "type": "bar",
        "x": xs,
        "y": w,
        "marker": {"color": [ACCENT if i == highlight else ACCENT_SOFT for i in range(len(xs))]},
        # the values over the bars while they can be read; the hover always has them
        "text": [f"{v:.2f}" if np.isfinite(v) else "–" for v in raw]
        if len(xs) <= MAX_TICK_LABELS
        else None,
        "textposition": "outside",
        "hovertemplate": "key: %{x}<br>weight: %{y:.4f}<extra></extra>",
    }
    # the y axis is fitted to the data (small weights still show), with room for the labels
    top = max(0.05, float(w.max(initial=0))) * 1.2
    layout = {
        "title": _title(title),
        "height": 360,
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
        "xaxis": {"type": "category", "tickangle": -60, "dtick": tick_every(len(xs))},
        "yaxis": {"title": _title("attention weight"), "range": [0, top]},
    }
    return fast_figure([bar], layout)


GAP = 0.06  # space between a label column and the lines


def token_lines(
    weights,
    tokens: Sequence[str],
    *,
    query: int | None = None,
    title: str = "",
    min_weight: float = 0.02,
) -> go.Figure:
    """BertViz-style view: queries on the left, keys on the right, line width = weight.

    Args:
      weights: [T,T] attention matrix (rows = queries).
      query: draw only this query's lines (others faded out); None draws every row.
    """
    w = np.nan_to_num(np.asarray(weights, dtype=np.float64))
    labels = safe_labels(tokens)
    t = len(labels)
    ys = np.arange(t)[::-1].astype(float)  # first token on top
    rows = range(t) if query is None else [query]
    data = []
    for i in rows:
        for j in range(t):
            if w[i, j] < min_weight:
                continue
            data.append(
                {
                    "type": "scatter",
                    "x": [GAP, 1 - GAP],
                    "y": [ys[i], ys[j]],
                    "mode": "lines",
                    "line": {
                        "width": 1 + 14 * w[i, j],
                        "color": "rgba(108,63,197,%.2f)" % (0.15 + 0.8 * w[i, j]),
                    },
                    "hovertext": f"{labels[i]} → {labels[j]}: {w[i, j]:.3f}",
                    "hoverinfo": "text",
                    "showlegend": False,
                }
            )
    # queries end at x=0 with their labels to the left, keys start at x=1 with labels to the
    # right; lines run in between and never cross a label
    for x, anchor in ((0, "left"), (1, "right")):
        bold = [query] if (query is not None and x == 0) else []
        data.append(
            {
                "type": "scatter",
                "x": [x] * t,
                "y": ys,
                "mode": "text",
                "text": [f"<b>{lab}</b>" if i in bold else lab for i, lab in enumerate(labels)],
                "textposition": f"middle {anchor}",
                "hoverinfo": "skip",
                "showlegend": False,
            }
        )
    layout = {
        "title": _title(title),
        "height": max(300, 26 * t + 80),
        "margin": {"l": 10, "r": 10, "t": 50 if title else 10, "b": 10},
        "plot_bgcolor": "rgba(0,0,0,0)",
        "paper_bgcolor": "rgba(0,0,0,0)",
        "xaxis": {"visible": False, "range": [-0.75, 1.75], "fixedrange": True},
        "yaxis": {"visible": False, "range": [-1, t], "fixedrange": True},
    }
    fig = fast_figure(data, layout)
    return fig
