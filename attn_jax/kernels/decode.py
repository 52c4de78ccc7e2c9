"""One generation step: a few new queries attend over a KV cache without copying it.

In generation (decode) each step adds T = 1 query and attends over the S cached keys and
values: about 4·N·S·H FLOPs for 2·S·K·H values read, so the step is bounded by memory
bandwidth, not arithmetic. Grouped-query attention (K < N key/value heads) reads N/K times
fewer bytes. Here the query heads of each group share their K/V head through the einsum
(q as [B,T,K,G,H]) instead of repeating K and V N/K times, which would copy the cache.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from attn_jax.kernels.plain import _check, _scale, masked_softmax


@functools.partial(jax.jit, static_argnames=("scale",))
def _decode(q, k, v, scale):
    b, t, n, h = q.shape
    kv = k.shape[2]
    q_g = (q * jnp.asarray(scale, q.dtype)).reshape(b, t, kv, n // kv, h)  # [B,T,K,G,H]
    logits = jnp.einsum("BTKGH,BSKH->BKGTS", q_g, k, preferred_element_type=jnp.float32)
    weights = masked_softmax(logits)  # [B,K,G,T,S] float32
    out = jnp.einsum("BKGTS,BSKH->BTKGH", weights.astype(v.dtype), v)  # [B,T,K,G,H]
    return out.reshape(b, t, n, h).astype(q.dtype)


def decode_attention(q, k, v, *, scale=None) -> jax.Array:
    """softmax(q·kᵀ·scale)·v for a few queries over a whole KV cache, K/V heads not repeated.

    Args:
      q: the new queries [B,T,N,H] (T = 1 for one generation step).
      k, v: the cached keys and values [B,S,K,H], K divides N (grouped-query attention).
      scale: multiplies the logits; default 1/sqrt(H).

    Returns:
      output [B,T,N,H] in q's dtype; equal to `attention(q, k, v)`.
    """
    q, k, v = jnp.asarray(q), jnp.asarray(k), jnp.asarray(v)
    _check(q, k, v)
    return _decode(q, k, v, _scale(scale, q.shape[-1]))


def kv_bytes_read(s: int, kv_heads: int, head_dim: int, itemsize: int, batch: int = 1) -> int:
    """Bytes of K and V one decode step reads: 2·B·S·K·H·itemsize."""
    return int(2 * batch * s * kv_heads * head_dim * itemsize)


__all__ = ["decode_attention", "kv_bytes_read"]
