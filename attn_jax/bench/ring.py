"""Ring attention over P devices: `python -m attn_jax.bench ring [options]`.

At a fixed sequence length n, for P = 1, 2, 4, 8 devices: each device's share of the keys and
values (2·n/P·K·H·4 bytes), XLA's per-device memory of the compiled program (arguments,
output and temporaries), the largest difference from one-device attention, and the run time.
On a CPU-only machine the devices are forced host devices
(XLA_FLAGS=--xla_force_host_platform_device_count=8, set in a worker process before jax
starts): they share the machine's cores, so the point is memory and exactness, not speed.
"""

from __future__ import annotations

import argparse
import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from attn_jax.bench import sweep_methods as ck
from attn_jax.kernels.memory_efficient import memory_efficient_attention
from attn_jax.kernels.ring import ring_fn, sequence_sharding

MAX_N = 32768  # n·N·H of the inputs stays small on a shared server


def _per_device_bytes(fn, n, heads, head_dim, sharding) -> dict:
    """XLA's memory analysis of the per-device program (SPMD: one program per device)."""
    shape = jax.ShapeDtypeStruct((1, n, heads, head_dim), jnp.float32, sharding=sharding)
    mem = fn.lower(shape, shape, shape).compile().memory_analysis()
    parts = dict(args=mem.argument_size_in_bytes, out=mem.output_size_in_bytes,
                 temp=mem.temp_size_in_bytes)  # fmt: skip
    return {**parts, "total": sum(parts.values())}


def ring_task(n=4096, heads=4, head_dim=64, ps=(1, 2, 4, 8), is_causal=True, repeats=1,
              progress=None) -> dict:  # fmt: skip
    """One row per P: K/V bytes per device, XLA's per-device bytes, error, time."""
    ps = [p for p in ps if p <= len(jax.devices())]
    if not 8 <= n <= MAX_N or any(n % p for p in ps):
        raise ValueError(f"n must be in 8..{MAX_N} and a multiple of every P, got {n}")
    q, k, v = ck.make_inputs("memory_efficient", n, heads, head_dim, "float32", jax.devices()[0])
    want = np.asarray(memory_efficient_attention(q, k, v, is_causal=is_causal))
    scale = float(1 / np.sqrt(head_dim))
    rows = []
    for i, p in enumerate(ps):
        if progress:
            progress(i / len(ps), f"ring attention over {p} device(s)")
        mesh = Mesh(np.array(jax.devices()[:p]), ("seq",))
        sharding = sequence_sharding(mesh, "seq")
        fn = ring_fn(mesh, "seq", bool(is_causal), scale, 256)
        mem = _per_device_bytes(fn, n, heads, head_dim, sharding)
        args = tuple(jax.device_put(x, sharding) for x in (q, k, v))
        _, ms = ck.time_call(fn, args, repeats)
        err = float(np.abs(np.asarray(fn(*args)) - want).max())
        kv = 2 * (n // p) * heads * head_dim * 4
        rows.append(dict(P=p, kv_bytes=kv, xla_bytes=mem["total"], temp_bytes=mem["temp"],
                         max_abs_err=err, ms=ms))  # fmt: skip
    if progress:
        progress(1.0, "done")
    return {"rows": rows, "n": n, "heads": heads, "head_dim": head_dim,
            "devices": len(jax.devices()), "platform": jax.devices()[0].platform}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attn_jax.bench ring", description=__doc__)
    parser.add_argument("--n", type=int, default=8192)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--head-dim", type=int, default=64)
    parser.add_argument("--causal", type=int, default=1)
    args = parser.parse_args(argv)
    from attn_jax.bench import worker

    params = dict(n=args.n, heads=args.heads, head_dim=args.head_dim, is_causal=bool(args.causal))
    out = worker.run_task("ring", params, timeout_s=600, exclusive=False,
                          env=worker.forced_host_devices_env(8),
                          progress=lambda f, text: print(f"  {text} …", flush=True))  # fmt: skip
    print(f"\nring attention, n={out['n']}, N={out['heads']}, H={out['head_dim']}, "
          f"causal={bool(args.causal)}, {out['devices']} {out['platform']} devices "
          "(forced host devices share the cores: compare memory, not time)")  # fmt: skip
    base = out["rows"][0]
    print(f"{'P':>3} {'K,V MB/dev':>11} {'XLA MB/dev':>11} {'x P':>6} {'max |err|':>10} {'ms':>8}")
    for r in out["rows"]:
        share = r["xla_bytes"] / base["xla_bytes"] * r["P"] / base["P"]
        print(f"{r['P']:>3} {r['kv_bytes'] / 2**20:>11.1f} {r['xla_bytes'] / 2**20:>11.1f} "
              f"{share:>6.2f} {r['max_abs_err']:>10.1e} {r['ms']:>8.0f}")  # fmt: skip
    print("x P: per-device memory times P over P=1's; ≈ 1 when memory falls like 1/P")
    return 0


if __name__ == "__main__":
    sys.exit(main())
