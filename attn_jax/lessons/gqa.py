"""Grouped-query attention made from the real model: the encoder with fewer K/V heads.

The conversion of Ainslie et al. 2023 (GQA), before any uptraining: the K and V projection
heads of each group of N/K query heads are mean-pooled into one, weights and biases alike.
The result is a model like the original, run by the same forward pass with K < N. How much
it changes is measured, not assumed: per-head Jensen-Shannon divergence of its maps from the
original's, and the cosine similarity of the sentence embeddings (mean of the last hidden
state over the tokens, as sentence-transformers pools this model).

Holds: grouped_query (the pooled Encoder), GQAComparison, sentence_embedding, compare.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from attn_jax.lessons.heads import js_divergence
from attn_jax.models.encoder import Encoder


def _pool_heads(w, n_kv: int, head_dim: int):
    """Mean of each group of heads along the last axis: [..., N·H] -> [..., K·H]."""
    w = np.asarray(w)
    n = w.shape[-1] // head_dim
    grouped = w.reshape(*w.shape[:-1], n_kv, n // n_kv, head_dim)  # [..., K, N/K, H]
    return grouped.mean(axis=-2).reshape(*w.shape[:-1], n_kv * head_dim)


def _pooled_layers(layers: dict, d: int, n_kv: int, head_dim: int) -> dict:
    """Stacked layers whose fused [L, D, N·H + 2·K·H] Q/K/V matrices (the layout of
    `attn_jax.models.block`) have K and V pooled."""
    w, b = np.asarray(layers["w_qkv"]), np.asarray(layers["b_qkv"])
    w_q, w_k, w_v = w[..., :d], w[..., d : 2 * d], w[..., 2 * d :]
    b_q, b_k, b_v = b[..., :d], b[..., d : 2 * d], b[..., 2 * d :]
    pool = [_pool_heads(m, n_kv, head_dim) for m in (w_k, w_v, b_k, b_v)]
    return layers | {
        "w_qkv": jnp.asarray(np.concatenate([w_q, pool[0], pool[1]], axis=-1)),
        "b_qkv": jnp.asarray(np.concatenate([b_q, pool[2], pool[3]], axis=-1)),
    }


def grouped_query(encoder: Encoder, n_kv_heads: int) -> Encoder:
    """The encoder with its K/V heads mean-pooled into `n_kv_heads` groups (no uptraining).

    Args:
      encoder: a loaded MHA encoder (`attn_jax.load_model()`).
      n_kv_heads: K, a divisor of the number of heads N (N gives back the same model).

    Returns:
      a new Encoder (`.run(text)`) sharing the word table and tokenizer; it compiles its own
      forward pass per length bucket on first use, and frees it when dropped.
    """
    cfg = encoder.config
    if cfg.kv_heads != cfg.n_head:
        raise ValueError("grouped_query starts from a multi-head (MHA) encoder")
    if n_kv_heads < 1 or cfg.n_head % n_kv_heads:
        raise ValueError(f"n_kv_heads ({n_kv_heads}) must divide n_head ({cfg.n_head})")
    params = encoder.params
    layers = _pooled_layers(params["layers"], cfg.n_embd, n_kv_heads, cfg.head_dim)
    return Encoder(
        dataclasses.replace(cfg, n_kv_head=n_kv_heads),
        params | {"layers": layers},
        encoder.word_table,
        encoder.tokenizer,
        f"{encoder.source_label}, K/V heads pooled to {n_kv_heads}",
        own_jit=True,
    )


class GQAComparison(NamedTuple):
    """How a grouped-query model differs from the original on one text."""

    n_kv_heads: int
    js: np.ndarray  # [L,N] mean over query rows of the JS divergence (nats) from the original
    mean_js: float  # mean of js
    embedding_cosine: float  # cosine of the mean-pooled last hidden states


def sentence_embedding(hidden_states) -> np.ndarray:
    """Mean over tokens of the last hidden state: [L+1,T,D] -> [D]."""
    return np.asarray(hidden_states, dtype=np.float64)[-1].mean(axis=0)


def compare(original, grouped, n_kv_heads: int) -> GQAComparison:
    """Compare two runs of the same text (EncoderOutput-like: attentions, hidden_states)."""
    # one layer at a time: float64 temporaries of [N,T,T], not [L,N,T,T]
    js = np.stack(
        [
            js_divergence(a, b).mean(axis=-1)
            for a, b in zip(original.attentions, grouped.attentions, strict=True)
        ]
    )  # [L,N]
    a, b = sentence_embedding(original.hidden_states), sentence_embedding(grouped.hidden_states)
    cosine = float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-30))
    return GQAComparison(int(n_kv_heads), js, float(js.mean()), cosine)


def group_divergence(attentions, kv_group) -> tuple[float, float]:
    """(within, across): mean JS divergence (nats) between the maps of two query heads of one
    layer that share a K/V head, and of two that do not; attentions [L,N,T,T].

    A model trained with grouped-query attention shows how far heads reading the very same
    keys and values still differ: only through their queries. NaN where no such pair exists.
    """
    a = np.asarray(attentions, np.float64)
    group = np.asarray(kv_group)
    same, other = [], []
    for i in range(a.shape[1]):
        for j in range(i + 1, a.shape[1]):
            js = float(np.mean(js_divergence(a[:, i], a[:, j])))
            (same if group[i] == group[j] else other).append(js)
    return (float(np.mean(same)) if same else np.nan, float(np.mean(other)) if other else np.nan)
