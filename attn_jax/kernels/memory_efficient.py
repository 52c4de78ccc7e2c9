"""Memory-efficient attention: chunked over queries and keys with an online softmax.

Rabe & Staats 2021, "Self-attention does not need O(n²) memory": for each block of queries,
walk over blocks of keys keeping a running max m, a running sum l and a running output acc:

    m' = max(m, rowmax(s))   p = exp(s - m')   l' = l·exp(m - m') + rowsum(p)
    acc' = acc·exp(m - m') + p·V   ...   out = acc / l

Only one [G, Tq, Sk] block of scores exists at a time (G = B·N heads as batch), never [T,S].
Ragged lengths are padded up to the chunk sizes; padded keys get a -inf logit, padded queries
are cut off. With `is_causal`, key blocks entirely above the diagonal are skipped.
"""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np

from attn_jax.kernels.plain import _check, _scale, check_window, repeat_kv

# Tuned on a 2-core CPU, float32, N=8, H=64 (`python -m attn_jax.bench kernels --configs ...`):
# of the sizes tried (64..4096 queries x 128..2048 keys) 512x256 was among the fastest; two or
# four lanes were no faster than one there (XLA's dots already use both cores).
DEFAULT_Q_CHUNK = 512
DEFAULT_K_CHUNK = 256
DEFAULT_LANES = 1


def _pad_chunks(x: jax.Array, chunk: int) -> jax.Array:
    """[G,T,H] -> [C,G,chunk,H] with T padded up to C·chunk (zeros)."""
    g, t, h = x.shape
    c = -(-t // chunk)
    x = jnp.pad(x, ((0, 0), (0, c * chunk - t), (0, 0)))  # [G,C·chunk,H]
    return x.reshape(g, c, chunk, h).transpose(1, 0, 2, 3)  # [C,G,chunk,H]


def online_softmax_step(carry, logits, v_blk, *, guard: bool = False):
    """Fold one block of scores into (m [G,Tq], l [G,Tq], acc [G,Tq,H]), all float32.

    logits [G,Tq,Sk] float32 (-inf where masked), v_blk [G,Sk,H]. With `guard`, a row with no
    visible key so far (m = -inf) stays at l = 0, acc = 0 instead of giving NaN.
    """
    m, l, acc = carry
    m_new = jnp.maximum(m, jnp.max(logits, axis=-1))  # [G,Tq]
    if guard:
        m_new = jnp.where(m_new == -jnp.inf, 0.0, m_new)  # exp(-inf - 0) = 0 below
    p = jnp.exp(logits - m_new[..., None])  # [G,Tq,Sk] float32
    corr = jnp.exp(m - m_new)  # [G,Tq]
    l = l * corr + jnp.sum(p, axis=-1)
    pv = jnp.einsum(
        "GTS,GSH->GTH", p.astype(v_blk.dtype), v_blk, preferred_element_type=jnp.float32
    )
    return m_new, l, acc * corr[..., None] + pv


def _visible(q_pos, k_pos, s_len, is_causal, window):
    """[Tq,Sk] True where a query may see a key (inside S, causal, inside the window)."""
    ok = (k_pos[None, :] < s_len) & jnp.ones((q_pos.shape[0], 1), bool)
    if is_causal:
        ok &= k_pos[None, :] <= q_pos[:, None]
    if window is not None:
        left, right = window
        ok &= (k_pos[None, :] >= q_pos[:, None] - left) & (k_pos[None, :] <= q_pos[:, None] + right)
    return ok


def _key_step(q_blk, k_blks, v_blks, q_start, s_len, is_causal, window, j, carry):
    """One online-softmax update of (m [G,Tq], l [G,Tq], acc [G,Tq,H]) with key block j."""
    k_blk, v_blk = k_blks[j], v_blks[j]  # [G,Sk,H]
    kc = k_blk.shape[1]
    logits = jnp.einsum("GTH,GSH->GTS", q_blk, k_blk, preferred_element_type=jnp.float32)
    k_pos = j * kc + jnp.arange(kc)  # [Sk]
    if is_causal or window is not None:
        q_pos = q_start + jnp.arange(q_blk.shape[1])  # [Tq]
        logits = jnp.where(_visible(q_pos, k_pos, s_len, is_causal, window), logits, -jnp.inf)
    elif s_len % kc:  # only a ragged last block has padded keys
        logits = logits + jnp.where(k_pos < s_len, 0.0, -jnp.inf)  # [Sk] broadcast
    # without a window the max is finite: key 0 is visible in block 0
    return online_softmax_step(carry, logits, v_blk, guard=window is not None)


def _key_range(q_start, qc, kc, n_k, is_causal, window):
    """[lo, hi): the key blocks a query block [q_start, q_start + qc) can see; others skipped."""
    right = 0 if is_causal else None
    if window is not None:
        right = window[1] if right is None else min(right, window[1])
    lo = 0 if window is None else jnp.maximum(0, q_start - window[0]) // kc
    hi = n_k if right is None else jnp.minimum(n_k, (q_start + qc - 1 + right) // kc + 1)
    return lo, hi


def _query_block(q_blk, i, k_blks, v_blks, s_len, is_causal, window):
    """Attention of one query block [G,Tq,H] over all (needed) key blocks -> [G,Tq,H] f32."""
    g, qc, h = q_blk.shape
    kc, n_k = k_blks.shape[2], k_blks.shape[0]
    carry = (
        jnp.full((g, qc), -jnp.inf, jnp.float32),
        jnp.zeros((g, qc), jnp.float32),
        jnp.zeros((g, qc, h), jnp.float32),
    )
    q_start = i * qc
    # key blocks entirely above the diagonal (causal) or outside the band (window) are skipped
    lo, hi = _key_range(q_start, qc, kc, n_k, is_causal, window)
    step = functools.partial(_key_step, q_blk, k_blks, v_blks, q_start, s_len, is_causal, window)
    _, l, acc = jax.lax.fori_loop(lo, hi, step, carry)
    if window is not None:  # a query whose window holds no key gives zeros, as `attention`
        l = jnp.where(l == 0.0, 1.0, l)
    return acc / l[..., None]


def _map_query_blocks(q_blks, k_blks, v_blks, s_len, is_causal, lanes, window=None):
    """Run the query blocks [Cq,G,Tq,H] in `lanes` independent loops -> [Cq,G,Tq,H] f32.

    Independent loops have no data dependence, so the runtime can run them on separate cores;
    one loop would run its small elementwise steps on a single core.
    """
    n_q = q_blks.shape[0]
    bounds = np.linspace(0, n_q, min(lanes, n_q) + 1).astype(int)
    outs = []
    for lo, hi in itertools.pairwise(bounds):
        idx = jnp.arange(lo, hi)
        outs.append(
            jax.lax.map(
                lambda xs: _query_block(xs[0], xs[1], k_blks, v_blks, s_len, is_causal, window),
                (q_blks[lo:hi], idx),
            )
        )
    return jnp.concatenate(outs, axis=0)


@functools.partial(
    jax.jit, static_argnames=("is_causal", "scale", "q_chunk", "k_chunk", "lanes", "window")
)
def _mea(q, k, v, is_causal, scale, q_chunk, k_chunk, lanes, window=None):
    b, t, n, h = q.shape
    s = k.shape[1]
    k, v = repeat_kv(k, n), repeat_kv(v, n)  # [B,S,N,H]
    # heads as batch, transposed once: [B,T,N,H] -> [B·N,T,H]; fold the scale into q
    q = (q.transpose(0, 2, 1, 3) * jnp.asarray(scale, q.dtype)).reshape(b * n, t, h)
    k = k.transpose(0, 2, 1, 3).reshape(b * n, s, h)  # [G,S,H]
    v = v.transpose(0, 2, 1, 3).reshape(b * n, s, h)
    q_blks = _pad_chunks(q, q_chunk)  # [Cq,G,Tq,H]
    k_blks, v_blks = _pad_chunks(k, k_chunk), _pad_chunks(v, k_chunk)  # [Ck,G,Sk,H]
    blocks = _map_query_blocks(q_blks, k_blks, v_blks, s, is_causal, lanes, window)
    out = blocks.transpose(1, 0, 2, 3).reshape(b, n, -1, h)[:, :, :t]  # [B,N,T,H]
    return out.transpose(0, 2, 1, 3).astype(q.dtype)  # [B,T,N,H]


def memory_efficient_attention(
    q,
    k,
    v,
    *,
    is_causal: bool = False,
    scale: float | None = None,
    q_chunk: int = DEFAULT_Q_CHUNK,
    k_chunk: int = DEFAULT_K_CHUNK,
    lanes: int = DEFAULT_LANES,
    local_window_size: int | tuple[int, int] | None = None,
) -> jax.Array:
    """Scaled dot-product attention in O(T·H + chunk²) memory, softmax(q·kᵀ·scale)·v.

    Same result as `attn_jax.attention` (to ~1e-5 in float32), without building [T,S].

    Args:
      q: queries [B,T,N,H]. k, v: keys and values [B,S,K,H], K divides N (grouped-query).
      is_causal: query i sees only keys 0..i (top-left aligned, as `attention`).
      scale: multiplies the logits; default 1/sqrt(H).
      lanes: query blocks are split over this many independent loops (run concurrently).
      q_chunk, k_chunk: block sizes along T and S (static; clipped to T and S). Any T and S
        work: the last block is padded and its padding masked.
      local_window_size: (left, right): query i sees only keys i-left … i+right, as in
        `jax.nn.dot_product_attention`. Key blocks wholly outside the band are never visited,
        so the time grows like T·(left + right + chunks), not T·S.

    Returns:
      output [B,T,N,H] in q's dtype; logits, softmax and accumulation are float32.
    """
    q, k, v = jnp.asarray(q), jnp.asarray(k), jnp.asarray(v)
    _check(q, k, v)
    t, s = q.shape[1], k.shape[1]
    if t == 0 or s == 0:
        raise ValueError(f"T and S must be at least 1, got T={t}, S={s}")
    if q_chunk < 1 or k_chunk < 1:
        raise ValueError(f"chunk sizes must be positive, got {q_chunk}, {k_chunk}")
    qc, kc = int(min(q_chunk, t)), int(min(k_chunk, s))
    window = check_window(local_window_size)
    scale = _scale(scale, q.shape[-1])
    return _mea(q, k, v, bool(is_causal), scale, qc, kc, int(lanes), window)


def working_set_bytes(
    n: int,
    n_heads: int,
    head_dim: int,
    *,
    q_chunk: int = DEFAULT_Q_CHUNK,
    k_chunk: int = DEFAULT_K_CHUNK,
    batch: int = 1,
) -> int:
    """Rough peak bytes of one `memory_efficient_attention` call, T=S=n, float32, inputs included.

    q, k, v and the output, their head-major padded copies and the blocks' output: about
    8·B·N·n·H values (XLA's memory analysis at n=32768, N=8, H=64: 480 MiB, this says 512);
    plus one block of logits and probabilities, 2·B·N·Tq·Sk. Linear in n.
    """
    qc, kc = min(q_chunk, n), min(k_chunk, n)
    return int(4 * (8 * batch * n_heads * n * head_dim + 2 * batch * n_heads * qc * kc))


__all__ = ["memory_efficient_attention", "online_softmax_step", "working_set_bytes"]
