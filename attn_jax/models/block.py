"""What the encoder's and the decoder's blocks share: sizes, LayerNorm, the fused Q|K|V layout.

Both models keep a layer's projections fused, in x·W layout:

    w_qkv [D, N·H + 2·K·H], b_qkv [N·H + 2·K·H]   columns Q | K | V; query head n at n·H
                                                   inside Q, K/V head g at g·H inside K, V
    w_o [D,D]                                      rows n·H:(n+1)·H read head n's output

K = N (multi-head) except in a grouped-query model, where query head n reads K/V head
n // (N/K). `split_qkv` cuts the fused product into heads on the device; `head_weights` and
`output_weights` read one head's slices (numpy, on the host) for the lessons.

The causal decoders also share `causal_weights` (our kernel's causal weights with softmax's
exact backward, for training) and `head_mask` (the heads to knock out -> the [L,N] mask a
forward pass multiplies into its heads' outputs before W_O).
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral

import jax
import jax.numpy as jnp
import numpy as np

from attn_jax.kernels.plain import attention_weights
from attn_jax.models.layer_stack import host_layer, n_layers


class HeadSizes:
    """head_dim and kv_heads of a config with n_embd, n_head (and, grouped-query, n_kv_head)."""

    n_embd: int
    n_head: int
    n_kv_head: int | None = None  # a plain attribute here; the encoder's config makes it a field

    @property
    def head_dim(self) -> int:
        """H = D / N."""
        return self.n_embd // self.n_head

    @property
    def kv_heads(self) -> int:
        """K, the number of key/value heads (N unless the model is grouped-query)."""
        return self.n_kv_head or self.n_head


def layer_norm(x, gain_bias, eps: float):
    """(x - mean) / sqrt(var + eps) · gain + bias over the last axis [..., D]."""
    gain, bias = gain_bias
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(var + eps) * gain + bias


def split_qkv(qkv, cfg):
    """The fused product x·w_qkv + b_qkv [..., N·H+2·K·H] -> q [..., N, H], k, v [..., K, H]."""
    n, kv, h = cfg.n_head, cfg.kv_heads, cfg.head_dim
    *lead, _ = qkv.shape
    q, k, v = jnp.split(qkv, [n * h, (n + kv) * h], axis=-1)
    return q.reshape(*lead, n, h), k.reshape(*lead, kv, h), v.reshape(*lead, kv, h)


@jax.custom_vjp
def causal_weights(q, k):
    """attention_weights(q, k, is_causal=True) [B,N,T,S], with softmax's exact backward.

    The forward pass is our kernel's; training differentiates through the weights it returned
    (d logits = w·(g - Σ g·w)), independent of how the kernel keeps its exp stable.
    """
    return attention_weights(q, k, is_causal=True)


def _causal_weights_fwd(q, k):
    weights = attention_weights(q, k, is_causal=True)
    return weights, (q, k, weights)


def _causal_weights_bwd(res, g):
    q, k, w = res
    d_logits = w * (g - jnp.sum(g * w, axis=-1, keepdims=True))  # [B,N,T,S], 0 where masked
    d_logits = d_logits / np.sqrt(q.shape[-1])
    d_q = jnp.einsum("BNTS,BSNH->BTNH", d_logits, k).astype(q.dtype)
    d_k = jnp.einsum("BNTS,BTNH->BSNH", d_logits, q).astype(k.dtype)
    return d_q, d_k


causal_weights.defvjp(_causal_weights_fwd, _causal_weights_bwd)


def head_weights(layers, cfg, layer: int, head: int) -> dict[str, np.ndarray]:
    """One query head's trained projections, read on the host from stacked layers.

    Args:
      layers: the stacked layers (`model.params["layers"]`). cfg: the model's config.
      layer, head: 0-based; in a grouped-query model, K and V are those of the head's group.

    Returns:
      float32 w_q, w_k, w_v [D,H], b_q, b_k, b_v [H] and w_o [H,D] (its rows of W_O).
    """
    n, kv, h = cfg.n_head, cfg.kv_heads, cfg.head_dim
    if not 0 <= layer < n_layers(layers):
        raise ValueError(f"layer {layer} is outside 0..{n_layers(layers) - 1}")
    if not 0 <= head < n:
        raise ValueError(f"head {head} is outside 0..{n - 1}")
    p = host_layer(layers, layer)
    w, b = np.asarray(p["w_qkv"], np.float32), np.asarray(p["b_qkv"], np.float32)
    group = head // (n // kv)  # the K/V head this query head reads
    starts = {"q": head * h, "k": (n + group) * h, "v": (n + kv + group) * h}
    out = {"w_o": np.asarray(p["w_o"], np.float32)[head * h : (head + 1) * h]}  # [H,D]
    for name, start in starts.items():
        out[f"w_{name}"] = w[:, start : start + h]  # [D,H]
        out[f"b_{name}"] = b[start : start + h]  # [H]
    return out


def output_weights(layers, cfg) -> np.ndarray:
    """W_O split by the head whose output it reads: [L,N,H,D] (rows n·H:(n+1)·H of W_O)."""
    w_o = np.asarray(layers["w_o"])  # [L,D,D]
    return w_o.reshape(w_o.shape[0], cfg.n_head, cfg.head_dim, cfg.n_embd)


def head_mask(ablate, n_layer: int, n_head: int) -> np.ndarray:
    """Heads to knock out -> float32 [L,N]: 0 at each (layer, head) in `ablate`, 1 elsewhere.

    A forward pass multiplies head n's output ctx [B,T,N,H] by mask[l, n] before W_O, so a 0
    zeroes that head's slice n·H:(n+1)·H of W_O's input (what rows n·H:(n+1)·H read).

    Args:
      ablate: None or an iterable of 0-based (layer, head) pairs of ints; repeats are allowed.
      n_layer, n_head: the model's L and N.
    """
    keep = np.ones((n_layer, n_head), np.float32)
    if ablate is None:
        return keep
    if isinstance(ablate, str | bytes) or not isinstance(ablate, Iterable):
        raise ValueError(f"ablate must be a list of (layer, head) pairs, got {type(ablate)}")
    for pair in ablate:
        pair = pair.tolist() if isinstance(pair, np.ndarray) else pair
        two = isinstance(pair, tuple | list) and len(pair) == 2
        if not (two and all(isinstance(i, Integral) and not isinstance(i, bool) for i in pair)):
            raise ValueError(f"ablate takes (layer, head) pairs of ints, e.g. [(0, 1)]: {pair!r}")
        layer, head = int(pair[0]), int(pair[1])
        if not 0 <= layer < n_layer:
            raise ValueError(f"ablate: layer {layer} is outside 0..{n_layer - 1}")
        if not 0 <= head < n_head:
            raise ValueError(f"ablate: head {head} is outside 0..{n_head - 1}")
        keep[layer, head] = 0.0
    return keep
