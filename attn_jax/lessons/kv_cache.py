"""Heads in real models, grouped-query attention on a toy input, and the size of the KV cache.

KV cache = 2 (K and V) × L layers × K kv-heads × H head dim × tokens × bytes per number.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from attn_jax.kernels.multihead import kv_group_of, multi_head_attention
from attn_jax.lessons.facts import MODEL_FACTS, MODEL_NOTES

BYTES_PER_VALUE = {"fp32": 4, "fp16 / bf16": 2, "int8": 1, "int4": 0.5}


def facts_rows() -> list[dict]:
    """The facts table as rows for a dataframe."""
    rows = []
    for name, (n_layers, n_heads, d_model, head_dim, n_kv) in MODEL_FACTS.items():
        kind = "MHA" if n_kv == n_heads else ("MQA" if n_kv == 1 else "GQA")
        rows.append(
            {
                "model": name,
                "layers": n_layers,
                "query heads": n_heads,
                "d_model": d_model,
                "head dim": head_dim,
                "KV heads": n_kv,
                "attention": kind + (f" ({MODEL_NOTES[name]})" if name in MODEL_NOTES else ""),
            }
        )
    return rows


def kv_cache_bytes(
    n_layers: int, n_kv_heads: int, head_dim: int, tokens: int, bytes_per_value: float = 2
) -> float:
    """Bytes of the KV cache for one sequence: 2 × L × K × H × tokens × bytes.

    Args:
      n_layers: L; n_kv_heads: K (= N for MHA, 1 for MQA); head_dim: H; tokens: context length.
      bytes_per_value: 2 for fp16/bf16 (default), 4 for fp32.

    Returns:
      the size in bytes (a float, since int4 uses half a byte).
    """
    for name, value in (("n_layers", n_layers), ("n_kv_heads", n_kv_heads), ("head_dim", head_dim)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if tokens < 0 or bytes_per_value <= 0:
        raise ValueError("tokens must be >= 0 and bytes_per_value > 0")
    return 2.0 * n_layers * n_kv_heads * head_dim * tokens * bytes_per_value


def model_kv_cache(name: str, tokens: int, bytes_per_value: float = 2) -> tuple[float, float]:
    """(bytes with the model's own KV heads, bytes if it used MHA: one K/V per query head)."""
    n_layers, n_heads, _, head_dim, n_kv = MODEL_FACTS[name]
    own = kv_cache_bytes(n_layers, n_kv, head_dim, tokens, bytes_per_value)
    mha = kv_cache_bytes(n_layers, n_heads, head_dim, tokens, bytes_per_value)
    return own, mha


PER_TOKENS = 1000
GQA_MODELS = ("Llama 3 8B", "Qwen3-8B", "Mistral 7B")  # grouped-query models of 2023-2025


def kv_per_thousand_rows(
    extra: dict[str, tuple[int, int, int, int]] | None = None,
    names=GQA_MODELS,
    bytes_per_value: float = 2,
) -> list[dict]:
    """KV-cache bytes per 1,000 tokens with MHA (K = N), as published (GQA) and with MQA (K = 1).

    Args:
      extra: more models, name -> (layers, query heads, head dim, K/V heads), listed first.
      names: models of MODEL_FACTS. bytes_per_value: 2 (fp16 / bf16) by default.
    """
    sizes = dict(extra or {})
    for name in names:
        n_layers, n_heads, _, head_dim, n_kv = MODEL_FACTS[name]
        sizes[name] = (n_layers, n_heads, head_dim, n_kv)
    rows = []
    for name, (n_layers, n_heads, head_dim, n_kv) in sizes.items():

        def per_1k(k: int, n_layers=n_layers, head_dim=head_dim) -> float:
            return kv_cache_bytes(n_layers, k, head_dim, PER_TOKENS, bytes_per_value)

        rows.append(
            {
                "model": name,
                "layers": n_layers,
                "query heads": n_heads,
                "K/V heads": n_kv,
                "head dim": head_dim,
                "MHA": human_bytes(per_1k(n_heads)),
                "as published": human_bytes(per_1k(n_kv)),
                "MQA": human_bytes(per_1k(1)),
                "saved vs MHA": f"{1 - n_kv / n_heads:.0%}",
            }
        )
    return rows


def human_bytes(n: float) -> str:
    """1536 -> '1.5 KiB' (binary units)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} TiB"  # unreachable; keeps type checkers happy


class ToyHeads(NamedTuple):
    """A toy multi-head run, all numpy: x [T,D], weights [N,T,T], heads [T,N,H],
    concat [T,N·H], w_o [N·H,D], output [T,D], kv_group [N] (kv head of each query head)."""

    x: np.ndarray
    weights: np.ndarray
    heads: np.ndarray
    concat: np.ndarray
    w_o: np.ndarray
    output: np.ndarray
    kv_group: list[int]


def toy_multihead(
    n_tokens: int, d_model: int, n_heads: int, n_kv_heads: int | None = None, seed: int = 0
) -> ToyHeads:
    """Multi-head (or GQA/MQA) self-attention on seeded random X and weights.

    Args:
      n_tokens: T; d_model: D (divisible by n_heads); n_heads: N; n_kv_heads: K (default N).
      seed: PRNG seed for X and the four projections.

    Returns:
      ToyHeads with the per-head weights, outputs, their concatenation and W_O.
    """
    n_kv = n_heads if n_kv_heads is None else n_kv_heads
    if d_model % n_heads:
        raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
    kv_group = kv_group_of(n_heads, n_kv)
    head_dim = d_model // n_heads
    kx, kq, kk, kv, ko = jax.random.split(jax.random.PRNGKey(seed), 5)
    scale = 1.0 / np.sqrt(d_model)
    x = jax.random.normal(kx, (1, n_tokens, d_model))  # [B,T,D]
    w_q = jax.random.normal(kq, (d_model, d_model)) * 2 * scale  # [D,N·H], *2: sharper maps
    w_k = jax.random.normal(kk, (d_model, n_kv * head_dim)) * 2 * scale  # [D,K·H]
    w_v = jax.random.normal(kv, (d_model, n_kv * head_dim)) * scale  # [D,K·H]
    w_o = jax.random.normal(ko, (d_model, d_model)) * scale  # [N·H,D]
    out, heads, weights = multi_head_attention(
        x, w_q, w_k, w_v, w_o, n_heads=n_heads, n_kv_heads=n_kv
    )
    heads = np.asarray(heads[0])  # [T,N,H]
    return ToyHeads(
        x=np.asarray(x[0]),
        weights=np.asarray(weights[0]),
        heads=heads,
        concat=heads.reshape(n_tokens, d_model),  # [T,N·H]
        w_o=np.asarray(w_o),
        output=np.asarray(out[0]),
        kv_group=kv_group,
    )
