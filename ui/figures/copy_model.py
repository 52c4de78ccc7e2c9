"""Plotly builders for the copy model: its training run (loss, held-out copy accuracy and
every head's score over steps) and a head's map on one row with the keys an induction head
should find ringed. numpy in, go.Figure out; never imports streamlit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures import base

# one colour per head index, the same in both layers (dotted: previous-token, solid: copying)
HEAD_COLOURS = ("#17BEBB", "#E4572E", "#F2A541", "#2E86AB", "#9A8FBF", "#5B8C5A", "#C44569")
COPY_COLOUR = "#444444"


def run_curves(run, step: int | None = None, *, height: int = 520) -> go.Figure:
    """Loss (top) and held-out scores (below) over training steps; a dashed line at `step`.

    Below: copy accuracy; the previous-token score of every head in the layers before the
    last (dotted) and the copying score of every head in the layers after the first (solid):
    at the textbook key, or one place later when the run's copying head looks there."""
    (_, _), (_, _), shift = run.heads()
    copying = run.induction_next if shift else run.induction
    copy_name = "copy score (key one later)" if shift else "induction score"
    n_layer, n_head = run.shape
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
        subplot_titles=("Loss on the copied symbols (nats)", "Held-out scores"),
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=run.steps, y=run.loss, name="loss", line=dict(color=base.ACCENT)),
        row=1, col=1,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=run.steps, y=run.copy_accuracy, name="copy accuracy (top-1)",
            line=dict(color=COPY_COLOUR, width=3),
        ),
        row=2, col=1,
    )  # fmt: skip
    for layer in range(n_layer):
        for head in range(n_head):
            colour = HEAD_COLOURS[head % len(HEAD_COLOURS)]
            if layer < n_layer - 1:
                fig.add_trace(
                    go.Scatter(
                        x=run.steps, y=run.previous_token[:, layer, head],
                        name=f"L{layer}·H{head} previous-token",
                        line=dict(color=colour, dash="dot", width=1.5),
                    ),
                    row=2, col=1,
                )  # fmt: skip
            if layer > 0:
                fig.add_trace(
                    go.Scatter(
                        x=run.steps, y=copying[:, layer, head],
                        name=f"L{layer}·H{head} {copy_name}", line=dict(color=colour, width=1.5),
                    ),
                    row=2, col=1,
                )  # fmt: skip
    if step is not None:
        fig.add_vline(x=step, line_dash="dash", line_color="#888", row="all", col=1)
    fig.update_yaxes(range=[0, 1.02], row=2, col=1)
    fig.update_xaxes(title="training step", row=2, col=1)
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(font=dict(size=10)),
        hovermode="x unified",
    )
    return fig


def row_map(
    weights,
    tokens: Sequence[str],
    *,
    title: str,
    rings: Sequence[tuple[int, int]] = (),
    height: int = 440,
) -> go.Figure:
    """One head's causal map [T,T] on a row; `rings` (query, key) mark where it should look."""
    fig = base.heatmap(
        np.where(np.tril(np.ones_like(weights, dtype=bool)), weights, np.nan), tokens, tokens,
        title=title, show_values=False, height=height,
    )  # fmt: skip
    if rings:
        labels = base.safe_labels(tokens)
        fig.add_trace(
            go.Scatter(
                x=[labels[k] for _, k in rings], y=[labels[q] for q, _ in rings], mode="markers",
                marker=dict(symbol="circle-open", size=13, color="#E4572E", line=dict(width=2)),
                name="induction key", hoverinfo="skip", showlegend=False,
            )
        )  # fmt: skip
    return fig


def knockout_map(full: float, each, *, title: str) -> go.Figure:
    """[L,N] held-out copy accuracy with that one head knocked out (cells printed)."""
    s = np.asarray(each, np.float64)
    n_layer, n_head = s.shape
    trace = {
        "type": "heatmap",
        "z": s,
        "x": [f"H{h}" for h in range(n_head)],
        "y": [f"L{la}" for la in range(n_layer)],
        "zmin": 0.0,
        "zmax": 1.0,
        "colorscale": base.ATTN_SCALE,
        "texttemplate": "%{z:.2f}",
        "hovertemplate": "without %{y} %{x}: copy accuracy %{z:.3f}<extra></extra>",
        "colorbar": {"title": {"text": "copy acc.", "side": "right"}, "thickness": 12},
    }
    layout = {
        "title": {"text": f"{title} (all heads: {full:.2f})"},
        "height": 110 + 52 * n_layer,
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
        "yaxis": {"autorange": "reversed", "type": "category", "title": {"text": "layer"}},
        "xaxis": {"type": "category", "title": {"text": "head knocked out"}},
    }
    return base.fast_figure([trace], layout)
