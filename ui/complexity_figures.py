"""Plotly builders for the Complexity page: sweep tables in, go.Figure out. No streamlit here."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

COLORS = {
    "attention": "#6C3FC5",
    "memory_efficient": "#2CA58D",
    "jax.nn": "#E07A1F",
    "rnn_scan": "#7F8C8D",
    "conv1d": "#B03A48",
}
LABELS = {
    "attention": "attention (plain)",
    "memory_efficient": "memory-efficient",
    "jax.nn": "jax.nn.dot_product_attention",
    "rnn_scan": "RNN step (lax.scan)",
    "conv1d": "1-D convolution",
}


def log_ticks(values) -> list[float]:
    """1-2-5 ticks covering the finite positive values (Plotly's own log ticks drop digits)."""
    v = np.asarray([x for x in np.ravel(values) if x is not None], np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    if not len(v):
        return []
    lo, hi = np.floor(np.log10(v.min())), np.ceil(np.log10(v.max()))
    ticks = [m * 10.0**e for e in np.arange(lo, hi + 1) for m in (1, 2, 5)]
    return [t for t in ticks if v.min() / 2 <= t <= v.max() * 2]


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str) -> go.Figure:
    xs = np.concatenate([np.asarray(t.x, np.float64) for t in fig.data] or [[]])
    ys = np.concatenate([np.asarray(t.y, np.float64) for t in fig.data] or [[]])
    fig.update_xaxes(type="log", title=x_title, tickvals=log_ticks(xs), tickformat="~g")
    fig.update_yaxes(type="log", title=y_title, tickvals=log_ticks(ys), tickformat="~g")
    fig.update_layout(
        title=title,
        height=420,
        margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.18),
    )
    return fig


def _reference_line(fig: go.Figure, xs, y: float, name: str) -> None:
    """A dashed horizontal line across xs, as a trace (add_hline misplaces on log axes)."""
    xs = np.asarray(xs, np.float64)
    fig.add_trace(
        go.Scatter(
            x=[xs.min(), xs.max()],
            y=[y, y],
            mode="lines",
            name=name,
            line=dict(color="#444", dash="dash", width=1.5),
            hoverinfo="name",
        )
    )


def _ok(table: pd.DataFrame) -> pd.DataFrame:
    return table[(table["status"] == "ok") & np.isfinite(table["median_ms"])]


def time_figure(table: pd.DataFrame, slopes: Mapping[str, float]) -> go.Figure:
    """Median run time against n on log-log axes; each method's fitted slope in its legend."""
    fig = go.Figure()
    for method, rows in _ok(table).groupby("method", sort=False):
        slope = slopes.get(method, float("nan"))
        name = LABELS.get(method, method) + (f" · slope {slope:.2f}" if np.isfinite(slope) else "")
        fig.add_trace(
            go.Scatter(
                x=rows["n"],
                y=rows["median_ms"],
                mode="lines+markers",
                name=name,
                line=dict(color=COLORS.get(method)),
                hovertemplate="n=%{x}<br>%{y:.3f} ms<extra>" + method + "</extra>",
            )
        )
    return _layout(fig, "Run time vs sequence length (log-log)", "sequence length n", "ms")


def memory_figure(n, scores_bytes, working_set_bytes, *, cap_bytes=None) -> go.Figure:
    """Bytes of the full scores matrix N·n²·4 against the memory-efficient working set.

    Args:
      n: lengths [L]; scores_bytes, working_set_bytes: bytes at each length [L].
      cap_bytes: draw a horizontal line (e.g. the server's cap for plain attention).
    """
    mib = 2.0**20
    fig = go.Figure()
    for y, name, color in (
        (scores_bytes, "full scores matrix N·n²·4 B", COLORS["attention"]),
        (working_set_bytes, "memory-efficient working set", COLORS["memory_efficient"]),
    ):
        fig.add_trace(
            go.Scatter(
                x=np.asarray(n),
                y=np.asarray(y, np.float64) / mib,
                mode="lines+markers",
                name=name,
                line=dict(color=color),
                hovertemplate="n=%{x}<br>%{y:,.1f} MiB<extra></extra>",
            )
        )
    if cap_bytes:
        _reference_line(fig, n, cap_bytes / mib, f"server cap {cap_bytes / mib:.0f} MiB")
    return _layout(fig, "Memory vs sequence length", "sequence length n", "MiB")


def gflops_figure(table: pd.DataFrame, matmul_gflops: float | None) -> go.Figure:
    """Achieved GFLOP/s per method against the device's measured matmul throughput."""
    fig = go.Figure()
    for method, rows in _ok(table).groupby("method", sort=False):
        fig.add_trace(
            go.Scatter(
                x=rows["n"],
                y=rows["gflops"],
                mode="lines+markers",
                name=LABELS.get(method, method),
                line=dict(color=COLORS.get(method)),
                hovertemplate="n=%{x}<br>%{y:.1f} GFLOP/s<extra>" + method + "</extra>",
            )
        )
    if matmul_gflops and np.isfinite(matmul_gflops):
        xs = _ok(table)["n"] if len(_ok(table)) else table["n"]
        _reference_line(fig, xs, matmul_gflops, f"measured matmul {matmul_gflops:.0f} GFLOP/s")
    return _layout(fig, "Achieved GFLOP/s vs measured matmul", "sequence length n", "GFLOP/s")
