"""Value-weighted attention (Kobayashi et al. 2020): how much a token takes, not only looks.

Head h's output for query i is Σ_j a_ij · f_h(x_j), with f_h(x_j) = v_j · W_O^h (the value
vector, bias included, projected by the head's rows of W_O). The weight a_ij says how much i
looks at j; the norm ‖a_ij · f_h(x_j)‖ = a_ij · ‖f_h(x_j)‖ says how much j moves i's state.
Large weights on [CLS], [SEP] and punctuation come with small norms in BERT-like models.

Holds: value_norms, value_weighted, row_shares, special_columns, special_value_share and
special_share. W_O by head comes from the model: `model.output_weights()` [L,N,H,D].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def value_norms(values, w_o) -> np.ndarray:
    """‖v_j · W_O^h‖ for every layer, head and token.

    Args:
      values: [L,K,T,H] value vectors after projection and bias (K divides N).
      w_o: [L,N,H,D] the output projection split by head (`model.output_weights()`).

    Returns:
      [L,N,T] float64 norms (a K/V head is shared by its group of N/K query heads).
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(w_o, dtype=np.float64)
    n_heads, n_kv = w.shape[1], v.shape[1]
    if v.shape[0] != w.shape[0] or v.shape[-1] != w.shape[2] or n_heads % n_kv:
        raise ValueError(f"values {v.shape} do not fit w_o {w.shape} ([L,K,T,H], [L,N,H,D])")
    # ‖v·W‖² = v·(W·Wᵀ)·vᵀ: an [H,H] Gram matrix per head, no [T,D] products (H << D)
    gram = np.einsum("LNHD,LNGD->LNHG", w, w)  # [L,N,H,H]
    v = v[:, np.arange(n_heads) // (n_heads // n_kv)]  # [L,N,T,H]: each head's K/V head
    squared = np.einsum("LNTH,LNHG,LNTG->LNT", v, gram, v, optimize=True)
    return np.sqrt(np.maximum(squared, 0.0))


def value_weighted(attentions, values, w_o) -> np.ndarray:
    """Kobayashi's ‖a_ij · f_h(x_j)‖ for every layer, head, query i and key j.

    Args:
      attentions: [L,N,T,S] attention weights.
      values: [L,K,S,H] value vectors (after bias); a run's `values`.
      w_o: [L,N,H,D] W_O by head; `model.output_weights()`.

    Returns:
      [L,N,T,S] norms (not weights: rows do not sum to 1; see `row_shares`), float32 for
      float32 weights (the size of the maps), else float64.
    """
    a = np.asarray(attentions)
    a = a.astype(np.result_type(a.dtype, np.float32), copy=False)
    norms = value_norms(values, w_o)  # [L,N,S]
    if norms.shape != a.shape[:2] + a.shape[-1:]:
        raise ValueError(f"attentions {a.shape} do not fit values/w_o ({norms.shape})")
    return a * norms[:, :, None, :].astype(a.dtype)


def row_shares(matrix, out: np.ndarray | None = None) -> np.ndarray:
    """Each row divided by its sum (an all-zero row stays zero): norms -> shares of a row.

    Args:
      out: where to write the shares (may be `matrix` itself, to divide in place and keep one
        copy of a large stack of maps).
    """
    m = np.asarray(matrix)
    m = m.astype(np.result_type(m.dtype, np.float32), copy=False)
    total = m.sum(axis=-1, keepdims=True)
    return np.divide(m, np.where(total > 0, total, 1.0).astype(m.dtype), out=out)


def special_columns(tokens: Sequence[str]) -> np.ndarray:
    """[T] bool: the marker tokens a model parks attention on: [CLS] and [SEP] in BERT, else
    the first token (the "attention sink" of causal models, Xiao et al. 2023)."""
    cols = np.array([tok in ("[CLS]", "[SEP]") for tok in tokens], dtype=bool)
    if not cols.any() and len(tokens):
        cols[0] = True
    return cols


def _reduce(on: np.ndarray, by: str | None):
    """[L,N,T] per-row shares -> one number, [L] (by="layer") or [L,N] (by="head")."""
    if by == "head":
        return on.mean(-1)
    if by == "layer":
        return on.reshape(on.shape[0], -1).mean(-1)
    return float(on.mean())


def special_value_share(attentions, values, w_o, tokens: Sequence[str], by: str | None = None):
    """`special_share` of the value-weighted maps (`row_shares(value_weighted(...))`),
    computed without them: each row's weighted sum on the marker columns over its weighted
    sum on all columns, as matrix-vector products (no [L,N,T,S] array is made).

    Args: as `value_weighted` (attentions [L,N,T,S], values [L,K,S,H], w_o [L,N,H,D]), then
      tokens and `by` as `special_share`.
    """
    a = np.asarray(attentions)
    norms = value_norms(values, w_o)  # float64 [L,N,S]
    if norms.shape != a.shape[:2] + a.shape[-1:]:
        raise ValueError(f"attentions {a.shape} do not fit values/w_o ({norms.shape})")
    cols = special_columns(tokens)
    total = np.matmul(a, norms.astype(a.dtype)[..., None])[..., 0].astype(np.float64)  # [L,N,T]
    on = np.matmul(a[..., cols].astype(np.float64), norms[..., cols, None])[..., 0]
    return _reduce(np.divide(on, total, out=np.zeros_like(on), where=total > 0), by)


def special_share(maps, tokens: Sequence[str], by: str | None = None):
    """Mean share of a row on the marker tokens (`special_columns`).

    Args:
      maps: [L,N,T,T] rows that sum to 1 (weights, or `row_shares` of value-weighted norms).
      tokens: the T tokens.
      by: None for one number (mean over layers, heads and queries), "layer" for [L],
        "head" for [L,N].
    """
    cols = np.asarray(maps)[..., special_columns(tokens)]  # the few marker columns, then
    on = cols.astype(np.float64).sum(-1)  # float64 [L,N,T] (not a float64 copy of the maps)
    return _reduce(on, by)
