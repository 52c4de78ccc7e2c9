"""Ring attention: one sequence split over the devices of a mesh axis (context parallelism).

Liu, Zaharia & Abbeel 2023, "Ring Attention with Blockwise Transformers": each of the P
devices keeps its block of T/P queries and holds one block of S/P keys and values at a time.
At every one of the P steps it folds the block it holds into its queries' online softmax
(the memory-efficient kernel's update) and passes the block on to the next device with
`jax.lax.ppermute`. After P steps every query has seen every key, and no device ever held
the whole sequence's keys or any [T,S] matrix.

The distributed runtime is JAX's own: `jax.shard_map` over a `jax.sharding.Mesh`. The same
code runs on forced CPU host devices, several GPUs or a TPU slice (and across hosts after
`jax.distributed.initialize()`).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from attn_jax.kernels.memory_efficient import DEFAULT_K_CHUNK, _pad_chunks, online_softmax_step
from attn_jax.kernels.plain import _check, _scale, repeat_kv


def _heads_first(x):
    """[B,T,N,H] -> [B·N,T,H]: heads as batch, the memory-efficient kernel's layout."""
    b, t, n, h = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b * n, t, h)


def _fold_block(carry, q_g, q_pos, k_g, v_g, k_start, s_p, is_causal, k_chunk):
    """Fold one arriving key/value block [G,Sp,H] into the carry, k_chunk keys at a time.

    Chunking the block keeps each device's scores at [G,Tp,k_chunk]: its memory then falls
    like 1/P with the block, as the keys and values do.
    """
    k_chunks, v_chunks = _pad_chunks(k_g, k_chunk), _pad_chunks(v_g, k_chunk)  # [C,G,kc,H]

    def chunk(c, carry):
        local = c * k_chunk + jnp.arange(k_chunk)  # positions inside the block [kc]
        logits = jnp.einsum(
            "GTH,GSH->GTS", q_g, k_chunks[c], preferred_element_type=jnp.float32
        )  # [G,Tp,kc]
        visible = (local < s_p)[None, :]
        if is_causal:
            visible = visible & ((k_start + local)[None, :] <= q_pos[:, None])  # [Tp,kc]
        logits = jnp.where(visible, logits, -jnp.inf)
        return online_softmax_step(carry, logits, v_chunks[c], guard=True)

    return jax.lax.fori_loop(0, k_chunks.shape[0], chunk, carry)


def _ring_step(q_g, q_pos, n_heads, p, axis_name, is_causal, k_chunk, step, state):
    """Fold the key/value block held now into the online softmax, then pass it on."""
    carry, k_blk, v_blk = state  # k_blk, v_blk [B,Sp,K,H]: the block that started on `src`
    src = (jax.lax.axis_index(axis_name) - step) % p
    s_p = k_blk.shape[1]
    k_g = _heads_first(repeat_kv(k_blk, n_heads))  # [G,Sp,H]
    v_g = _heads_first(repeat_kv(v_blk, n_heads))
    kc = min(k_chunk, s_p)
    carry = _fold_block(carry, q_g, q_pos, k_g, v_g, src * s_p, s_p, is_causal, kc)
    ring = [(i, (i + 1) % p) for i in range(p)]  # device i sends to device i + 1
    k_blk, v_blk = jax.lax.ppermute((k_blk, v_blk), axis_name, ring)
    return carry, k_blk, v_blk


def _ring_local(q, k, v, *, axis_name, p, is_causal, scale, k_chunk):
    """Per-device body: q [B,Tp,N,H], k/v [B,Sp,K,H] (this device's blocks) -> [B,Tp,N,H]."""
    b, t_p, n, h = q.shape
    q_g = _heads_first(q * jnp.asarray(scale, q.dtype))  # [G,Tp,H]
    me = jax.lax.axis_index(axis_name)
    q_pos = me * t_p + jnp.arange(t_p)  # global query positions [Tp]
    # built from q_g, so the carry varies over the mesh axis as the loop's outputs do
    zeros = jnp.zeros_like(q_g, jnp.float32)  # [G,Tp,H]
    carry = (zeros[..., 0] - jnp.inf, zeros[..., 0], zeros)
    step = functools.partial(_ring_step, q_g, q_pos, n, p, axis_name, is_causal, k_chunk)
    (_, l, acc), _, _ = jax.lax.fori_loop(0, p, step, (carry, k, v))
    out = acc / jnp.where(l == 0.0, 1.0, l)[..., None]  # [G,Tp,H]
    return out.reshape(b, n, t_p, h).transpose(0, 2, 1, 3).astype(q.dtype)  # [B,Tp,N,H]


@functools.cache
def ring_fn(mesh: Mesh, axis_name: str, is_causal: bool, scale: float, k_chunk: int):
    """The jitted shard_map program (cached per mesh and options); takes q, k, v."""
    p = mesh.shape[axis_name]
    spec = PartitionSpec(None, axis_name, None, None)  # split the sequence axis
    body = functools.partial(
        _ring_local, axis_name=axis_name, p=p, is_causal=is_causal, scale=scale,
        k_chunk=k_chunk,
    )  # fmt: skip
    return jax.jit(jax.shard_map(body, mesh=mesh, in_specs=(spec,) * 3, out_specs=spec))


def sequence_sharding(mesh: Mesh, axis_name: str) -> NamedSharding:
    """The sharding ring attention expects: [B,T,N,H] split along T over `axis_name`."""
    return NamedSharding(mesh, PartitionSpec(None, axis_name, None, None))


def ring_attention(
    q,
    k,
    v,
    *,
    mesh: Mesh,
    axis_name: str,
    is_causal: bool = False,
    scale: float | None = None,
    k_chunk: int = DEFAULT_K_CHUNK,
):
    """Exact attention with the sequence split over the devices of one mesh axis.

    Args:
      q: queries [B,T,N,H]; k, v: keys and values [B,S,K,H], K divides N (grouped-query).
        T and S must be multiples of P = mesh.shape[axis_name]. Arrays already placed with
        `sequence_sharding(mesh, axis_name)` stay where they are; others are split.
      mesh: a `jax.sharding.Mesh`; axis_name: the mesh axis the sequence is split over.
      is_causal: query i sees only keys 0..i (global positions, top-left aligned).
      scale: multiplies the logits; default 1/sqrt(H).
      k_chunk: each arriving block is folded in this many keys at a time (bounds the scores).

    Returns:
      output [B,T,N,H] in q's dtype, split along T like q; equal to `attention` (~1e-6).
    """
    q, k, v = jnp.asarray(q), jnp.asarray(k), jnp.asarray(v)
    _check(q, k, v)
    if axis_name not in mesh.shape:
        raise ValueError(f"mesh has axes {tuple(mesh.shape)}, not {axis_name!r}")
    p = mesh.shape[axis_name]
    if q.shape[1] % p or k.shape[1] % p:
        raise ValueError(f"T={q.shape[1]} and S={k.shape[1]} must be multiples of P={p}")
    if k_chunk < 1:
        raise ValueError(f"k_chunk must be positive, got {k_chunk}")
    fn = ring_fn(mesh, axis_name, bool(is_causal), _scale(scale, q.shape[-1]), int(k_chunk))
    return fn(q, k, v)


__all__ = ["ring_attention", "sequence_sharding"]
