"""Plotly builders for the views beyond raw weights and for GQA made from the real model.

numpy in, go.Figure out; never imports streamlit. Colours are transparent-based (ui.figures),
so they read on Streamlit's light and dark themes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures.base import ACCENT, ACCENT_SOFT, ATTN_SCALE

KV_CHOICES = (12, 6, 4, 3, 2, 1)  # the divisors of the encoder's 12 heads
# the views of a head's map: key (URL value) -> label
VIEWS = {"raw": "Raw weights", "value-weighted": "Value-weighted", "rollout": "Rollout"}


def special_share_bars(raw, weighted, marker: str = "[CLS]/[SEP]") -> go.Figure:
    """Per layer: share of the attention weight on the marker tokens vs the value-weighted share.

    Args:
      raw, weighted: [L] mean shares (0..1) over heads and query rows.
    """
    raw, weighted = np.asarray(raw, float), np.asarray(weighted, float)
    layers = [f"L{i}" for i in range(len(raw))]
    fig = go.Figure()
    for name, values, color in (
        ("attention weight", raw, ACCENT_SOFT),
        ("value-weighted", weighted, ACCENT),
    ):
        fig.add_trace(
            go.Bar(
                x=layers,
                y=values,
                name=name,
                marker_color=color,
                text=[f"{v:.0%}" for v in values],
                textposition="outside",
                hovertemplate="%{x}: %{y:.1%}<extra>" + name + "</extra>",
            )
        )
    top = float(max(raw.max(initial=0), weighted.max(initial=0)))
    fig.update_yaxes(title=f"share on {marker}", tickformat=".0%", range=[0, max(0.1, top * 1.2)])
    fig.update_xaxes(title="layer")
    fig.update_layout(
        barmode="group",
        height=320,
        margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
    )
    return fig


def gqa_heads(original, grouped, js, kv_group: Sequence[int], n_kv: int) -> go.Figure:
    """One layer's heads, original (top row) and with K/V heads pooled (bottom row).

    Args:
      original, grouped: [N,c,c] thumbnails (rows = queries) on the 0..1 scale.
      js: [N] JS divergence (nats) of each grouped head from its original.
      kv_group: [N] the K/V head each query head reads in the grouped model.
    """
    a, b = np.asarray(original, float), np.asarray(grouped, float)
    n = a.shape[0]
    fig = make_subplots(2, n, horizontal_spacing=0.008, vertical_spacing=0.04)
    for row, maps, name in ((1, a, "original"), (2, b, f"K = {n_kv}")):
        for h in range(n):
            hover = f"{name}, head {h}" + (f", K/V head {kv_group[h]}" if row == 2 else "")
            fig.add_trace(
                go.Heatmap(
                    z=maps[h],
                    coloraxis="coloraxis",
                    hovertemplate=hover + f"<br>JS {js[h]:.3f} nats"
                    "<br>query %{y}, key %{x}: %{z:.3f}<extra></extra>",
                ),
                row=row,
                col=h + 1,
            )
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed")
    for h in range(n):  # short column labels (no subplot titles to collide at phone width)
        fig.update_xaxes(title=dict(text=f"H{h}", font=dict(size=10), standoff=2), row=2, col=h + 1)
    fig.update_yaxes(title=dict(text="original", font=dict(size=11)), row=1, col=1)
    fig.update_yaxes(title=dict(text=f"K = {n_kv}", font=dict(size=11)), row=2, col=1)
    fig.update_layout(
        coloraxis=dict(
            colorscale=ATTN_SCALE,
            cmin=0,
            cmax=1,
            colorbar=dict(thickness=10, len=0.9),
        ),
        height=300,
        margin=dict(l=10, r=10, t=10, b=10),
    )
    return fig


def gqa_tradeoff(n_kv: Sequence[int], mean_js: Sequence[float], cosine: Sequence[float]):
    """Measured cost of fewer K/V heads: mean JS divergence (bars) and embedding cosine (line)."""
    x = [str(k) for k in n_kv]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=x,
            y=list(mean_js),
            name="mean JS divergence (nats)",
            marker_color=ACCENT_SOFT,
            hovertemplate="K = %{x}: JS %{y:.3f} nats<extra></extra>",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=list(cosine),
            name="embedding cosine",
            mode="lines+markers",
            line=dict(color=ACCENT, width=2),
            hovertemplate="K = %{x}: cosine %{y:.3f}<extra></extra>",
        ),
        secondary_y=True,
    )
    fig.update_xaxes(title="K/V heads (12 = the original)", type="category")
    fig.update_yaxes(
        title="JS (nats)", range=[0, 0.7], tickvals=[0, 0.2, 0.4, 0.6], secondary_y=False
    )
    fig.update_yaxes(
        title="cosine",
        range=[0, 1.05],
        tickvals=[0, 0.25, 0.5, 0.75, 1],
        secondary_y=True,
        showgrid=False,
    )
    fig.update_layout(
        height=320,
        margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
    )
    return fig
