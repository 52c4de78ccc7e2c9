"""Plotly builders for the causal decoder: a layer x head score map, the training curves and
the induction heads' phase change. numpy in, go.Figure out; never imports streamlit."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures.base import ACCENT, ATTN_SCALE


def head_scores(scores, *, title: str, value_name: str) -> go.Figure:
    """[L,N] scores as a layer x head map with the values printed (few cells)."""
    s = np.asarray(scores, np.float64)
    n_layers, n_heads = s.shape
    fig = go.Figure(
        go.Heatmap(
            z=s,
            x=[f"H{h}" for h in range(n_heads)],
            y=[f"L{layer}" for layer in range(n_layers)],
            zmin=0,
            zmax=1,
            colorscale=ATTN_SCALE,
            texttemplate="%{z:.2f}",
            hovertemplate="layer %{y}, head %{x}<br>" + value_name + ": %{z:.3f}<extra></extra>",
            colorbar=dict(title=dict(text=value_name, side="right"), thickness=12),
        )
    )
    fig.update_yaxes(autorange="reversed", title="layer", type="category")
    fig.update_xaxes(title="head", type="category")
    fig.update_layout(title=title, height=90 + 48 * n_layers, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def training_curves(curves, threshold: float = 0.5) -> go.Figure:
    """Training and held-out loss over steps, and the best head's induction score below."""
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
        subplot_titles=("Loss (cross-entropy, nats per token)", "Best head's induction score"),
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=curves.steps, y=curves.loss, name="training loss", line=dict(color=ACCENT)),
        row=1,
        col=1,
    )
    if curves.short_loss is not None:
        fig.add_trace(
            go.Scatter(
                x=curves.steps, y=curves.short_loss, name="loss on repeated random tokens",
                line=dict(color="#9A8FBF"),
            ),
            row=1, col=1,
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=curves.val_steps, y=curves.val_loss, name="held-out loss",
            mode="lines+markers", line=dict(color="#E4572E"),
        ),
        row=1, col=1,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=curves.probe_steps, y=curves.best_induction(), name="induction score",
            mode="lines+markers", line=dict(color="#17BEBB"),
        ),
        row=2, col=1,
    )  # fmt: skip
    fig.add_hline(y=threshold, line_dash="dot", row=2, col=1, annotation_text=f"{threshold}")
    step = curves.phase_change(threshold)
    if step is not None:
        fig.add_vline(x=step, line_dash="dash", line_color="#888", row="all", col=1)
    fig.update_yaxes(range=[0, 1], row=2, col=1)
    fig.update_xaxes(title="training step", row=2, col=1)
    fig.update_layout(
        height=520,
        margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", y=-0.15),
    )
    return fig
