"""Plotly builders for the Complexity page: sweep tables in, go.Figure out. No streamlit here."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ui.figures.base import log_ticks

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


def _fit_note(fig: go.Figure, fit_from: int | None) -> None:
    """Say on the chart where the slopes were fitted."""
    if fit_from:
        fig.add_annotation(
            text=f"slopes fitted on n ≥ {fit_from:,} (upper half of the lengths, where n² rules)",
            xref="paper", yref="paper", x=0.0, y=1.0, xanchor="left", yanchor="bottom",
            showarrow=False, font=dict(size=12),
        )  # fmt: skip


def time_figure(
    table: pd.DataFrame, slopes: Mapping[str, float], *, fit_from: int | None = None
) -> go.Figure:
    """Median run time against n on log-log axes; each method's fitted slope in its legend.

    fit_from: the smallest n the slopes were fitted on, written on the chart.
    """
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
    _layout(fig, "Run time vs sequence length (log-log)", "sequence length n", "ms")
    _fit_note(fig, fit_from)
    return fig


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


WINDOW_COLORS = {"full": COLORS["attention"], "window": COLORS["memory_efficient"]}


def window_figure(rows, slopes: Mapping[str, float], window: int, *, fit_from=None) -> go.Figure:
    """Full vs sliding-window causal attention: run time against n, slopes in the legend."""
    table = pd.DataFrame(rows)
    fig = go.Figure()
    for kind, label in (("full", "full causal"), ("window", f"sliding window w = {window}")):
        part = table[(table["kind"] == kind) & (table["status"] == "ok")]
        slope = slopes.get(kind, float("nan"))
        name = label + (f" · slope {slope:.2f}" if np.isfinite(slope) else "")
        fig.add_trace(
            go.Scatter(
                x=part["n"], y=part["median_ms"], mode="lines+markers", name=name,
                line=dict(color=WINDOW_COLORS[kind]),
                hovertemplate="n=%{x}<br>%{y:.1f} ms<extra>" + kind + "</extra>",
            )
        )  # fmt: skip
    _layout(fig, "Sliding window vs full attention (log-log)", "sequence length n", "ms")
    _fit_note(fig, fit_from)
    return fig


def _decode_traces(fig, rows, y_key, scale=1.0):
    table = pd.DataFrame(rows)
    dashes = ["solid", "dash", "dot", "dashdot"]
    for i, (k, part) in enumerate(table[table["kind"] == "decode"].groupby("kv_heads")):
        fig.add_trace(
            go.Scatter(
                x=part["n"], y=part[y_key] * scale, mode="lines+markers",
                name=f"decode, {k} K/V heads", line=dict(color=COLORS["memory_efficient"],
                dash=dashes[i % 4]), hovertemplate="n=%{x}<br>%{y:.3g}<extra></extra>",
            )
        )  # fmt: skip
    return table


def decode_time_figure(rows) -> go.Figure:
    """Time per generated token: decode steps (per K/V heads) against prefill's per token."""
    fig = go.Figure()
    table = _decode_traces(fig, rows, "ms_per_token")
    pre = table[table["kind"] == "prefill"]
    fig.add_trace(
        go.Scatter(
            x=pre["n"], y=pre["ms_per_token"], mode="lines+markers", name="prefill, per token",
            line=dict(color=COLORS["attention"]),
            hovertemplate="n=%{x}<br>%{y:.3g} ms<extra></extra>",
        )
    )  # fmt: skip
    return _layout(fig, "Time per token: prefill vs decode", "tokens in context n", "ms per token")


def decode_bandwidth_figure(rows, copy_gbps: float) -> go.Figure:
    """Decode's achieved bandwidth (K and V bytes read per step / time) vs a measured copy."""
    fig = go.Figure()
    table = _decode_traces(fig, rows, "gbps")
    dec = table[table["kind"] == "decode"]
    if len(dec) and np.isfinite(copy_gbps):
        _reference_line(fig, dec["n"], copy_gbps, f"measured copy {copy_gbps:.1f} GB/s")
    return _layout(fig, "Decode: bytes read per second", "tokens in KV cache n", "GB/s")


def ring_memory_figure(rows) -> go.Figure:
    """Per-device memory against the number of devices P, with the 1/P line from P = 1."""
    table = pd.DataFrame(rows)
    mib = 2.0**20
    fig = go.Figure()
    for key, name, color in (
        ("xla_bytes", "per device, compiled (XLA)", COLORS["attention"]),
        ("kv_bytes", "keys and values per device", COLORS["memory_efficient"]),
    ):
        fig.add_trace(
            go.Scatter(
                x=table["P"], y=table[key] / mib, mode="lines+markers", name=name,
                line=dict(color=color), hovertemplate="P=%{x}<br>%{y:.1f} MiB<extra></extra>",
            )
        )  # fmt: skip
    base = table.iloc[0]
    fig.add_trace(
        go.Scatter(
            x=table["P"], y=base["xla_bytes"] * base["P"] / table["P"] / mib, mode="lines",
            name="1/P", line=dict(color="#888", dash="dash"), hoverinfo="skip",
        )
    )  # fmt: skip
    _layout(fig, "Memory per device vs devices P (log-log)", "devices P", "MiB")
    fig.update_xaxes(tickvals=list(table["P"]))
    return fig


def ring_steps_figure(p: int) -> go.Figure:
    """The ring's schedule: at step s, device d holds (and folds in) key/value block (d-s) mod P."""
    steps, devices = np.arange(p), np.arange(p)
    block = (devices[:, None] - steps[None, :]) % p  # [device, step]
    text = [[f"K,V {b}" for b in row] for row in block]
    fig = go.Figure(
        go.Heatmap(
            z=block, x=[f"step {s}" for s in steps], y=[f"device {d}" for d in devices],
            text=text, texttemplate="%{text}", colorscale="Viridis", showscale=False,
            hovertemplate="%{y}, %{x}: folds in K,V block %{z}<extra></extra>", xgap=2, ygap=2,
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(
        title=f"Ring schedule on {p} devices: blocks move one device down each step",
        height=80 + 45 * p, margin=dict(l=10, r=10, t=50, b=10),
    )  # fmt: skip
    return fig
