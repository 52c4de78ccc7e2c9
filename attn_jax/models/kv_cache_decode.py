"""Decoding token by token with a KV cache: prefill the prompt once, then one token a step.

Each step computes q, k, v for the new token only, writes k and v into the cache at its
position and lets q attend to the cached keys 0..pos; the logits equal those of running the
whole sequence again, at a cost of O(S) per step instead of O(S²).

    cache bytes = 2 (K and V) × L × K × H × tokens × bytes per number

K = N in GPT-2; a grouped-query model (the Llama layouts) caches its K key/value heads only,
its keys after RoPE (each at its own position), and with a sliding window of W a step's query
sees the cached positions pos-W+1 .. pos (the cache still keeps every position).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from attn_jax.kernels.plain import attention_weights
from attn_jax.models import llama
from attn_jax.models.block import layer_norm
from attn_jax.models.decoder import block_rest, forward_of, split_qkv, unembed
from attn_jax.models.gpt2_files import DecoderConfig
from attn_jax.models.layer_stack import layer_at, n_layers


class KVCache(NamedTuple):
    """Keys and values of every layer for `capacity` positions; `length` of them are filled."""

    keys: jax.Array  # [L,S,K,H], S = capacity (K = N unless grouped-query)
    values: jax.Array  # [L,S,K,H]
    length: jax.Array  # int32 []

    @property
    def nbytes(self) -> int:
        """Bytes held by K and V (the whole capacity, as allocated)."""
        return int(self.keys.nbytes + self.values.nbytes)


def cache_bytes(cfg: DecoderConfig, n_tokens: int, bytes_per_value: int = 4) -> int:
    """Size of a KV cache for n_tokens positions: 2 × L × K × H × tokens × bytes."""
    return 2 * cfg.n_layer * cfg.kv_heads * cfg.head_dim * n_tokens * bytes_per_value


@functools.partial(jax.jit, static_argnames=("cfg", "capacity"))
def prefill(params, ids, n_valid, cfg: DecoderConfig, capacity: int):
    """Run the prompt ids [P] (n_valid real, right-padded) and cache its keys and values.

    Returns:
      logits [P,V] (rows >= n_valid are padding), KVCache with length n_valid.
    """
    logits, _, _, ks, vs, _ = forward_of(cfg)(params, ids[None], cfg)  # ks, vs [L,1,P,K,H]
    kept = min(capacity, ids.shape[0])  # padding rows past n_valid are masked, then overwritten
    pad = ((0, 0), (0, capacity - kept), (0, 0), (0, 0))
    keys, values = (jnp.pad(a[:, 0, :kept], pad) for a in (ks, vs))  # [L,S,K,H]
    return logits[0], KVCache(keys, values, jnp.asarray(n_valid, jnp.int32))


def _cached_attention(q, keys, values, pos, window: int | None = None):
    """q [1,1,N,H] against cached keys/values [S,K,H] at positions 0..pos (the last `window`
    of them with a sliding window) -> ctx [1,1,N,H]; K/V heads are not repeated."""
    s = jnp.arange(keys.shape[0])
    visible = s <= pos if window is None else (s <= pos) & (s > pos - window)
    weights = attention_weights(q, keys[None], mask=visible[None, None, None, :])  # [1,N,1,S]
    return llama.grouped_mix(weights, values[None])


def _llama_step(params, cache: KVCache, token, cfg):
    """decode_step of the Llama layouts: RoPE at position pos, K/V heads cached."""
    pos = cache.length
    x = params["wte"][token][None, None]  # [B=1,T=1,D]
    cos, sin = llama.rope_tables(pos[None], cfg.head_dim, cfg.rope_theta)  # [1,H]
    keys, values = cache.keys, cache.values
    for i in range(n_layers(params["layers"])):
        p = layer_at(params["layers"], i)
        q, k, v = llama.qkv(x, p, cos, sin, cfg)  # q [1,1,N,H], k, v [1,1,K,H]
        keys = jax.lax.dynamic_update_slice(keys, k[None, 0], (i, pos, 0, 0))  # [L,S,K,H]
        values = jax.lax.dynamic_update_slice(values, v[None, 0], (i, pos, 0, 0))
        ctx = _cached_attention(q, keys[i], values[i], pos, cfg.sliding_window)
        x = llama.block_rest(x, ctx, p, cfg)
    return llama.unembed(x[0, 0], params, cfg), KVCache(keys, values, pos + 1)


@functools.partial(jax.jit, static_argnames=("cfg",))
def decode_step(params, cache: KVCache, token, cfg: DecoderConfig):
    """Feed one token id at position cache.length; returns (logits [V], the updated cache)."""
    if cfg.layout != "gpt2":
        return _llama_step(params, cache, token, cfg)
    pos = cache.length
    x = (params["wte"][token] + params["wpe"][pos])[None, None]  # [B=1,T=1,D]
    keys, values = cache.keys, cache.values
    for i in range(n_layers(params["layers"])):
        p = layer_at(params["layers"], i)
        q, k, v = split_qkv(layer_norm(x, p["ln_1"], cfg.layer_norm_epsilon), p, cfg)
        keys = jax.lax.dynamic_update_slice(keys, k[None, 0], (i, pos, 0, 0))  # [L,S,N,H]
        values = jax.lax.dynamic_update_slice(values, v[None, 0], (i, pos, 0, 0))
        x = block_rest(x, _cached_attention(q, keys[i], values[i], pos), p, cfg)
    return unembed(x[0, 0], params, cfg), KVCache(keys, values, pos + 1)


def generate(decoder, text: str, n_new: int, capacity: int | None = None):
    """Greedy continuation of `text` by prefill + n_new cached steps.

    Args:
      decoder: a loaded Decoder; text: a non-empty prompt; n_new: tokens to add.
      capacity: cache positions (default: prompt + n_new, at most the model's context).

    Returns:
      (ids [T+n_new] int32, step_logits [n_new,V] float32: the logits that chose each new
      token, i.e. at positions T-1 .. T+n_new-2, and the final KVCache).
    """
    ids, _ = decoder.tokenizer.encode(text)
    if not ids:
        raise ValueError("the prompt needs at least one token")
    capacity = capacity or len(ids) + n_new
    if capacity > decoder.config.n_positions or len(ids) + n_new > capacity:
        raise ValueError(f"{len(ids)} + {n_new} tokens do not fit a capacity of {capacity}")
    padded = np.zeros(decoder.bucket_for(len(ids)), np.int32)
    padded[: len(ids)] = ids
    cfg = decoder.config
    logits, cache = prefill(decoder.params, padded, len(ids), cfg=cfg, capacity=capacity)
    step_logits, out = [logits[len(ids) - 1]], list(ids)
    for _ in range(n_new):
        token = int(jnp.argmax(step_logits[-1]))
        out.append(token)
        logits, cache = decode_step(decoder.params, cache, token, cfg=cfg)
        step_logits.append(logits)
    return np.asarray(out, np.int32), np.stack(step_logits[:-1]).astype(np.float32), cache
