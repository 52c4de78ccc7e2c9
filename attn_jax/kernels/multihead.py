"""Multi-head attention from token vectors, with grouped-query attention (GQA/MQA)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from attn_jax.kernels.plain import attention_weights, repeat_kv


def split_heads(x: jax.Array, n_heads: int) -> jax.Array:
    """[B,T,D] -> [B,T,N,H] with H = D / N."""
    b, t, d = x.shape
    if d % n_heads:
        raise ValueError(f"model dim {d} is not divisible by {n_heads} heads")
    return x.reshape(b, t, n_heads, d // n_heads)  # [B,T,N,H]


def merge_heads(x: jax.Array) -> jax.Array:
    """[B,T,N,H] -> [B,T,N·H] (the concatenation of the heads)."""
    b, t, n, h = x.shape
    return x.reshape(b, t, n * h)  # [B,T,D]


def kv_group_of(n_heads: int, n_kv_heads: int) -> list[int]:
    """Which K/V head each query head reads: query head i uses kv head i // (N/K)."""
    if n_kv_heads < 1 or n_heads % n_kv_heads:
        raise ValueError(f"n_kv_heads ({n_kv_heads}) must divide n_heads ({n_heads})")
    group = n_heads // n_kv_heads
    return [i // group for i in range(n_heads)]


@functools.partial(jax.jit, static_argnames=("n_heads", "n_kv_heads", "is_causal"))
def _mha(x, w_q, w_k, w_v, w_o, mask, n_heads, n_kv_heads, is_causal):
    q = split_heads(x @ w_q, n_heads)  # [B,T,N,H]
    k = split_heads(x @ w_k, n_kv_heads)  # [B,T,K,H]
    v = split_heads(x @ w_v, n_kv_heads)  # [B,T,K,H]
    weights = attention_weights(q, k, mask=mask, is_causal=is_causal)  # [B,N,T,T]
    heads = jnp.einsum("BNTS,BSNH->BTNH", weights, repeat_kv(v, n_heads))  # [B,T,N,H]
    concat = merge_heads(heads)  # [B,T,N·H]
    return concat @ w_o, heads, weights


def multi_head_attention(
    x,
    w_q,
    w_k,
    w_v,
    w_o,
    *,
    n_heads: int,
    n_kv_heads: int | None = None,
    mask=None,
    is_causal: bool = False,
):
    """Multi-head self-attention: concat_i(softmax(Q_i K_gᵀ/√H) V_g) · W_O.

    Args:
      x: token vectors [B,T,D].
      w_q: [D, N·H]; w_k, w_v: [D, K·H] with K = n_kv_heads (default N; 1 = MQA).
      w_o: [N·H, D].
      mask: boolean, broadcastable to [B,N,T,T]; True = may attend.

    Returns:
      (output [B,T,D], per-head outputs [B,T,N,H], per-head weights [B,N,T,T]).
    """
    n_kv = n_heads if n_kv_heads is None else n_kv_heads
    kv_group_of(n_heads, n_kv)  # validates
    x = jnp.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must be [B,T,D], got {x.shape}")
    if w_q.shape[1] % n_heads or w_k.shape[1] != n_kv * (w_q.shape[1] // n_heads):
        raise ValueError("w_q must be [D, N·H] and w_k/w_v [D, K·H] with the same H")
    return _mha(x, w_q, w_k, w_v, w_o, mask, n_heads, n_kv, bool(is_causal))
