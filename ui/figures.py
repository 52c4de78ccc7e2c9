"""Plotly figure builders shared by the pages: numpy in, go.Figure out. Never imports streamlit.

Token labels come from visitors: Plotly renders tick labels and hover text as text, and we
also escape "<" and ">" so nothing a visitor types can become markup inside a figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

ATTN_SCALE = "Purples"  # one colour scale for every attention map in the app
DIVERGING = "RdBu"


def safe_labels(labels: Sequence[str]) -> list[str]:
    """Unique, markup-free tick labels: '<' -> '‹', duplicates get a position suffix."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        text = str(label).replace("<", "‹").replace(">", "›").replace("&", "＆")
        if text in seen:
            seen[text] += 1
            text = f"{text} ·{seen[text]}"
        else:
            seen[text] = 0
        out.append(text)
    return out


def _finite(matrix) -> np.ndarray:
    """float64 copy with NaN/inf replaced by None-able NaN so no NaN is drawn as a colour."""
    m = np.asarray(matrix, dtype=np.float64)
    return np.where(np.isfinite(m), m, np.nan)


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
        show_values = rows * cols <= 196
    fig = go.Figure(
        go.Heatmap(
            z=m,
            x=xs,
            y=ys,
            zmin=zmin,
            zmax=zmax,
            colorscale=colorscale,
            texttemplate=f"%{{z:{value_format}}}" if show_values else None,
            hovertemplate=f"{y_title}: %{{y}}<br>{x_title}: %{{x}}<br>value: %{{z:.4f}}"
            "<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", title=y_title, type="category")
    fig.update_xaxes(title=x_title, type="category", tickangle=-45)
    fig.update_layout(
        title=title,
        height=height or max(320, 28 * rows + 140),
        margin=dict(l=10, r=10, t=50 if title else 20, b=10),
    )
    return fig


def weights_bar(weights, labels: Sequence[str], *, title: str = "", highlight: int | None = None):
    """Bar chart of one attention row (weights over keys)."""
    raw = np.asarray(weights, dtype=np.float64)
    w = np.nan_to_num(raw)  # a missing weight (NaN) is drawn as no bar, labelled "–"
    xs = safe_labels(labels)
    colors = ["#6C3FC5" if i == highlight else "#B9A5E6" for i in range(len(xs))]
    fig = go.Figure(
        go.Bar(
            x=xs,
            y=w,
            marker_color=colors,
            text=[f"{v:.2f}" if np.isfinite(v) else "–" for v in raw],
            textposition="outside",
            hovertemplate="key: %{x}<br>weight: %{y:.4f}<extra></extra>",
        )
    )
    fig.update_xaxes(type="category", tickangle=-45)
    fig.update_yaxes(title="attention weight", range=[0, max(1.0, float(w.max(initial=0)) * 1.1)])
    fig.update_layout(title=title, height=360, margin=dict(l=10, r=10, t=50, b=10))
    return fig


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
    fig = go.Figure()
    for i in rows:
        for j in range(t):
            if w[i, j] < min_weight:
                continue
            fig.add_trace(
                go.Scatter(
                    x=[0, 1],
                    y=[ys[i], ys[j]],
                    mode="lines",
                    line=dict(
                        width=1 + 14 * w[i, j],
                        color="rgba(108,63,197,%.2f)" % (0.15 + 0.8 * w[i, j]),
                    ),
                    hovertext=f"{labels[i]} → {labels[j]}: {w[i, j]:.3f}",
                    hoverinfo="text",
                    showlegend=False,
                )
            )
    for x, anchor in ((0, "right"), (1, "left")):
        bold = [query] if (query is not None and x == 0) else []
        fig.add_trace(
            go.Scatter(
                x=[x] * t,
                y=ys,
                mode="text",
                text=[f"<b>{lab}</b>" if i in bold else lab for i, lab in enumerate(labels)],
                textposition=f"middle {anchor}",
                hoverinfo="skip",
                showlegend=False,
            )
        )
    fig.update_xaxes(visible=False, range=[-0.6, 1.6])
    fig.update_yaxes(visible=False, range=[-1, t])
    fig.update_layout(
        title=title,
        height=max(300, 26 * t + 80),
        margin=dict(l=10, r=10, t=50 if title else 10, b=10),
        plot_bgcolor="white",
    )
    return fig
