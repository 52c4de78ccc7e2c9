"""Prefill vs decode: `python -m attn_jax.bench decode [options]`.

Prefill (T = S = n, the prompt) does ~4·N·n²·H FLOPs in one call: bounded by arithmetic.
A decode step (T = 1 new token over a KV cache of S = n) does ~4·N·n·H FLOPs but reads all
2·n·K·H cached values: bounded by memory. Prints, per n, prefill's time per token, the decode
step's time and its achieved bandwidth (K and V bytes read / time) as a share of a large
array copy measured in the same run, for K = N, N/4 and 1 key/value heads (MHA, GQA, MQA).
The cache is stored heads first, [B,K,S,H], as generation loops keep it. Every time is the
fastest of `--repeats` runs (other jobs on shared cores only add time).
"""

from __future__ import annotations

import argparse
import functools
import os

import jax
import jax.numpy as jnp

from attn_jax.bench import sweep_methods as ck
from attn_jax.kernels.decode import decode_attention, kv_bytes_read
from attn_jax.kernels.memory_efficient import memory_efficient_attention

MAX_CACHE_BYTES = 256 * 2**20  # K and V of one decode point, inside a worker's budget


def copy_gbps(mbytes: int = 128, passes: int = 8, repeats: int = 3) -> float:
    """GB/s of an in-place copy x <- x·0.5 + 1 over `mbytes` MB: bytes read + written / time.

    In a loop, so XLA reuses one buffer: a fresh output each pass would time page faults.
    """
    x = jnp.zeros(mbytes * 2**20 // 4, jnp.float32)
    fn = lambda a: jax.lax.fori_loop(0, passes, lambda _, y: y * 0.5 + 1.0, a)  # noqa: E731
    _, ms = ck.time_call(fn, (x,), repeats, min)
    return passes * 2 * x.nbytes / (ms * 1e-3) / 1e9


@functools.partial(jax.jit, static_argnames=("steps",))
def _decode_steps(q, k, v, steps):
    """`steps` generation steps over the same cache; each query is the last step's output."""
    step = lambda _, q: decode_attention(q, k, v, heads_first=True)  # noqa: E731
    return jax.lax.fori_loop(0, steps, step, q)


def decode_ms(n, heads, kv_heads, head_dim, steps=16, repeats=3) -> float:
    """Milliseconds per decode step: one query [1,1,N,H] over a cache [1,K,n,H]."""
    keys = jax.random.split(jax.random.PRNGKey(n), 3)
    q = jax.random.normal(keys[0], (1, 1, heads, head_dim))
    k, v = (jax.random.normal(key, (1, kv_heads, n, head_dim)) for key in keys[1:])
    _, ms = ck.time_call(functools.partial(_decode_steps, steps=steps), (q, k, v), repeats, min)
    return ms / steps


def prefill_ms(n, heads, kv_heads, head_dim, repeats=3) -> float:
    """Milliseconds for a causal prefill of n tokens (memory-efficient kernel)."""
    keys = jax.random.split(jax.random.PRNGKey(n), 3)
    q = jax.random.normal(keys[0], (1, n, heads, head_dim))
    k, v = (jax.random.normal(key, (1, n, kv_heads, head_dim)) for key in keys[1:])
    fn = lambda q, k, v: memory_efficient_attention(q, k, v, is_causal=True)  # noqa: E731
    return ck.time_call(fn, (q, k, v), repeats, min)[1]


def decode_task(
    lengths, heads=8, head_dim=64, kv_heads=(8, 2, 1), prefill_max_n=4096, repeats=3,
    copy_mbytes=128, progress=None,
) -> dict:  # fmt: skip
    """Rows {kind, kv_heads, n, ms, ms_per_token, bytes, gbps} and the copy bandwidth."""
    if any(kv_bytes_read(n, max(kv_heads), head_dim, 4) > MAX_CACHE_BYTES for n in lengths):
        raise ValueError(f"a KV cache above {MAX_CACHE_BYTES // 2**20} MB is not run here")
    if any(heads % k for k in kv_heads):
        raise ValueError(f"K/V heads {kv_heads} must divide {heads}")
    if progress:
        progress(0.0, "copy bandwidth")
    copy = copy_gbps(copy_mbytes)
    plan = [("decode", k, n) for n in lengths for k in kv_heads]
    plan += [("prefill", heads, n) for n in lengths if n <= prefill_max_n]
    rows = []
    for i, (kind, k, n) in enumerate(plan):
        if progress:
            progress(i / len(plan), f"{kind} with {k} K/V heads at n={n}")
        if kind == "decode":
            ms = decode_ms(n, heads, k, head_dim, repeats=repeats)
            tokens, nbytes = 1, kv_bytes_read(n, k, head_dim, 4)
        else:
            ms, tokens, nbytes = prefill_ms(n, heads, k, head_dim, repeats), n, 0
        gbps = nbytes / (ms * 1e-3) / 1e9 if nbytes else float("nan")
        rows.append(dict(kind=kind, kv_heads=k, n=n, ms=ms, ms_per_token=ms / tokens,
                         bytes=nbytes, gbps=gbps))  # fmt: skip
    if progress:
        progress(1.0, "done")
    return {"rows": rows, "copy_gbps": copy, "heads": heads, "device": str(jax.devices()[0])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attn_jax.bench decode", description=__doc__)
    parser.add_argument("--lengths", type=int, nargs="+", default=[1024, 4096, 16384, 65536])
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--head-dim", type=int, default=64)
    parser.add_argument("--kv-heads", type=int, nargs="+", default=[8, 2, 1])
    parser.add_argument("--prefill-max-n", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    out = decode_task(args.lengths, args.heads, args.head_dim, tuple(args.kv_heads),
                      args.prefill_max_n, args.repeats)  # fmt: skip
    copy = out["copy_gbps"]
    print(f"N={args.heads}, H={args.head_dim}, float32, {out['device']}")
    print(f"measured copy bandwidth (in place over 128 MB, read + write): {copy:.1f} GB/s\n")
    print(f"{'kind':>8} {'K/V heads':>9} {'n':>7} {'ms/token':>10} {'GB/s':>7} {'of copy':>8}")
    for r in out["rows"]:
        share = f"{100 * r['gbps'] / copy:7.0f}%" if r["kind"] == "decode" else f"{'':>8}"
        gbps = f"{r['gbps']:7.1f}" if r["kind"] == "decode" else f"{'':>7}"
        print(f"{r['kind']:>8} {r['kv_heads']:>9} {r['n']:>7} {r['ms_per_token']:>10.4f} "
              f"{gbps} {share}")  # fmt: skip
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average (1/5/15 min) at the end: {load} on {os.cpu_count()} CPUs")
    return 0
