"""Scaled dot-product attention: softmax(QKᵀ·scale + bias, masked)·V.

The public functions validate their inputs and dispatch to small jitted helpers.
Logits and softmax are always computed in float32, whatever the input dtype.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

_NEG = float(np.finfo(np.float32).min)  # masked logits: exp(·) underflows to exactly 0


def _check(q, k, v=None, mask=None, bias=None) -> None:
    """Raise a clear ValueError when shapes do not fit q [B,T,N,H], k/v [B,S,K,H]."""
    if q.ndim != 4 or k.ndim != 4:
        raise ValueError(f"q and k must be [B,T,N,H] / [B,S,N,H], got {q.shape} and {k.shape}")
    (b, t, n, h), (bk, s, nk, hk) = q.shape, k.shape
    if b != bk or h != hk:
        raise ValueError(f"q {q.shape} and k {k.shape} differ in batch or head dim")
    if nk == 0 or n % nk:
        raise ValueError(f"query heads ({n}) must be a multiple of key/value heads ({nk})")
    if v is not None and (v.ndim != 4 or v.shape[:3] != k.shape[:3]):
        raise ValueError(f"v {v.shape} must match k {k.shape} in B, S and heads")
    for name, arr in (("mask", mask), ("bias", bias)):
        if arr is not None:
            try:
                np.broadcast_shapes(np.shape(arr), (b, n, t, s))
            except ValueError:
                raise ValueError(
                    f"{name} {np.shape(arr)} does not broadcast to [B,N,T,S]={(b, n, t, s)}"
                ) from None
    if mask is not None and jnp.asarray(mask).dtype != jnp.bool_:
        raise ValueError("mask must be boolean (True = may attend)")


def repeat_kv(x: jax.Array, n_heads: int) -> jax.Array:
    """Repeat K/V heads for their group of query heads: [B,S,K,H] -> [B,S,N,H]."""
    return jnp.repeat(x, n_heads // x.shape[2], axis=2)


def causal_mask(t: int, s: int) -> jax.Array:
    """Boolean [T,S] mask, True on and below the diagonal (query i sees keys 0..i)."""
    return jnp.tril(jnp.ones((t, s), dtype=jnp.bool_))


def window_mask(t: int, s: int, local_window_size: tuple[int, int]) -> jax.Array:
    """Boolean [T,S] band, True where query i may see key j: i - left <= j <= i + right."""
    left, right = local_window_size
    i, j = jnp.arange(t)[:, None], jnp.arange(s)[None, :]
    return (j >= i - left) & (j <= i + right)


def check_window(local_window_size) -> tuple[int, int] | None:
    """(left, right) as ints >= 0 (an int w means (w, w)), or None for no window."""
    if local_window_size is None:
        return None
    if isinstance(local_window_size, int | np.integer):
        local_window_size = (local_window_size, local_window_size)
    try:
        left, right = (int(w) for w in local_window_size)
    except (TypeError, ValueError):
        raise ValueError(
            f"local_window_size must be (left, right), got {local_window_size!r}"
        ) from None
    if left < 0 or right < 0:
        raise ValueError(f"local_window_size must be >= 0, got {(left, right)}")
    return left, right


def _combined_mask(mask, is_causal: bool, t: int, s: int, window=None):
    """Merge a user mask with the causal mask and the window band; None when nothing is masked."""
    if is_causal:
        mask = _both(mask, causal_mask(t, s))
    if window is not None:
        mask = _both(mask, window_mask(t, s, window))
    return mask


def _both(mask, extra):
    return extra if mask is None else jnp.logical_and(mask, extra)


def masked_softmax(logits: jax.Array, mask=None) -> jax.Array:
    """Softmax over the last axis in float32; masked entries and fully masked rows give 0."""
    logits = logits.astype(jnp.float32)
    if mask is not None:
        logits = jnp.where(mask, logits, _NEG)
    row_max = jax.lax.stop_gradient(jnp.max(logits, axis=-1, keepdims=True))
    # A finite row max keeps ±inf logits from giving inf - inf: an overflowed +inf logit takes
    # the row, a row of -inf gives zeros. Clipping [..., 1] is cheap; clipping every logit is not.
    row_max = jnp.clip(row_max, _NEG, -_NEG)
    # With huge logits a fused multiply-add can leave a positive residual here: cut it to 0.
    # (jnp.where, not jnp.minimum: minimum's gradient at the tie x == 0, which is every row's
    # max, is 1/2, and would halve the gradient of the largest logit.)
    shifted = logits - row_max
    exp = jnp.exp(jnp.where(shifted > 0.0, 0.0, shifted))
    if mask is not None:
        exp = jnp.where(mask, exp, 0.0)
    total = jnp.sum(exp, axis=-1, keepdims=True)
    return exp / jnp.where(total == 0.0, 1.0, total)  # a fully masked row stays all zeros


def _logits(q, k, bias, scale):
    """Scaled scores in float32: [B,T,N,H] x [B,S,K,H] -> [B,N,T,S].

    With K < N (grouped-query) the query heads of a group share their K head through the
    einsum (q as [B,K,G,T,H]), so K is never repeated in memory."""
    b, t, n, h = q.shape
    kv = k.shape[2]
    # Head-major operands ([B,N,T,H]): XLA's CPU dot is ~1.8x faster with batch dims leading.
    q_t, k_t = jnp.swapaxes(q, 1, 2), jnp.swapaxes(k, 1, 2)  # [B,N,T,H], [B,K,S,H]
    # The scale goes on q, not on the [T,S] logits: no elementwise multiply there that XLA
    # could recompute (as a fused multiply-add) differently in the max and in the exp.
    q_t = q_t * jnp.asarray(scale, q.dtype)
    if kv == n:
        logits = jnp.einsum("BNTH,BNSH->BNTS", q_t, k_t, preferred_element_type=jnp.float32)
    else:
        q_g = q_t.reshape(b, kv, n // kv, t, h)  # [B,K,G,T,H]
        logits = jnp.einsum("BKGTH,BKSH->BKGTS", q_g, k_t, preferred_element_type=jnp.float32)
        logits = logits.reshape(b, n, t, k.shape[1])  # [B,N,T,S]
    if bias is not None:
        logits = logits + jnp.asarray(bias, jnp.float32)
    return logits


@functools.partial(jax.jit, static_argnames=("is_causal", "scale", "window"))
def _weights(q, k, mask, bias, is_causal, scale, window=None):
    logits = _logits(q, k, bias, scale)  # [B,N,T,S]
    mask = _combined_mask(mask, is_causal, q.shape[1], k.shape[1], window)
    return masked_softmax(logits, mask)


@functools.partial(jax.jit, static_argnames=("is_causal", "scale", "window"))
def _attention(q, k, v, mask, bias, is_causal, scale, window=None):
    weights = _weights(q, k, mask, bias, is_causal, scale, window)  # [B,N,T,S] float32
    v_t = jnp.swapaxes(repeat_kv(v, q.shape[2]), 1, 2)  # [B,N,S,H]
    out = jnp.einsum("BNTS,BNSH->BNTH", weights.astype(v.dtype), v_t)  # [B,N,T,H]
    return jnp.swapaxes(out, 1, 2).astype(q.dtype)  # [B,T,N,H]


def _scale(scale, head_dim: int) -> float:
    return float(1.0 / np.sqrt(head_dim)) if scale is None else float(scale)


def attention_weights(
    q, k, *, mask=None, bias=None, is_causal=False, scale=None, local_window_size=None
) -> jax.Array:
    """Attention weights softmax(q·kᵀ·scale + bias) with masking.

    Args:
      q: queries [B,T,N,H]. k: keys [B,S,K,H], K divides N (grouped-query attention).
      mask: boolean, broadcastable to [B,N,T,S]; True = may attend.
      bias: added to the scaled logits, broadcastable to [B,N,T,S].
      is_causal: query i sees only keys 0..i.
      scale: multiplies the logits; default 1/sqrt(H).
      local_window_size: (left, right), or w for (w, w): query i sees only keys
        i-left … i+right (a sliding window, as in `jax.nn.dot_product_attention`); combines
        with `is_causal` and `mask`.

    Returns:
      weights [B,N,T,S] in float32; each row sums to 1, a fully masked row is all 0.
    """
    q, k = jnp.asarray(q), jnp.asarray(k)
    _check(q, k, mask=mask, bias=bias)
    window = check_window(local_window_size)
    return _weights(q, k, mask, bias, bool(is_causal), _scale(scale, q.shape[-1]), window)


def attention(
    q, k, v, *, mask=None, bias=None, is_causal=False, scale=None, local_window_size=None
) -> jax.Array:
    """Scaled dot-product attention, softmax(q·kᵀ·scale + bias)·v.

    Same arguments as `attention_weights`, plus v: values [B,S,K,H].
    Matches `jax.nn.dot_product_attention` except that a fully masked row gives 0.

    Returns:
      output [B,T,N,H] in q's dtype.
    """
    q, k, v = jnp.asarray(q), jnp.asarray(k), jnp.asarray(v)
    _check(q, k, v, mask=mask, bias=bias)
    window = check_window(local_window_size)
    scale = _scale(scale, q.shape[-1])
    return _attention(q, k, v, mask, bias, bool(is_causal), scale, window)
