"""Plotly builders for the Multi-head page: numpy in, go.Figure out. Never imports streamlit.

Colours come from ui.figures (transparent-based scales), so every chart reads in Streamlit's
light and dark themes; token labels go through ui.figures.safe_labels (plain text, the₂).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures.base import (
    ACCENT,
    ACCENT_SOFT,
    ATTN_SCALE,
    DIVERGING,
    heatmap,
    log_ticks,
    safe_labels,
    tick_every,
)

_GROUP_COLORS = ["#6C3FC5", "#E4572E", "#17BEBB", "#FFC914", "#76B041", "#2E86AB", "#A23B72"]
_LINE = "rgba(128,128,128,0.9)"  # visible on white and on black


def _edge_axes(fig: go.Figure, rows: int, cols: int, n: int, labels: list[str]) -> None:
    """Tick labels and titles only on the first column (queries) and the bottom row (keys)."""
    for i in range(n):
        r, c = i // cols + 1, i % cols + 1
        bottom = i + cols >= n
        fig.update_xaxes(showticklabels=bottom, row=r, col=c)
        fig.update_yaxes(showticklabels=c == 1, row=r, col=c)
        if bottom:
            fig.update_xaxes(title=dict(text="key", standoff=4), row=r, col=c)
        if c == 1:
            fig.update_yaxes(title=dict(text="query", standoff=4), row=r, col=c)


def toy_heads(weights, tokens: Sequence[str], kv_group: Sequence[int] | None = None) -> go.Figure:
    """Small multiples: each head's weights [N,T,T] side by side on one 0..1 scale."""
    w = np.asarray(weights, dtype=np.float64)
    n = w.shape[0]
    cols = min(n, 8)
    rows = -(-n // cols)
    fig = make_subplots(
        rows,
        cols,
        subplot_titles=[f"H{i}" for i in range(n)],
        horizontal_spacing=0.015,
        vertical_spacing=0.12,
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
    fig.update_yaxes(autorange="reversed", type="category", tickfont=dict(size=9), showgrid=False)
    fig.update_xaxes(type="category", tickfont=dict(size=9), showgrid=False)
    _edge_axes(fig, rows, cols, n, labels)
    fig.update_annotations(font_size=11)
    if kv_group is not None:  # a title in its K/V group's colour, as in `gqa_groups`
        for i, note in enumerate(fig.layout.annotations):
            note.font.color = _GROUP_COLORS[kv_group[i] % len(_GROUP_COLORS)]
    fig.update_layout(
        coloraxis=dict(colorscale=ATTN_SCALE, cmin=0, cmax=1, colorbar=dict(thickness=10)),
        height=90 + rows * (min(260, 1100 // cols)),
        margin=dict(l=10, r=10, t=30, b=10),
    )
    return fig


def concat_and_wo(concat, w_o, n_heads: int) -> go.Figure:
    """The concatenated head outputs [T,N·H] beside W_O [N·H,D], head blocks outlined."""
    c, w = np.asarray(concat, dtype=np.float64), np.asarray(w_o, dtype=np.float64)
    t, d = c.shape
    h = d // n_heads
    lim = float(max(np.abs(c).max(initial=0), np.abs(w).max(initial=0), 1e-9))
    fig = make_subplots(1, 2, column_widths=[0.5, 0.5], horizontal_spacing=0.12)
    axes = (
        (c, "dim of concat (N·H)", "token", f"concat of heads [T={t}, N·H={d}]"),
        (w, "output dim (D)", "input dim (N·H)", f"W_O [{d}, {d}]"),
    )
    for col, (m, x_name, y_name, title) in enumerate(axes, 1):
        fig.add_trace(
            go.Heatmap(
                z=m,
                coloraxis="coloraxis",
                hovertemplate=f"{y_name} %{{y}}, {x_name} %{{x}}: %{{z:.3f}}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title=dict(text=f"{title}<br>{x_name}", font=dict(size=11)), col=col)
        fig.update_yaxes(title=dict(text=y_name, font=dict(size=11)), col=col)
    for i in range(1, n_heads):  # head boundaries: columns of concat, rows of W_O
        fig.add_vline(x=i * h - 0.5, line=dict(color=_LINE, width=1), row=1, col=1)
        fig.add_hline(y=i * h - 0.5, line=dict(color=_LINE, width=1), row=1, col=2)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(
        coloraxis=dict(colorscale=DIVERGING, cmin=-lim, cmax=lim, colorbar=dict(thickness=10)),
        height=400,
        margin=dict(l=10, r=10, t=10, b=10),
    )
    return fig


def pool_map(matrix, cells: int) -> np.ndarray:
    """Shrink [T,T] to at most [cells,cells]: mean over query blocks, sum over key blocks
    (pooled rows still sum to 1)."""
    m = np.asarray(matrix, dtype=np.float64)
    t = m.shape[0]
    if t <= cells:
        return m
    blocks = np.array_split(np.arange(t), cells)
    rows = np.stack([m[b].mean(0) for b in blocks])  # [cells,T]
    return np.stack([rows[:, b].sum(1) for b in blocks], axis=1)  # [cells,cells]


def thumbnails(attn, cells: int = 32) -> np.ndarray:
    """Every head's map pooled to at most cells × cells: [L,N,T,T] -> [L,N,c,c] float32."""
    a = np.asarray(attn)
    c = min(a.shape[-1], cells)
    out = np.empty((*a.shape[:2], c, c), np.float32)
    for layer, head in np.ndindex(a.shape[:2]):
        out[layer, head] = pool_map(a[layer, head], cells)
    return out


def head_mosaic(
    thumbs, pinned: Sequence[tuple[int, int]] = (), kv_heads: int | None = None
) -> go.Figure:
    """All L×N heads as thumbnails on one shared 0..1 scale, plus a click target per head.

    Args:
      thumbs: [L,N,c,c] pooled maps (`thumbnails`): at most 32 × 32 cells per head, so a
        256-piece text draws 72 × 1,024 cells, not 72 × 65,536.
      pinned: (layer, head) pairs to outline.
      kv_heads: K < N (grouped-query): the query heads that share a K/V head are framed
        together (one colour per group) and the head labels name their K/V head.

    Returns:
      a figure whose scatter trace (trace 1) has customdata [layer, head] for each point; its
      markers are fully transparent (they only catch clicks and hovers).
    """
    a = np.asarray(thumbs, dtype=np.float64)
    n_layers, n_heads, c = a.shape[0], a.shape[1], a.shape[-1]
    step = c + max(1, c // 8)  # a blank (NaN) gap between thumbnails
    mosaic = np.full((n_layers * step, n_heads * step), np.nan)
    for layer, head in np.ndindex(n_layers, n_heads):
        y0, x0 = layer * step, head * step
        mosaic[y0 : y0 + c, x0 : x0 + c] = a[layer, head]
    fig = go.Figure(
        go.Heatmap(
            z=mosaic,
            zmin=0,
            zmax=1,
            colorscale=ATTN_SCALE,
            hoverinfo="skip",
            colorbar=dict(orientation="h", y=-0.02, yanchor="top", thickness=10, len=0.5),
        )
    )
    centre = (c - 1) / 2
    layers, heads = np.divmod(np.arange(n_layers * n_heads), n_heads)
    fig.add_trace(
        go.Scatter(
            x=heads * step + centre,
            y=layers * step + centre,
            mode="markers",
            marker=dict(size=28, color="rgba(0,0,0,0)", symbol="square"),
            customdata=np.stack([layers, heads], axis=1).tolist(),
            hovertemplate="layer %{customdata[0]}, head %{customdata[1]}<br>click to pin"
            "<extra></extra>",
            showlegend=False,
        )
    )
    grouped = kv_heads is not None and 1 <= kv_heads < n_heads and n_heads % kv_heads == 0
    size = n_heads // kv_heads if grouped else 1
    for layer, g in np.ndindex(n_layers, kv_heads if grouped else 0):
        pad = (step - c) / 2 + 0.5
        fig.add_shape(
            type="rect", x0=g * size * step - pad, x1=((g + 1) * size - 1) * step + c + pad - 1,
            y0=layer * step - pad, y1=layer * step + c + pad - 1,
            line=dict(color=_GROUP_COLORS[g % len(_GROUP_COLORS)], width=1.5, dash="dot"),
        )  # fmt: skip
    for layer, head in pinned:
        fig.add_shape(
            type="rect",
            x0=head * step - 0.9,
            x1=head * step + c - 0.1,
            y0=layer * step - 0.9,
            y1=layer * step + c - 0.1,
            line=dict(color="#E4572E", width=3),
        )
    ticks = dict(tickmode="array", showgrid=False, zeroline=False, fixedrange=True)
    names = [f"H{i}" + (f"·KV{i // size}" if grouped else "") for i in range(n_heads)]
    fig.update_xaxes(
        **ticks,
        side="top",
        tickvals=np.arange(n_heads) * step + centre,
        ticktext=names,
        range=[-1, n_heads * step - step + c],
    )
    fig.update_yaxes(
        **ticks,
        tickvals=np.arange(n_layers) * step + centre,
        ticktext=[f"L{i}" for i in range(n_layers)],
        range=[n_layers * step - step + c, -1],
    )
    fig.update_layout(
        height=90 + 75 * n_layers,
        margin=dict(l=10, r=10, t=30, b=30),
        clickmode="event+select",
        dragmode=False,
    )
    return fig


def pinned_heads(maps, tokens: Sequence[str], titles: Sequence[str]) -> go.Figure:
    """Pinned heads' maps [P,T,T] in one figure: a 2 × 2 grid from 3 pins, one colour bar.

    Past the tick limit (ui.figures.base.tick_every) every k-th label is shown; the hover
    names every cell."""
    m = np.asarray(maps, dtype=np.float32)  # sent to the browser as binary float32
    n, t = m.shape[0], m.shape[-1]
    cols = 1 if n == 1 else 2
    rows = -(-n // cols)
    fig = make_subplots(
        rows,
        cols,
        subplot_titles=list(titles),
        shared_yaxes=True,  # the same tokens: labels once per row, more room on a phone
        horizontal_spacing=0.04,
        vertical_spacing=0.16 if rows > 1 else 0.1,
    )
    labels = safe_labels(tokens)
    every = tick_every(t, panels=cols)
    shown = labels[::every]
    for i in range(n):
        fig.add_trace(
            go.Heatmap(
                z=m[i],
                x=labels,
                y=labels,
                coloraxis="coloraxis",
                hovertemplate="query %{y} → key %{x}: %{z:.3f}<extra>"
                + safe_labels([titles[i]])[0]
                + "</extra>",
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    axis = dict(
        type="category", tickmode="array", tickvals=shown, tickfont=dict(size=10), showgrid=False
    )
    fig.update_xaxes(**axis, tickangle=-60)
    fig.update_yaxes(**axis, autorange="reversed")
    for i in range(n):
        if i + cols >= n:
            fig.update_xaxes(
                title=dict(text="key", standoff=2), row=i // cols + 1, col=i % cols + 1
            )
        if i % cols == 0:
            fig.update_yaxes(title=dict(text="query", standoff=2), row=i // cols + 1, col=1)
    fig.update_annotations(font_size=12)
    fig.update_layout(
        coloraxis=dict(colorscale=ATTN_SCALE, cmin=0, cmax=1, colorbar=dict(thickness=10)),
        height=rows * max(300, 14 * min(t, 40) + 140) + 20,
        margin=dict(l=10, r=10, t=30, b=10),
    )
    return fig


def difference(a, b, tokens: Sequence[str], *, title: str = "") -> go.Figure:
    """A − B on a diverging scale centred on 0 (red: B larger, blue: A larger)."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    lim = float(max(np.abs(diff).max(initial=0), 1e-6))
    fig = heatmap(diff, tokens, tokens, title=title, zmin=-lim, zmax=lim, colorscale=DIVERGING)
    return fig


def two_heads(a, b, tokens: Sequence[str]) -> go.Figure:
    """Two heads' maps side by side, called A and B (for a question: which one is which?)."""
    fig = pinned_heads(np.stack([a, b]), tokens, ["head A", "head B"])
    fig.update_layout(height=min(fig.layout.height, 420))
    return fig


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
    fig.update_layout(height=240, margin=dict(l=10, r=10, t=10, b=10))
    return fig


def kv_cache_bars(names: Sequence[str], own, mha, *, highlight: str | None = None) -> go.Figure:
    """KV-cache size per model, with its own KV heads and as if it used MHA (GiB, log axis).

    The highlighted model's bars get a thick outline and its tick label is bold."""
    gib = 1024.0**3
    names = list(names)
    own_g, mha_g = (np.asarray(v, dtype=np.float64) / gib for v in (own, mha))
    sel = names.index(highlight) if highlight in names else -1
    widths = [3 if i == sel else 0 for i in range(len(names))]
    fig = go.Figure()
    for label, values, color in (("as published", own_g, ACCENT), ("with MHA", mha_g, ACCENT_SOFT)):
        fig.add_trace(
            go.Bar(
                x=names,
                y=values,
                name=label,
                marker=dict(color=color, line=dict(color="#E4572E", width=widths)),
                hovertemplate="%{x}: %{y:.3f} GiB<extra>" + label + "</extra>",
            )
        )
    positive = np.concatenate([own_g, mha_g])
    positive = positive[positive > 0]
    if positive.size:
        vals = log_ticks(positive, margin=1.01)  # only ticks the bars reach
        text = [f"{v:,.10g}" for v in vals]
        fig.update_yaxes(tickmode="array", tickvals=vals, ticktext=text, minor=dict(ticks=""))
    fig.update_yaxes(type="log", title="KV cache (GiB, log scale)")
    fig.update_xaxes(
        tickmode="array",
        tickvals=names,
        ticktext=[f"<b>{n}</b>" if i == sel else n for i, n in enumerate(safe_labels(names))],
    )
    fig.update_layout(
        barmode="group",
        height=400,
        margin=dict(l=10, r=10, t=30, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
    )
    return fig
