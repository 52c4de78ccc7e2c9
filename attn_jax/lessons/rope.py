"""The RoPE step of one head, for teaching: q and k before and after the rotation, one pair of
dimensions as 2-D vectors, and why the rotated score depends only on the offset m − n.

RoPE turns each pair of dimensions of a query or key at position m by the angle m·θ_i,
θ_i = base^(−2i/H) (Su et al. 2021, "RoFormer"). The pairs follow the model's convention
(Hugging Face's Llama code, `attn_jax.models.llama.rotate`): dimension i (< H/2) pairs with
i + H/2, not with 2i + 1 as in the paper; the rotation is the same on permuted dimensions.
Rotating q_m by m·θ and k_n by n·θ leaves q_m·k_n depending on m and n only through m − n:

    RoPE(q, m) · RoPE(k, n) = Σ_i (q_i k_i + q_i' k_i') cos((m−n)θ_i)
                                  + (q_i k_i' − q_i' k_i) sin((m−n)θ_i)

with i' = i + H/2. Everything here is numpy float32 (float64 where noted) on the host.

Holds: RopeSteps, frequencies, rotate_at, rope_steps, pair_vectors, offset_dots,
offset_curve, offset_means, decay_bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attn_jax.models.llama import rope_tables, rotate


@dataclass(frozen=True)
class RopeSteps:
    """One head's RoPE step (T tokens, H head dim): what goes in and what the scores use."""

    q_raw: np.ndarray  # [T,H] X·W_Q, before the rotation
    k_raw: np.ndarray  # [T,H] X·W_K of the head's K/V group, before the rotation
    q: np.ndarray  # [T,H] RoPE(q_raw): what the scores use
    k: np.ndarray  # [T,H] RoPE(k_raw)
    cos: np.ndarray  # [T,H] cos(m·θ_i), repeated for both halves
    sin: np.ndarray  # [T,H]
    theta: np.ndarray  # [H/2] θ_i = base^(−2i/H), radians per position
    angles: np.ndarray  # [T,H/2] m·θ_i
    base: float  # rope_theta
    kv_group: int = 0  # the K/V head whose keys these are (grouped-query attention)


def frequencies(head_dim: int, base: float) -> np.ndarray:
    """θ_i = base^(−2i/H) for i = 0 … H/2 − 1, float64 [H/2] (radians per position)."""
    if head_dim < 2 or head_dim % 2:
        raise ValueError(f"RoPE needs an even head dim, got {head_dim}")
    return base ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)


def rotate_at(x, positions, base: float) -> np.ndarray:
    """Each row x[t] [H] rotated as if it stood at positions[t]: [T,H] -> [T,H] float32."""
    x = np.asarray(x, np.float32)
    cos, sin = rope_tables(np.asarray(positions), x.shape[-1], base, xp=np)
    return rotate(x[:, None], cos, sin, xp=np)[:, 0]


def rope_steps(q_raw, k_raw, base: float, kv_group: int = 0) -> RopeSteps:
    """RoPE on one head's queries and keys at positions 0 … T−1.

    Args:
      q_raw, k_raw: [T,H] before the rotation (X·W_Q, X·W_K). base: rope_theta.

    Returns:
      RopeSteps; its q, k equal the model's rotated queries and keys.
    """
    q_raw, k_raw = (np.asarray(a, np.float32) for a in (q_raw, k_raw))
    if q_raw.ndim != 2 or q_raw.shape != k_raw.shape:
        raise ValueError(f"need q and k [T,H] of one shape; got {q_raw.shape}, {k_raw.shape}")
    t, h = q_raw.shape
    theta = frequencies(h, base)
    cos, sin = rope_tables(np.arange(t), h, base, xp=np)
    q, k = (rotate(a[:, None], cos, sin, xp=np)[:, 0] for a in (q_raw, k_raw))
    angles = np.arange(t)[:, None] * theta[None, :]  # [T,H/2]
    return RopeSteps(q_raw, k_raw, q, k, cos, sin, theta, angles, float(base), int(kv_group))


def pair_vectors(x, pair: int) -> np.ndarray:
    """Pair `pair` of every row of x [T,H] as a 2-D vector: (x[:, i], x[:, i + H/2]) [T,2]."""
    x = np.asarray(x)
    half = x.shape[-1] // 2
    if not 0 <= pair < half:
        raise ValueError(f"pair {pair} is outside 0..{half - 1}")
    return np.stack([x[:, pair], x[:, pair + half]], axis=-1)


def offset_dots(q, k, offsets, n_positions: int, base: float) -> np.ndarray:
    """One query vector q [H] and one key vector k [H] placed at every (m, n) with m − n = d:
    RoPE(q, m) · RoPE(k, n) for n = 0 … n_positions−1, one row per offset d.

    Returns:
      [len(offsets), n_positions] float64, NaN where m = n + d is past the last position.
    """
    if any(d < 0 for d in offsets):
        raise ValueError("offsets must be >= 0 (the query at or after the key)")
    q, k = np.asarray(q, np.float32), np.asarray(k, np.float32)
    n = np.arange(n_positions)
    k_rot = rotate_at(np.repeat(k[None], n_positions, 0), n, base).astype(np.float64)
    q_rot = rotate_at(np.repeat(q[None], n_positions, 0), n, base).astype(np.float64)
    out = np.full((len(offsets), n_positions), np.nan)
    for row, d in enumerate(offsets):
        fits = n + d < n_positions  # the query stands d positions after the key
        out[row, fits] = np.einsum("nh,nh->n", q_rot[n[fits] + d], k_rot[fits])
    return out


def offset_curve(q, k, n_offsets: int, base: float) -> np.ndarray:
    """RoPE(q, d) · RoPE(k, 0) for d = 0 … n_offsets−1: the score against the offset alone
    (the same at any absolute position). [n_offsets] float64."""
    d = np.arange(n_offsets)
    q_rot = rotate_at(np.repeat(np.asarray(q, np.float32)[None], n_offsets, 0), d, base)
    return q_rot.astype(np.float64) @ np.asarray(k, np.float64)


def offset_means(scores, mask) -> np.ndarray:
    """The head's real scores averaged by offset: mean of scores[m, m − d] over the allowed
    cells, d = 0 … T−1 (NaN where none is allowed). scores, mask [T,T] -> [T] float64."""
    s, ok = np.asarray(scores, np.float64), np.asarray(mask, bool)
    t = s.shape[0]
    out = np.full(t, np.nan)
    for d in range(t):
        diag, allowed = np.diagonal(s, -d), np.diagonal(ok, -d)
        if allowed.any():
            out[d] = diag[allowed].mean()
    return out


def decay_bound(n_offsets: int, head_dim: int, base: float) -> np.ndarray:
    """RoFormer's relative upper bound on |q·k| at offset d (its section 3.4.3):
    (1/(H/2)) Σ_j |Σ_{i<j} e^{i·d·θ_i}|, j = 1 … H/2, for d = 0 … n_offsets−1. It decays
    (with wiggles) as d grows; a particular q, k need not. [n_offsets] float64."""
    theta = frequencies(head_dim, base)
    phases = np.exp(1j * np.arange(n_offsets)[:, None] * theta[None, :])  # [n,H/2]
    return np.abs(np.cumsum(phases, axis=1)).mean(axis=1)
