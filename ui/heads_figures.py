"""Plotly builders for the Multi-head page: numpy in, go.Figure out. Never imports streamlit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures import ATTN_SCALE, DIVERGING, heatmap, safe_labels

_GROUP_COLORS = ["#6C3FC5", "#E4572E", "#17BEBB", "#FFC914", "#76B041", "#2E86AB", "#A23B72"]


def toy_heads(weights, tokens: Sequence[str], kv_group: Sequence[int] | None = None) -> go.Figure:
    """Small multiples: each head's weights [N,T,T] side by side on one 0..1 scale."""
    w = np.asarray(weights, dtype=np.float64)
    n = w.shape[0]
    cols = min(n, 8)
    rows = -(-n // cols)
    titles = [
        f"head {i}" + (f" · KV {kv_group[i]}" if kv_group is not None else "") for i in range(n)
    ]
    fig = make_subplots(
        rows, cols, subplot_titles=titles, horizontal_spacing=0.02, vertical_spacing=0.08
    )
    labels = safe_labels(tokens)
    for i in range(n):
        fig.add_trace(
            go.Heatmap(
                z=w[i],
                x=labels,
                y=labels,
                zmin=0,
                zmax=1,
                coloraxis="coloraxis",
                hovertemplate=f"head {i}<br>query %{{y}} → key %{{x}}: %{{z:.3f}}<extra></extra>",
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_yaxes(autorange="reversed", type="category", showticklabels=False)
    fig.update_xaxes(type="category", showticklabels=False)
    fig.update_layout(
        coloraxis=dict(colorscale=ATTN_SCALE, cmin=0, cmax=1),
        height=70 + rows * (900 // cols + 30),
        margin=dict(l=10, r=10, t=40, b=10),
    )
    return fig


def concat_and_wo(concat, w_o, n_heads: int) -> go.Figure:
    """The concatenated head outputs [T,N·H] beside W_O [N·H,D], head blocks outlined."""
    c, w = np.asarray(concat, dtype=np.float64), np.asarray(w_o, dtype=np.float64)
    t, d = c.shape
    h = d // n_heads
    lim = float(max(np.abs(c).max(initial=0), np.abs(w).max(initial=0), 1e-9))
    fig = make_subplots(
        1,
        2,
        column_widths=[0.5, 0.5],
        subplot_titles=[f"concat(head₀…head₍{n_heads - 1}₎)  [T={t}, N·H={d}]", f"W_O  [{d}, {d}]"],
    )
    for col, (m, x_name, y_name) in enumerate(((c, "dim", "token"), (w, "out dim", "in dim")), 1):
        fig.add_trace(
            go.Heatmap(
                z=m,
                coloraxis="coloraxis",
                hovertemplate=f"{y_name} %{{y}}, {x_name} %{{x}}: %{{z:.3f}}<extra></extra>",
            ),
            row=1,
            col=col,
        )
    for i in range(1, n_heads):  # head boundaries: columns of concat, rows of W_O
        fig.add_vline(x=i * h - 0.5, line=dict(color="black", width=1), row=1, col=1)
        fig.add_hline(y=i * h - 0.5, line=dict(color="black", width=1), row=1, col=2)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(
        coloraxis=dict(colorscale=DIVERGING, cmin=-lim, cmax=lim),
        height=380,
        margin=dict(l=10, r=10, t=50, b=10),
    )
    return fig


def _pool(matrix: np.ndarray, cells: int) -> np.ndarray:
    """Shrink [T,T] to at most [cells,cells]: mean over query blocks, sum over key blocks."""
    t = matrix.shape[0]
    if t <= cells:
        return matrix
    blocks = np.array_split(np.arange(t), cells)
    rows = np.stack([matrix[b].mean(0) for b in blocks])  # [cells,T]
    return np.stack([rows[:, b].sum(1) for b in blocks], axis=1)  # [cells,cells]


def head_mosaic(attn, pinned: Sequence[tuple[int, int]] = (), cells: int = 32) -> go.Figure:
    """All L×N heads as thumbnails on one shared 0..1 scale, plus a clickable dot per head.

    Args:
      attn: [L,N,T,T]; long sentences are pooled to `cells`×`cells` per thumbnail.
      pinned: (layer, head) pairs to outline.

    Returns:
      a figure whose scatter trace (trace 1) has customdata [layer, head] for each point.
    """
    a = np.asarray(attn, dtype=np.float64)
    n_layers, n_heads = a.shape[:2]
    c = min(a.shape[-1], cells)
    step = c + 1  # one blank (NaN) row/column between thumbnails
    mosaic = np.full((n_layers * step - 1, n_heads * step - 1), np.nan)
    for layer, head in np.ndindex(n_layers, n_heads):
        y0, x0 = layer * step, head * step
        mosaic[y0 : y0 + c, x0 : x0 + c] = _pool(a[layer, head], cells)
    fig = go.Figure(go.Heatmap(z=mosaic, zmin=0, zmax=1, colorscale=ATTN_SCALE, hoverinfo="skip"))
    centre = (c - 1) / 2
    layers, heads = np.divmod(np.arange(n_layers * n_heads), n_heads)
    fig.add_trace(
        go.Scatter(
            x=heads * step + centre,
            y=layers * step + centre,
            mode="markers",
            marker=dict(
                size=max(6, min(30, 3 * c)), color="rgba(108,63,197,0.05)", symbol="square"
            ),
            customdata=np.stack([layers, heads], axis=1).tolist(),
            hovertemplate="layer %{customdata[0]}, head %{customdata[1]}<br>click to pin"
            "<extra></extra>",
            showlegend=False,
        )
    )
    for layer, head in pinned:
        fig.add_shape(
            type="rect",
            x0=head * step - 0.9,
            x1=head * step + c - 0.1,
            y0=layer * step - 0.9,
            y1=layer * step + c - 0.1,
            line=dict(color="#E4572E", width=3),
        )
    ticks = dict(tickmode="array", showgrid=False, zeroline=False)
    fig.update_xaxes(
        **ticks,
        tickvals=np.arange(n_heads) * step + centre,
        ticktext=[f"H{i}" for i in range(n_heads)],
    )
    fig.update_yaxes(
        **ticks,
        tickvals=np.arange(n_layers) * step + centre,
        ticktext=[f"L{i}" for i in range(n_layers)],
        autorange="reversed",
        scaleanchor="x",
    )
    fig.update_layout(
        height=120 + 60 * n_layers, margin=dict(l=10, r=10, t=10, b=10), clickmode="event+select"
    )
    return fig


def difference(a, b, tokens: Sequence[str], *, title: str = "") -> go.Figure:
    """A − B on a diverging scale centred on 0 (red: B larger, blue: A larger)."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    lim = float(max(np.abs(diff).max(initial=0), 1e-6))
    return heatmap(diff, tokens, tokens, title=title, zmin=-lim, zmax=lim, colorscale=DIVERGING)


def stat_grid(values, label: str) -> go.Figure:
    """A layer × head heatmap of one statistic [L,N], on its own colour scale."""
    v = np.asarray(values, dtype=np.float64)
    n_layers, n_heads = v.shape
    finite = v[np.isfinite(v)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return heatmap(
        v,
        [f"H{i}" for i in range(n_heads)],
        [f"L{i}" for i in range(n_layers)],
        title=f"{label}, per head",
        zmin=lo,
        zmax=hi if hi > lo else lo + 1e-6,
        colorscale="Viridis",
        x_title="head",
        y_title="layer",
        show_values=True,
        height=120 + 45 * n_layers,
    )


def gqa_groups(kv_group: Sequence[int]) -> go.Figure:
    """Query heads (top) joined to the K/V head they read (bottom), one colour per group."""
    n = len(kv_group)
    n_kv = max(kv_group) + 1
    kv_x = [(k + 0.5) * n / n_kv - 0.5 for k in range(n_kv)]  # centre each KV head under its group
    fig = go.Figure()
    for i, k in enumerate(kv_group):
        color = _GROUP_COLORS[k % len(_GROUP_COLORS)]
        fig.add_trace(
            go.Scatter(
                x=[i, kv_x[k]],
                y=[1, 0],
                mode="lines",
                line=dict(color=color, width=2),
                hoverinfo="skip",
                showlegend=False,
            )
        )
    colors = [_GROUP_COLORS[k % len(_GROUP_COLORS)] for k in kv_group]
    fig.add_trace(
        go.Scatter(
            x=list(range(n)),
            y=[1] * n,
            mode="markers+text",
            text=[f"Q{i}" for i in range(n)],
            textposition="top center",
            marker=dict(size=18, color=colors),
            showlegend=False,
            hovertemplate="query head %{x}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=kv_x,
            y=[0] * n_kv,
            mode="markers+text",
            text=[f"K/V{k}" for k in range(n_kv)],
            textposition="bottom center",
            showlegend=False,
            hoverinfo="skip",
            marker=dict(
                size=26,
                symbol="square",
                color=[_GROUP_COLORS[k % len(_GROUP_COLORS)] for k in range(n_kv)],
            ),
        )
    )
    fig.update_xaxes(visible=False, range=[-1, n])
    fig.update_yaxes(visible=False, range=[-0.5, 1.5])
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white")
    return fig


def kv_cache_bars(names: Sequence[str], own, mha, *, highlight: str | None = None) -> go.Figure:
    """KV-cache size per model, with its own KV heads and as if it used MHA (GiB, log axis)."""
    gib = 1024.0**3
    fig = go.Figure()
    for label, values, color in (("as published", own, "#6C3FC5"), ("with MHA", mha, "#B9A5E6")):
        fig.add_trace(
            go.Bar(
                x=list(names),
                y=np.asarray(values, dtype=np.float64) / gib,
                name=label,
                marker_color=color,
                hovertemplate="%{x}: %{y:.3f} GiB<extra>" + label + "</extra>",
            )
        )
    if highlight is not None and highlight in names:
        fig.add_vrect(
            x0=list(names).index(highlight) - 0.5,
            x1=list(names).index(highlight) + 0.5,
            fillcolor="#FFC914",
            opacity=0.2,
            line_width=0,
        )
    fig.update_yaxes(type="log", title="KV cache (GiB, log scale)")
    fig.update_layout(barmode="group", height=380, margin=dict(l=10, r=10, t=30, b=10))
    return fig
