"""Value-weighted attention (Kobayashi et al. 2020): how much a token takes, not only looks.

Head h's output for query i is Σ_j a_ij · f_h(x_j), with f_h(x_j) = v_j · W_O^h (the value
vector, bias included, projected by the head's rows of W_O). The weight a_ij says how much i
looks at j; the norm ‖a_ij · f_h(x_j)‖ = a_ij · ‖f_h(x_j)‖ says how much j moves i's state.
Large weights on [CLS], [SEP] and punctuation come with small norms in BERT-like models.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def value_norms(values, w_o) -> np.ndarray:
    """‖v_j · W_O^h‖ for every layer, head and token.

    Args:
      values: [L,K,T,H] value vectors after projection and bias (K divides N).
      w_o: [L,N,H,D] the output projection split by head (`Encoder.output_weights()`).

    Returns:
      [L,N,T] float64 norms (a K/V head is shared by its group of N/K query heads).
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(w_o, dtype=np.float64)
    n_heads, n_kv = w.shape[1], v.shape[1]
    if v.shape[0] != w.shape[0] or v.shape[-1] != w.shape[2] or n_heads % n_kv:
        raise ValueError(f"values {v.shape} do not fit w_o {w.shape} ([L,K,T,H], [L,N,H,D])")
    v = np.repeat(v, n_heads // n_kv, axis=1)  # [L,N,T,H]
    return np.linalg.norm(np.einsum("LNTH,LNHD->LNTD", v, w), axis=-1)


def value_weighted(attentions, values, w_o) -> np.ndarray:
    """Kobayashi's ‖a_ij · f_h(x_j)‖ for every layer, head, query i and key j.

    Args:
      attentions: [L,N,T,S] attention weights.
      values: [L,K,S,H] value vectors (after bias); `EncoderOutput.values`.
      w_o: [L,N,H,D] W_O by head; `Encoder.output_weights()`.

    Returns:
      [L,N,T,S] float64 norms (not weights: rows do not sum to 1; see `row_shares`).
    """
    a = np.asarray(attentions, dtype=np.float64)
    norms = value_norms(values, w_o)  # [L,N,S]
    if norms.shape != a.shape[:2] + a.shape[-1:]:
        raise ValueError(f"attentions {a.shape} do not fit values/w_o ({norms.shape})")
    return a * norms[:, :, None, :]


def row_shares(matrix) -> np.ndarray:
    """Each row divided by its sum (an all-zero row stays zero): norms -> shares of a row."""
    m = np.asarray(matrix, dtype=np.float64)
    total = m.sum(axis=-1, keepdims=True)
    return m / np.where(total > 0, total, 1.0)


def special_share(maps, tokens: Sequence[str], special=("[CLS]", "[SEP]")) -> float:
    """Mean over layers, heads and queries of the share of a row on the `special` tokens.

    Args:
      maps: [...,T,T] rows that sum to 1 (weights, or `row_shares` of value-weighted norms).
      tokens: the T tokens.
    """
    m = np.asarray(maps, dtype=np.float64)
    cols = np.array([tok in special for tok in tokens])
    return float(m[..., cols].sum(-1).mean()) if cols.any() else 0.0
