"""Attention with every intermediate kept, for teaching: X -> Q,K,V -> scores -> weights -> out."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from attn_jax.core import _NEG, causal_mask, masked_softmax


@dataclass(frozen=True)
class AttentionSteps:
    """Every matrix of single-head attention, as numpy (T tokens, D model dim, H head dim)."""

    x: np.ndarray  # [T,D] token vectors
    w_q: np.ndarray  # [D,H]
    w_k: np.ndarray  # [D,H]
    w_v: np.ndarray  # [D,Hv]
    q: np.ndarray  # [T,H] = X·W_Q
    k: np.ndarray  # [T,H] = X·W_K
    v: np.ndarray  # [T,Hv] = X·W_V
    scores: np.ndarray  # [T,T] = Q·Kᵀ
    scaled: np.ndarray  # [T,T] = Q·Kᵀ / (√H · temperature)
    masked: np.ndarray  # [T,T] scaled, with -inf where masked (shown as such)
    weights: np.ndarray  # [T,T] softmax of each row
    output: np.ndarray  # [T,Hv] = weights·V
    mask: np.ndarray  # [T,T] bool, True = may attend
    scale: float  # 1/(√H · temperature)


@functools.partial(jax.jit, static_argnames=("is_causal",))
def _steps(x, w_q, w_k, w_v, mask, scale, is_causal):
    q, k, v = x @ w_q, x @ w_k, x @ w_v  # [T,H], [T,H], [T,Hv]
    scores = q @ k.T  # [T,T]
    scaled = scores * scale
    t = x.shape[0]
    full = jnp.ones((t, t), jnp.bool_) if mask is None else mask
    full = jnp.logical_and(full, causal_mask(t, t)) if is_causal else full
    masked = jnp.where(full, scaled, _NEG)
    weights = masked_softmax(scaled, full)
    return q, k, v, scores, scaled, masked, weights, weights @ v, full


def attention_steps(x, w_q, w_k, w_v, *, is_causal=False, temperature=1.0, mask=None):
    """Single-head attention with every step returned.

    weights = softmax(X·W_Q (X·W_K)ᵀ / (√H · temperature)), output = weights · X·W_V.

    Args:
      x: [T,D]; w_q, w_k: [D,H]; w_v: [D,Hv]; mask: optional bool [T,T], True = may attend.
      temperature: > 0; above 1 flattens the softmax, below 1 sharpens it.

    Returns:
      AttentionSteps (numpy, float32); masked logits are -inf in `masked`.
    """
    x, w_q, w_k, w_v = (np.asarray(a, np.float32) for a in (x, w_q, w_k, w_v))
    if x.ndim != 2 or w_q.shape != w_k.shape or w_q.shape[0] != x.shape[1]:
        raise ValueError(f"need x [T,D] and w_q, w_k [D,H]; got {x.shape}, {w_q.shape}")
    if w_v.shape[0] != x.shape[1]:
        raise ValueError(f"w_v must be [D,Hv], got {w_v.shape}")
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    scale = float(1.0 / (np.sqrt(w_q.shape[1]) * temperature))
    out = _steps(x, w_q, w_k, w_v, mask, jnp.float32(scale), bool(is_causal))
    q, k, v, scores, scaled, masked, weights, output, full = (np.asarray(a) for a in out)
    masked = np.where(full, masked, -np.inf).astype(np.float32)
    return AttentionSteps(
        x, w_q, w_k, w_v, q, k, v, scores, scaled, masked, weights, output, full, scale
    )
