"""Figures for the RoPE step: numpy in, go.Figure out. No streamlit.

One pair of a head's dimensions as 2-D arrows before and after the rotation (one arrow per
token position), the rotated score of one query/key pair at every absolute position (a flat
line per offset), and the score against the offset with RoFormer's decay bound.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures.base import ACCENT, safe_labels

BEFORE = "rgba(128,128,128,0.6)"  # the vector before the rotation
CHOSEN = "#E07B00"  # the chosen query or key (a colour that reads on light and dark)
POSITIONS = "Viridis"  # token position, on the arrow tips after the rotation
MAX_ARROWS = 48  # arrows drawn per panel; past that the arrows hide each other
_MARGIN = dict(l=10, r=10, t=60, b=10)


def _segments(tips: np.ndarray) -> tuple[list, list]:
    """x, y of lines from the origin to each tip [P,2], separated by None (one trace)."""
    xs, ys = [], []
    for x, y in tips:
        xs += [0.0, float(x), None]
        ys += [0.0, float(y), None]
    return xs, ys


def _arrows(tips, *, name, color, width, dash=None, tip_color=None, hover=None, size=11):
    """One trace of arrows from the origin: lines with an arrow-head marker at each tip
    (`tip_color`: a position per tip, drawn on the POSITIONS scale with its colour bar)."""
    xs, ys = _segments(tips)
    n = len(tips)
    colors = color if tip_color is None else [c for t in tip_color for c in (t, t, t)]
    scale = (
        {}
        if tip_color is None
        else dict(
            colorscale=POSITIONS,
            showscale=True,
            colorbar=dict(title=dict(text="m", side="top"), thickness=10, len=0.6),
        )
    )
    return go.Scatter(
        x=xs,
        y=ys,
        mode="lines+markers",
        name=name,
        line=dict(color=color, width=width, dash=dash),
        marker=dict(
            symbol="arrow", angleref="previous", size=[0, size, 0] * n, color=colors, **scale
        ),
        text=None if hover is None else [h for t in hover for h in ("", t, "")],
        hovertemplate="%{text}<extra></extra>" if hover is not None else None,
        hoverinfo="skip" if hover is None else None,
    )


def _arc(before: np.ndarray, turn: float, radius: float) -> go.Scatter:
    """The turn from the chosen vector's direction before to after: a spiral out from
    `radius` to 1.6 × it, so that more than a full turn still reads as such."""
    start = np.arctan2(before[1], before[0])
    steps = np.linspace(0.0, 1.0, max(24, int(abs(turn) * 12)))
    phis, radii = start + turn * steps, radius * (1.0 + 0.6 * steps)
    return go.Scatter(
        x=radii * np.cos(phis),
        y=radii * np.sin(phis),
        mode="lines",
        line=dict(color=CHOSEN, width=1.5, dash="dot"),
        hoverinfo="skip",
        showlegend=False,
    )


def pair_rotation_figure(
    before, after, labels: Sequence[str], angles, *, title: str, highlight: int | None = None
) -> go.Figure:
    """One pair of dimensions (2-D) of every token's vector, before (grey) and after the
    rotation by m·θ_i (tips coloured by position m); the chosen token in orange with its turn.

    Args:
      before, after: [T,2] the pair's two coordinates. labels: T token labels.
      angles: [T] the rotation angle m·θ_i of each position (radians).
      highlight: the chosen token's position, drawn on top (always, even past MAX_ARROWS).
    """
    before, after = np.asarray(before, np.float64), np.asarray(after, np.float64)
    angles = np.asarray(angles, np.float64)
    labels = safe_labels(labels)
    shown = np.arange(min(len(before), MAX_ARROWS))
    hover = [
        f"m = {m}: {labels[m]}<br>before ({before[m, 0]:.3f}, {before[m, 1]:.3f})"
        f"<br>after ({after[m, 0]:.3f}, {after[m, 1]:.3f})"
        f"<br>turned by m·θ = {angles[m]:.3f} rad ({np.degrees(angles[m]) % 360:.0f}°)"
        for m in shown
    ]
    fig = go.Figure(
        [
            _arrows(before[shown], name="before", color=BEFORE, width=1, dash="dot", size=8),
            _arrows(
                after[shown],
                name="after RoPE",
                color="rgba(108,63,197,0.45)",
                width=1.5,
                tip_color=shown,
                hover=hover,
            ),
        ]
    )
    if highlight is not None:
        h = int(highlight)
        r = float(np.hypot(*before[h])) or 1.0
        fig.add_trace(_arc(before[h], float(angles[h]), 0.3 * r))
        chosen = {
            "before": dict(width=2, dash="dot", size=10),
            "after": dict(width=3, size=14, hover=[hover[h]] if h < len(hover) else None),
        }
        for when, tips in (("before", before), ("after", after)):
            fig.add_trace(_arrows(tips[h : h + 1], name=f"{labels[h]} {when}", color=CHOSEN,
                                  **chosen[when]))  # fmt: skip
    bound = 1.1 * max(float(np.abs(np.concatenate([before, after])).max()), 1e-6)
    axis = dict(range=[-bound, bound], zeroline=True, zerolinewidth=1, constrain="domain")
    fig.update_xaxes(**axis, title="dimension i")
    fig.update_yaxes(**axis, title="dimension i + H/2", scaleanchor="x", scaleratio=1)
    fig.update_layout(
        title=title,
        height=400,
        margin=_MARGIN,
        hovermode="closest",
        legend=dict(orientation="h", y=-0.18, x=0),
    )
    return fig


def offset_lines_figure(
    dots, offsets: Sequence[int], *, title: str, highlight: int | None = None
) -> go.Figure:
    """The rotated score of one query and one key vector placed at every key position n with
    the query at n + d: one line per offset d, flat (RoPE sees only the offset).

    Args:
      dots: [len(offsets), T] from `attn_jax.lessons.rope.offset_dots` (NaN past the end).
      highlight: the chosen cell's offset: its line in orange, thicker.
    """
    dots = np.asarray(dots, np.float64)
    n = np.arange(dots.shape[1])
    fig = go.Figure()
    for row, d in enumerate(offsets):
        fits = np.isfinite(dots[row])
        chosen = d == highlight
        fig.add_trace(
            go.Scatter(
                x=n[fits],
                y=dots[row, fits],
                mode="lines+markers",
                name=f"m − n = {d}" + (" (the chosen cell)" if chosen else ""),
                line=dict(color=CHOSEN, width=4) if chosen else None,
                hovertemplate=f"offset {d}<br>key at n = %{{x}}, query at m = %{{x}} + {d}"
                "<br>RoPE(q, m) · RoPE(k, n) = %{y:.5f}<extra></extra>",
            )
        )
    fig.update_xaxes(title="key position n", rangemode="tozero")
    fig.update_yaxes(title="RoPE(q, m) · RoPE(k, n)")
    fig.update_layout(
        title=title,
        height=400,
        margin=_MARGIN,
        legend=dict(orientation="h", yanchor="top", y=-0.3, x=0),
    )
    return fig


def offset_curve_figure(curve, means, bound, *, title: str, highlight: int | None = None):
    """q·k against the offset m − n: this query and key (a line), the head's real scores
    averaged by offset (dots) and, below, RoFormer's relative bound (decays with the offset).

    Args:
      curve, means, bound: [O] for offsets 0 … O−1 (means NaN where no cell has the offset).
      highlight: the chosen cell's offset, marked when it is in range.
    """
    curve, means, bound = (np.asarray(a, np.float64) for a in (curve, means, bound))
    d = np.arange(len(curve))
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.65, 0.35]
    )
    ok = np.isfinite(means)
    traces = [
        (d, curve, "this q, k at offset d", "q·k", dict(mode="lines",
         line=dict(color=ACCENT, width=2)), 1),
        (d[ok], means[ok], "the head's scores, mean by offset", "mean q·k",
         dict(mode="markers", marker=dict(color="#2F6FC4", size=7)), 1),
        (d, bound, "RoFormer's bound (relative)", "bound",
         dict(mode="lines", line=dict(color="gray", width=1.5)), 2),
    ]  # fmt: skip
    if highlight is not None and 0 <= highlight < len(curve):
        traces.append(([highlight], [curve[highlight]], f"the chosen cell (offset {highlight})",
                       "q·k", dict(mode="markers", marker=dict(color=CHOSEN, size=12,
                                   symbol="diamond")), 1))  # fmt: skip
    for x, y, name, what, style, row in traces:
        hover = f"offset %{{x}}: {what} = %{{y:.4f}}<extra></extra>"
        fig.add_trace(go.Scatter(x=x, y=y, name=name, hovertemplate=hover, **style), row=row,
                      col=1)  # fmt: skip
    fig.update_xaxes(title="offset m − n (query position − key position)", row=2, col=1)
    fig.update_yaxes(title="q·k", row=1, col=1)
    fig.update_yaxes(title="bound", rangemode="tozero", row=2, col=1)
    fig.update_layout(
        title=title, height=480, margin=_MARGIN, legend=dict(orientation="h", y=-0.22, x=0)
    )
    return fig
