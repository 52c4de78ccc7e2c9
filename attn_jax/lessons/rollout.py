"""Attention rollout (Abnar & Zuidema 2020): how attention mixes tokens over the layers.

    Â_l = ½·mean over heads of A_l + ½·I    (the residual connection carries the token itself)
    R_0 = Â_0,   R_l = Â_l · R_(l−1)

Row i of R_l says how much of token i's state after layer l traces back, through every path
of attention and residual, to each input token. It assumes the residual and the attention
mix in equal parts and ignores the values and the feed-forward layers: a summary, not a proof.
"""

from __future__ import annotations

import numpy as np


def rollout(attentions) -> np.ndarray:
    """Attention rollout over layers.

    Args:
      attentions: [L,N,T,T] attention weights (rows sum to 1), e.g. `EncoderOutput.attentions`.

    Returns:
      [L,T,T] float64: entry l is the rollout up to and including layer l; rows sum to 1.
    """
    a = np.asarray(attentions)
    if a.ndim != 4 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"attentions must be [L,N,T,T], got {a.shape}")
    n_layers, t = a.shape[0], a.shape[-1]
    heads_mean = np.stack([layer.mean(axis=0, dtype=np.float64) for layer in a])  # [L,T,T]
    mixed = 0.5 * heads_mean + 0.5 * np.eye(t)
    out = np.empty((n_layers, t, t))
    current = np.eye(t)
    for layer in range(n_layers):
        current = mixed[layer] @ current  # R_l = Â_l · R_(l−1)
        out[layer] = current
    return out
