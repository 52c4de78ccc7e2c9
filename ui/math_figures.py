"""Figures and tables for the Math page: numpy in, go.Figure / DataFrame out. No streamlit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures import ATTN_SCALE, DIVERGING, heatmap, safe_labels

MINUS_INF = "−∞"
_RAW, _SCALED = "#D9534F", "#6C3FC5"  # unscaled / scaled curves


def _cell_text(m: np.ndarray, decimals: int) -> list[list[str]]:
    """Cell labels: the value, or −∞ for masked cells (never 'NaN')."""
    return [[f"{v:.{decimals}f}" if np.isfinite(v) else MINUS_INF for v in row] for row in m]


def step_heatmap(
    matrix,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    title: str,
    weights: bool = False,
    x_title: str = "",
    y_title: str = "",
    decimals: int = 2,
) -> go.Figure:
    """One step of the pipeline as a heatmap; masked (−∞) cells are blank and labelled −∞.

    Args:
      matrix: [R,C]; may hold -inf for masked logits.
      weights: True for attention weights (0..1, attention scale); False for signed
        values (diverging scale, symmetric about 0).
    """
    m = np.asarray(matrix, dtype=np.float64)
    finite = m[np.isfinite(m)]
    bound = float(np.abs(finite).max()) if finite.size else 1.0
    zmin, zmax = (0.0, 1.0) if weights else (-(bound or 1.0), bound or 1.0)
    show = m.size <= 256  # up to 16 x 16 cells stay readable
    fig = heatmap(
        m,
        col_labels,
        row_labels,
        title=title,
        zmin=zmin,
        zmax=zmax,
        colorscale=ATTN_SCALE if weights else DIVERGING,
        show_values=False,
        x_title=x_title,
        y_title=y_title,
        height=min(max(260, 26 * m.shape[0] + 130), 560),
    )
    text = _cell_text(m, decimals)
    fig.update_traces(
        z=[[float(v) if np.isfinite(v) else None for v in row] for row in m],  # None: blank cell
        text=text,
        texttemplate="%{text}" if show else None,
        hovertemplate=f"{y_title or 'row'}: %{{y}}<br>{x_title or 'column'}: %{{x}}"
        "<br>value: %{text}<extra></extra>",
    )
    return fig


def matrix_table(matrix, row_labels: Sequence[str], col_labels: Sequence[str], decimals=4):
    """The numbers of a matrix as a DataFrame; -inf (masked) shown as −∞."""
    m = np.asarray(matrix, dtype=np.float64)
    rows, cols = safe_labels(row_labels), safe_labels(col_labels)
    if np.isfinite(m).all():
        return pd.DataFrame(np.round(m, decimals), index=rows, columns=cols)
    return pd.DataFrame(_cell_text(m, decimals), index=rows, columns=cols)


def dot_product_table(q_i, k_j, products) -> pd.DataFrame:
    """q_i, k_j and their element-wise product, one row per dimension (the products sum to q·k)."""
    df = pd.DataFrame(
        {"q_i": q_i, "k_j": k_j, "q_i × k_j": products},
        index=[f"dim {d}" for d in range(len(products))],
    )
    return df.astype(np.float64).round(4)


def products_figure(products, *, title: str) -> go.Figure:
    """Bar chart of the element-wise products q_i[d]·k_j[d] (their sum is the score)."""
    p = np.asarray(products, dtype=np.float64)
    fig = go.Figure(
        go.Bar(
            x=[str(d) for d in range(len(p))],
            y=p,
            marker_color=[_SCALED if v >= 0 else _RAW for v in p],
            hovertemplate="dim %{x}<br>q·k term: %{y:.4f}<extra></extra>",
        )
    )
    fig.update_xaxes(title="dimension d", type="category")
    fig.update_yaxes(title="q_i[d] · k_j[d]")
    fig.update_layout(title=title, height=300, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def softmax_table(tokens: Sequence[str], logits, exps, weights) -> pd.DataFrame:
    """Row i of the softmax, key by key: scaled score, exp(score − max), weight."""
    return pd.DataFrame(
        {
            "key": safe_labels(tokens),
            "scaled score": _cell_text(np.asarray(logits, np.float64)[None, :], 4)[0],
            "exp(score − max)": np.round(np.asarray(exps, np.float64), 5),
            "weight": np.round(np.asarray(weights, np.float64), 5),
        }
    )


def _terms(contributions, output, tokens: Sequence[str]):
    """Rows a_is·v_s for every key s, then their sum out_i: ([S+1,Hv], row labels, columns)."""
    rows = np.vstack([np.asarray(contributions), np.asarray(output)[None, :]])  # [S+1,Hv]
    labels = [*(f"a·v ({t})" for t in safe_labels(tokens)), "Σ = output row"]
    return rows, labels, [str(d) for d in range(rows.shape[1])]


def contributions_figure(contributions, output, tokens: Sequence[str], *, title: str):
    """Heatmap of a_is·v_s for every key s, with their sum out_i as the last row."""
    rows, labels, cols = _terms(contributions, output, tokens)
    return step_heatmap(rows, labels, cols, title=title, x_title="dimension", y_title="term")


def contributions_table(contributions, output, tokens: Sequence[str]) -> pd.DataFrame:
    """The numbers of `contributions_figure`: each weighted value row, then their sum."""
    return matrix_table(*_terms(contributions, output, tokens))


def scaling_figure(result: dict[str, np.ndarray], n_keys: int = 16) -> go.Figure:
    """Three panels over d_k (log x): var(q·k), max softmax weight, softmax entropy."""
    titles = ("variance of q·k", f"max weight (softmax over {n_keys} keys)", "entropy (nats)")
    fig = make_subplots(rows=1, cols=3, subplot_titles=titles, horizontal_spacing=0.08)
    d = result["d_k"]
    panels = (("var", 1), ("max", 2), ("entropy", 3))
    for name, col in panels:
        for suffix, label, color in (("raw", "q·k", _RAW), ("scaled", "q·k / √d_k", _SCALED)):
            fig.add_trace(
                go.Scatter(
                    x=d,
                    y=result[f"{name}_{suffix}"],
                    mode="lines+markers",
                    name=label,
                    line=dict(color=color),
                    legendgroup=suffix,
                    showlegend=col == 1,
                    hovertemplate="d_k %{x}<br>%{y:.3f}<extra>" + label + "</extra>",
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(
            type="log", title="d_k", tickvals=list(d), ticktext=[str(v) for v in d], row=1, col=col
        )
    fig.update_yaxes(type="log", dtick=1, row=1, col=1)  # one tick per power of 10
    fig.update_yaxes(range=[0, 1.05], row=1, col=2)
    fig.update_yaxes(range=[0, 1.05 * np.log(n_keys)], row=1, col=3)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=60, b=10))
    return fig
