"""Figures and tables for the Math page: numpy in, go.Figure / DataFrame out. No streamlit.

Built from numpy arrays (Plotly passes them through without checking every cell), with
numbers printed only where they are readable (ui.figures.MAX_VALUE_CELLS cells at most);
every value is in the hover.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.app.text import plotly_text
from ui.figures.base import (
    ACCENT,
    ACCENT_SOFT,
    ATTN_SCALE,
    DIVERGING,
    MAX_TICK_LABELS,
    MAX_VALUE_CELLS,
    cell_text,
    safe_labels,
)

_RAW, _SCALED = "#D9534F", "#6C3FC5"  # unscaled / scaled curves; negative / positive terms
_POS, _NEG = "#2F6FC4", "#D64541"  # the diverging scale's ends: positive / negative


def _bound(m: np.ndarray) -> float:
    finite = np.abs(m[np.isfinite(m)])
    return float(finite.max()) if finite.size and finite.max() > 0 else 1.0


def _category_axis(labels: list[str], title: str) -> dict:
    every = dict(dtick=1) if len(labels) <= MAX_TICK_LABELS else {}
    return dict(title=title, type="category", categoryorder="array", categoryarray=labels, **every)


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
    """One step of the pipeline as a heatmap; masked (−∞) cells are blank and read −∞.

    Args:
      matrix: [R,C]; may hold -inf for masked logits.
      weights: True for attention weights (0..1, attention scale); False for signed
        values (diverging scale, symmetric about 0).
    """
    m = np.asarray(matrix, dtype=np.float64)
    rows, cols = safe_labels(row_labels), safe_labels(col_labels)
    bound = _bound(m)
    zmin, zmax = (0.0, 1.0) if weights else (-bound, bound)
    masked = bool(np.isneginf(m).any())
    show = m.size <= MAX_VALUE_CELLS
    text = cell_text(m, decimals) if (show or masked) else None
    value = "%{text}" if text is not None else "%{z:.4f}"
    fig = go.Figure(
        go.Heatmap(
            z=np.where(np.isfinite(m), m, np.nan),  # NaN: a blank cell (null in the JSON)
            x=cols,
            y=rows,
            zmin=zmin,
            zmax=zmax,
            colorscale=ATTN_SCALE if weights else DIVERGING,
            text=text,
            texttemplate="%{text}" if show else None,
            hovertemplate=f"{y_title or 'row'}: %{{y}}<br>{x_title or 'column'}: %{{x}}"
            f"<br>value: {value}<extra></extra>",
            colorbar=dict(thickness=14),
        )
    )
    fig.update_xaxes(**_category_axis(cols, x_title), tickangle=-60 if len(cols) > 8 else 0)
    fig.update_yaxes(**_category_axis(rows, y_title), autorange="reversed")
    fig.update_layout(
        title=title,
        height=min(max(280, 24 * len(rows) + 140), 560),
        margin=dict(l=10, r=10, t=50, b=10),
    )
    return fig


def matrix_table(matrix, row_labels: Sequence[str], col_labels: Sequence[str], decimals=4):
    """The numbers of a matrix as a DataFrame; -inf (masked) shown as −∞."""
    m = np.asarray(matrix, dtype=np.float64)
    rows, cols = safe_labels(row_labels), safe_labels(col_labels)
    if np.isfinite(m).all():
        return pd.DataFrame(np.round(m, decimals), index=rows, columns=cols)
    return pd.DataFrame(cell_text(m, decimals), index=rows, columns=cols)


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
            x=np.arange(len(p)),
            y=p,
            marker_color=np.where(p >= 0, _POS, _NEG),
            hovertemplate="dim %{x}<br>q·k term: %{y:.4f}<extra></extra>",
        )
    )
    fig.update_xaxes(title="dimension d", dtick=1 if len(p) <= MAX_TICK_LABELS else None)
    fig.update_yaxes(title="q_i[d] · k_j[d]", zeroline=True)
    fig.update_layout(title=title, height=300, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def row_weights_figure(weights, labels: Sequence[str], *, title: str, highlight: int):
    """One row's weights as bars on an axis fitted to the data; the chosen key in full colour."""
    w = np.nan_to_num(np.asarray(weights, dtype=np.float64))
    xs = safe_labels(labels)
    few = len(xs) <= 24  # numbers above the bars only while they fit
    fig = go.Figure(
        go.Bar(
            x=xs,
            y=w,
            marker_color=[ACCENT if n == highlight else ACCENT_SOFT for n in range(len(xs))],
            text=[f"{v:.2f}" for v in w] if few else None,
            textposition="outside",
            cliponaxis=False,
            hovertemplate="key: %{x}<br>weight: %{y:.4f}<extra></extra>",
        )
    )
    fig.update_xaxes(**_category_axis(xs, ""), tickangle=-60)
    fig.update_yaxes(title="weight", range=[0, max(float(w.max(initial=0)), 1e-3) * 1.18])
    fig.update_layout(title=plotly_text(title), height=330, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def softmax_table(tokens: Sequence[str], logits, exps, weights) -> pd.DataFrame:
    """Row i of the softmax, key by key: scaled score, exp(score − max), weight."""
    return pd.DataFrame(
        {
            "key": safe_labels(tokens),
            "scaled score": cell_text(np.asarray(logits, np.float64)[None, :], 4)[0],
            "exp(score − max)": np.round(np.asarray(exps, np.float64), 5),
            "weight": np.round(np.asarray(weights, np.float64), 5),
        }
    )


def top_dimensions(products, n: int = 3) -> list[tuple[int, float]]:
    """The n dimensions d with the largest |q_i[d]·k_j[d]|, as (d, term), largest first."""
    p = np.asarray(products, dtype=np.float64)
    order = np.argsort(-np.abs(p), kind="stable")[:n]
    return [(int(d), float(p[d])) for d in order]


def qk_view_figure(
    q_i, k, weights, scale: float, keys: Sequence[str], *, query: str, highlight: int
) -> go.Figure:
    """The query/key view: q_i, every key's k_j, their products q_i∘k_j, the sums, the weights.

    Args:
      q_i: [H] the query. k: [S,H] the keys. weights: [S] the softmax row.
      scale: 1/(√H·τ): q·k times this is the scaled score.
      keys: S key labels; query: the query's label; highlight: the chosen key j.
    """
    q, kk = np.asarray(q_i, np.float64), np.asarray(k, np.float64)
    prod = kk * q[None, :]  # [S,H] q_i∘k_j, element by element
    dots = prod.sum(axis=1)  # [S]
    ys, dims = safe_labels(keys), np.arange(q.shape[0])
    fig = make_subplots(
        rows=2,
        cols=4,
        shared_yaxes=True,
        row_heights=[0.08, 0.92],
        column_widths=[0.3, 0.3, 0.2, 0.2],
        horizontal_spacing=0.03,
        vertical_spacing=0.04,
        subplot_titles=("q_i, k_j", "q_i∘k_j", "scaled q·k", "weight"),
    )
    heat = dict(colorscale=DIVERGING, showscale=False)
    qb, kb, pb = _bound(q), _bound(kk), _bound(prod)
    fig.add_trace(
        go.Heatmap(
            z=q[None, :], x=dims, y=[safe_labels([query])[0]], zmin=-qb, zmax=qb, **heat,
            hovertemplate="query dim %{x}: %{z:.4f}<extra></extra>",
        ),
        row=1, col=1,
    )  # fmt: skip
    for col, (z, b, name) in enumerate(((kk, kb, "k_j[d]"), (prod, pb, "q_i[d]·k_j[d]")), 1):
        fig.add_trace(
            go.Heatmap(
                z=z, x=dims, y=ys, zmin=-b, zmax=b, **heat,
                hovertemplate=f"key %{{y}}, dim %{{x}}<br>{name}: %{{z:.4f}}<extra></extra>",
            ),
            row=2, col=col,
        )  # fmt: skip
    colors = [ACCENT if n == highlight else ACCENT_SOFT for n in range(len(ys))]
    fig.add_trace(
        go.Bar(
            x=dots * scale,
            y=ys,
            orientation="h",
            marker_color=np.where(np.arange(len(ys)) == highlight, _POS, "rgba(47,111,196,0.45)"),
            customdata=dots,
            hovertemplate="key %{y}<br>q·k = %{customdata:.4f}<br>scaled = %{x:.4f}<extra></extra>",
        ),
        row=2,
        col=3,
    )
    fig.add_trace(
        go.Bar(
            x=np.asarray(weights, np.float64),
            y=ys,
            orientation="h",
            marker_color=colors,
            hovertemplate="key %{y}<br>weight %{x:.4f}<extra></extra>",
        ),
        row=2,
        col=4,
    )
    every = dict(dtick=1) if len(ys) <= MAX_TICK_LABELS else {}
    fig.update_yaxes(type="category", autorange="reversed", **every, row=2)
    fig.update_yaxes(showticklabels=True, row=1, col=1)
    fig.update_xaxes(showticklabels=False, row=1, col=1)
    for col in (2, 3, 4):  # the query row has only q_i: the other cells of row 1 stay empty
        fig.update_xaxes(visible=False, row=1, col=col)
        fig.update_yaxes(visible=False, row=1, col=col)
    fig.update_xaxes(matches="x", row=2, col=1)
    for col in (1, 2):
        fig.update_xaxes(title="dimension d", row=2, col=col)
    fig.update_xaxes(zeroline=True, row=2, col=3)
    fig.update_layout(
        height=min(max(360, 22 * len(ys) + 170), 900),
        margin=dict(l=10, r=10, t=40, b=10),
        showlegend=False,
        bargap=0.15,
    )
    return fig


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


def residual_figure(norms, weights, tokens: Sequence[str], *, title: str, highlight: int):
    """Per key s: its weight a_is and the length ‖a_is·v_s·W_O‖ of what it adds to the
    residual stream (a big weight on a small vector moves little)."""
    xs = safe_labels(tokens)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=xs,
            y=np.asarray(norms, np.float64),
            name="‖a·v·W_O‖",
            marker_color=[ACCENT if n == highlight else ACCENT_SOFT for n in range(len(xs))],
            hovertemplate="key %{x}<br>‖a·v·W_O‖ = %{y:.4f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=np.asarray(weights, np.float64),
            name="weight a",
            mode="markers+lines",
            line=dict(color=_RAW, width=1),
            hovertemplate="key %{x}<br>weight %{y:.4f}<extra></extra>",
        ),
        secondary_y=True,
    )
    fig.update_xaxes(**_category_axis(xs, ""), tickangle=-60)
    fig.update_yaxes(title="‖a·v·W_O‖", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(title="weight", rangemode="tozero", showgrid=False, secondary_y=True)
    fig.update_layout(
        title=plotly_text(title),
        height=340,
        margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"),
    )
    return fig


def scaling_figure(result: dict[str, np.ndarray], n_keys: int = 16) -> go.Figure:
    """Three panels over d_k (log x): var(q·k), max softmax weight, softmax entropy."""
    titles = ("variance of q·k", f"max weight ({n_keys} keys)", "entropy (nats)")
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
    fig.update_layout(
        height=360,
        margin=dict(l=10, r=10, t=60, b=10),
        legend=dict(orientation="h", y=-0.25, x=0),
    )
    return fig


STEP_NAMES = ("X", "W_Q", "W_K", "W_V", "Q", "K", "V", "QKᵀ", "÷√d_k", "mask", "softmax", "A·V")
MODEL_STEP = "A·V·W_O"  # the head's share of the attention output (trained models only)


def pipeline_step(name: str, steps, tokens: Sequence[str], *, tau: float = 1.0,
                  rope: bool = False):  # fmt: skip
    """One step of the pipeline: (figure, LaTeX, note, matrix, row labels, column labels).

    Args:
      name: one of STEP_NAMES, or MODEL_STEP when `steps.projected` is set.
      steps: an attn_jax AttentionSteps. tokens: its T token labels. tau: the temperature.
      rope: the steps' q and k are rotated by position (RoPE) after X·W_Q and X·W_K.
    """
    n, d = steps.x.shape
    h, hv = steps.q.shape[1], steps.v.shape[1]
    dims, hdims = [str(c) for c in range(d)], [str(c) for c in range(h)]
    keys = dict(x_title="key", y_title="query")
    biased = bool(np.any(steps.b_q) or np.any(steps.b_k) or np.any(steps.b_v))
    trained = biased or steps.w_o is not None  # random weights have neither
    plus_b = {w: f" + b_{{{w}}}" if biased else "" for w in "QKV"}  # biases where there are
    spec = {
        "X": (steps.x, tokens, dims, f"X [T={n}, D={d}]", r"X \in \mathbb{R}^{T \times D}",
              "One row per token.", dict(x_title="dimension")),
        "QKᵀ": (steps.scores, tokens, tokens, f"QKᵀ [T={n}, S={n}]",
                r"S = Q K^\top,\quad S_{ij} = q_i \cdot k_j", "How well query i matches key j.",
                keys),
        "÷√d_k": (steps.scaled, tokens, tokens, f"QKᵀ / (√d_k·τ) [T={n}, S={n}]",
                  rf"\frac{{QK^\top}}{{\sqrt{{d_k}}\,\tau}},\quad \sqrt{{{h}}}\cdot{tau:g}"
                  rf" = {1 / steps.scale:.4g}",
                  "Dividing by √d_k keeps the scores' spread about 1 whatever d_k.", keys),
        "mask": (steps.masked, tokens, tokens, f"masked [T={n}, S={n}]",
                 r"\tilde S_{ij} = \begin{cases} S_{ij} & j \le i \\ -\infty & j > i \end{cases}"
                 if not steps.mask.all() else r"\tilde S = S \quad \text{(no mask)}",
                 "Masked cells are −∞, so their weight is exactly 0." if not steps.mask.all()
                 else "Nothing is masked: every query sees every key.", keys),
        "softmax": (steps.weights, tokens, tokens, f"softmax weights A [T={n}, S={n}]",
                    r"A_{ij} = \frac{e^{\tilde S_{ij}}}{\sum_s e^{\tilde S_{is}}}",
                    "Each row is a probability distribution over the keys: it sums to 1.",
                    dict(keys, weights=True)),
        "A·V": (steps.output, tokens, [str(c) for c in range(hv)],
                f"output A·V [T={n}, d_k={hv}]",
                r"\mathrm{out} = A V,\quad \mathrm{out}_i = \sum_j A_{ij}\, v_j",
                "Each token's new vector: a weighted mix of the value rows.", {}),
    }  # fmt: skip
    for w in ("Q", "K", "V"):
        spec[f"W_{w}"] = (
            getattr(steps, f"w_{w.lower()}"), dims, hdims, f"W_{w} [D={d}, d_k={h}]",
            rf"W_{{{w}}} \in \mathbb{{R}}^{{D \times d_k}}",
            "Learned in training." if trained else "Drawn from the seed here.",
            dict(x_title="head dim", y_title="dimension"),
        )  # fmt: skip
        spec[w] = (
            getattr(steps, w.lower()), tokens, hdims, f"{w} = X·W_{w} [T={n}, d_k={h}]",
            rf"{w} = X W_{{{w}}}{plus_b[w]}", f"Row i of {w} belongs to token i.", {},
        )  # fmt: skip
        if rope and w in "QK":
            spec[w] = (
                *spec[w][:3], f"{w} = RoPE(X·W_{w}) [T={n}, d_k={h}]",
                rf"{w}_i = \mathrm{{RoPE}}(x_i W_{{{w}}},\ i)",
                f"Row i of {w} belongs to token i, turned by its position i (the RoPE step).",
                {},
            )  # fmt: skip
    if steps.projected is not None:
        spec[MODEL_STEP] = (
            steps.projected, tokens, dims, f"A·V·W_O[head rows] [T={n}, D={d}]",
            r"\mathrm{out}\, W_O^{(h)} \in \mathbb{R}^{T \times D}",
            "This head's share of the attention output, added to the residual stream (with "
            "the other heads' shares and W_O's bias).", dict(x_title="dimension"),
        )  # fmt: skip
    matrix, rows, cols, title, latex, note, kw = spec[name]
    fig = step_heatmap(matrix, rows, cols, title=title, **kw)
    return fig, latex, note, matrix, rows, cols
