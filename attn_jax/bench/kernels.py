"""Kernel benchmark: plain vs memory-efficient vs jax.nn attention, side by side in one run.

    python -m attn_jax.bench kernels [--sizes 256,512,1024,2048,4096] [--repeats 5]
        [--configs 256x1024x2,128x512x1]  more memory-efficient variants (q_chunk x k_chunk x lanes)
        [--long 32768]                     peak memory of one long call, in a child process

Each repeat runs every kernel once in turn (and a float32 matmul of the same device), so other
load on the machine hits all of them alike; compile time is measured apart; medians are printed.
Attention FLOPs = 4·B·N·T·S·H; "% mm" is the share of the matmul's GFLOP/s measured in the same
rounds (its fastest run, so the share is a conservative figure).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time

import jax
import jax.numpy as jnp

from attn_jax.kernels.memory_efficient import DEFAULT_K_CHUNK, DEFAULT_LANES, DEFAULT_Q_CHUNK
from attn_jax.kernels.memory_efficient import memory_efficient_attention as mea
from attn_jax.kernels.plain import attention

MATMUL = 2048  # the reference matmul is [2048,2048]·[2048,2048] float32 (17 GFLOP)
# Pause after each call: a plain kernel frees ~1.5 GB of temporaries after its result is ready,
# which would otherwise slow whichever kernel runs next in the round.
SETTLE_S = 0.05


def _kernels(configs: list[tuple[int, int, int]]) -> dict:
    """name -> function of (q, k, v): the three kernels plus memory-efficient variants."""
    fns = {
        "attention": lambda q, k, v: attention(q, k, v),
        "jax.nn": lambda q, k, v: jax.nn.dot_product_attention(q, k, v),
        "mem_eff": lambda q, k, v: mea(q, k, v),
    }
    for qc, kc, lanes in configs:
        fns[f"mem_eff {qc}x{kc}x{lanes}"] = lambda q, k, v, qc=qc, kc=kc, lanes=lanes: mea(
            q, k, v, q_chunk=qc, k_chunk=kc, lanes=lanes
        )
    return fns


def _compile(fns: dict, args: dict) -> tuple[dict, dict]:
    """Compile each function for its arguments; returns (compiled, compile seconds)."""
    compiled, seconds = {}, {}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        compiled[name] = jax.jit(fn).lower(*args[name]).compile()
        seconds[name] = time.perf_counter() - t0
        jax.block_until_ready(compiled[name](*args[name]))  # warm-up
    return compiled, seconds


def side_by_side(fns: dict, args: dict, repeats: int) -> tuple[dict, dict, dict]:
    """Median seconds per function, round-robin over repeats; and compile seconds."""
    compiled, compile_s = _compile(fns, args)
    runs: dict[str, list[float]] = {name: [] for name in fns}
    names = list(compiled)
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # rotate: fair positions
            t0 = time.perf_counter()
            jax.block_until_ready(compiled[name](*args[name]))
            runs[name].append(time.perf_counter() - t0)
            time.sleep(SETTLE_S)
    medians = {name: statistics.median(r) for name, r in runs.items()}
    return medians, {name: min(r) for name, r in runs.items()}, compile_s


def _inputs(n: int, heads: int, head_dim: int):
    keys = jax.random.split(jax.random.PRNGKey(n), 3)
    return tuple(jax.random.normal(key, (1, n, heads, head_dim), jnp.float32) for key in keys)


def bench_size(n, heads, head_dim, repeats, configs) -> None:
    """Print one block of results for T = S = n."""
    fns = _kernels(configs)
    if n > 8192:  # the plain kernels would need N·n²·4 bytes several times over
        fns = {k: f for k, f in fns.items() if k.startswith("mem_eff")}
    qkv = _inputs(n, heads, head_dim)
    mm = jax.random.normal(jax.random.PRNGKey(1), (MATMUL, MATMUL), jnp.float32)
    args = {name: qkv for name in fns}
    fns["matmul"], args["matmul"] = (lambda a, b: a @ b), (mm, mm)
    med, best, comp = side_by_side(fns, args, repeats)
    mm_gflops = 2 * MATMUL**3 / best["matmul"] / 1e9  # the best run: a conservative roofline
    attn_flops = 4.0 * heads * n * n * head_dim
    ref = med.get("jax.nn")
    print(f"\nn={n}  matmul {mm_gflops:.0f} GFLOP/s (best of {repeats})  "
          f"(B=1, N={heads}, H={head_dim}, float32)")  # fmt: skip
    print(f"  {'kernel':24s} {'median ms':>10s} {'compile ms':>10s} {'GFLOP/s':>8s} "
          f"{'% mm':>6s} {'vs jax.nn':>9s}")  # fmt: skip
    for name in fns:
        if name == "matmul":
            continue
        gflops = attn_flops / med[name] / 1e9
        speedup = f"{ref / med[name]:8.2f}x" if ref else "        -"
        print(f"  {name:24s} {1e3 * med[name]:10.1f} {1e3 * comp[name]:10.0f} {gflops:8.1f} "
              f"{100 * gflops / mm_gflops:5.0f}% {speedup}")  # fmt: skip


def _child_long(n: int, heads: int, head_dim: int) -> int:
    """Run one memory-efficient call at n (in a child process) and print time and VmHWM."""
    q, k, v = _inputs(n, heads, head_dim)
    t0 = time.perf_counter()
    jax.block_until_ready(mea(q, k, v))
    seconds = time.perf_counter() - t0
    with open("/proc/self/status") as status:
        hwm = next((line.split()[1] for line in status if line.startswith("VmHWM")), "?")
    print(f"  child: n={n} took {seconds:.1f} s (incl. compile), its VmHWM {int(hwm) // 1024} MB")
    return 0


def bench_long(n: int, heads: int, head_dim: int) -> None:
    """Peak resident memory of a child process that runs memory_efficient_attention at n.

    Run before anything big is allocated here: a child's ru_maxrss starts from its parent's
    size at fork, so a large parent would inflate it. The child's VmHWM is its own peak.
    """
    full = 3 * heads * n * n * 4 / 2**30
    print(f"\nlong context n={n}: plain attention would hold ~{full:.1f} GiB of float32 scores")
    cmd = [sys.executable, "-m", "attn_jax.bench.kernels", "--child-long", str(n)]
    cmd += ["--heads", str(heads), "--head-dim", str(head_dim)]
    subprocess.run(cmd, check=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kB on Linux
    print(f"  peak process memory (ru_maxrss of the child): {peak:.0f} MB")


def _configs(text: str) -> list[tuple[int, int, int]]:
    return [tuple(int(p) for p in c.split("x")) for c in text.split(",") if c]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attn_jax.bench kernels", description=__doc__)
    parser.add_argument("--sizes", default="256,512,1024,2048,4096")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--head-dim", type=int, default=64)
    parser.add_argument("--configs", type=_configs, default=[], help="e.g. 256x1024x2,128x512x1")
    parser.add_argument("--long", type=int, default=0, help="also measure peak memory at this n")
    parser.add_argument("--child-long", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_long:
        return _child_long(args.child_long, args.heads, args.head_dim)
    chunks = f"q_chunk={DEFAULT_Q_CHUNK}, k_chunk={DEFAULT_K_CHUNK}, lanes={DEFAULT_LANES}"
    print(f"jax {jax.__version__} on {jax.devices()[0].device_kind}; mem_eff defaults {chunks}")
    if args.long:
        bench_long(args.long, args.heads, args.head_dim)
    for n in (int(s) for s in args.sizes.split(",") if s):
        bench_size(n, args.heads, args.head_dim, args.repeats, args.configs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
