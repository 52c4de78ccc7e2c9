"""Sliding window vs full attention: `python -m attn_jax.bench window [options]`.

Both are the memory-efficient kernel with the causal mask; the windowed one also gets
local_window_size=(w, 0) (query i sees keys i-w … i, as Mistral 7B with w = 4096) and skips
every key block outside the band, so its time grows like n·w instead of n². Prints the run
time per n (the fastest of `--repeats` runs: other jobs on shared cores only add time) and
the fitted log-log slopes (≈ 2 for full, ≈ 1 for the window).
"""

from __future__ import annotations

import argparse
import os
import time

import jax

from attn_jax.bench import sweep_methods as ck
from attn_jax.bench.sweep import CPU_BUDGET_BYTES, fit_slope, upper_half
from attn_jax.kernels.memory_efficient import memory_efficient_attention, working_set_bytes


def _fn(window: int | None):
    if window is None:
        return lambda q, k, v: memory_efficient_attention(q, k, v, is_causal=True)
    return lambda q, k, v: memory_efficient_attention(
        q, k, v, is_causal=True, local_window_size=(window, 0)
    )


def window_task(
    lengths, window=256, heads=4, head_dim=64, full_max_n=4096, repeats=2,
    time_budget_s=60.0, progress=None,
) -> dict:  # fmt: skip
    """Time full and windowed causal attention at each n on the default device.

    Full attention runs only up to `full_max_n` (its time grows like n²). No run starts after
    `time_budget_s`; a length whose working set passes the CPU budget is refused.

    Returns:
      {"rows": [{kind, n, median_ms (fastest run), compile_ms, status}], "slopes": {kind: slope},
       "window": w, "device": label}; slopes fitted on the upper half of each kind's lengths.
    """
    lengths = sorted({int(n) for n in lengths})
    too_big = [n for n in lengths if working_set_bytes(n, heads, head_dim) > CPU_BUDGET_BYTES]
    if not lengths or too_big or window < 1:
        raise ValueError(f"lengths {too_big or lengths} or window {window} not allowed here")
    plan = [(kind, n) for n in lengths for kind in ("full", "window")
            if kind == "window" or n <= full_max_n]  # fmt: skip
    start, rows = time.perf_counter(), []
    for i, (kind, n) in enumerate(plan):
        if progress:
            progress(i / len(plan), f"{kind} attention at n={n}")
        row = {"kind": kind, "n": n, "median_ms": float("nan"), "compile_ms": float("nan")}
        if time.perf_counter() - start > time_budget_s:
            rows.append({**row, "status": f"skipped: time budget of {time_budget_s:.0f} s"})
            continue
        args = ck.make_inputs("memory_efficient", n, heads, head_dim, "float32", None)
        compile_ms, ms = ck.time_call(_fn(window if kind == "window" else None), args, repeats, min)
        rows.append({**row, "median_ms": ms, "compile_ms": compile_ms, "status": "ok"})
    slopes = {}
    for kind in ("full", "window"):
        ok = [r for r in rows if r["kind"] == kind and r["status"] == "ok"]
        top = upper_half([r["n"] for r in ok]) if len(ok) >= 2 else []
        pick = [r for r in ok if r["n"] in top]
        slopes[kind] = fit_slope([r["n"] for r in pick], [r["median_ms"] for r in pick])
    if progress:
        progress(1.0, "done")
    device = jax.devices()[0]
    return {"rows": rows, "slopes": slopes, "window": int(window), "device": str(device)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attn_jax.bench window", description=__doc__)
    parser.add_argument("--lengths", type=int, nargs="+", default=[2**i for i in range(11, 16)])
    parser.add_argument("--window", type=int, default=512, help="keys looked back (w)")
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--head-dim", type=int, default=64)
    parser.add_argument("--full-max-n", type=int, default=8192)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    out = window_task(
        args.lengths, args.window, args.heads, args.head_dim, args.full_max_n, args.repeats,
        time_budget_s=1e9, progress=lambda f, text: print(f"  {text} …", flush=True),
    )  # fmt: skip
    print(f"\ncausal attention, N={args.heads}, H={args.head_dim}, float32, {out['device']}")
    print(f"{'n':>7} {'full ms':>10} {'window ms':>10}   (window w = {out['window']})")
    for n in sorted({r["n"] for r in out["rows"]}):
        t = {r["kind"]: r["median_ms"] for r in out["rows"] if r["n"] == n}
        print(f"{n:>7} {t.get('full', float('nan')):>10.1f} {t.get('window', float('nan')):>10.1f}")
    win = [r for r in out["rows"] if r["kind"] == "window" and r["status"] == "ok"]
    whole = fit_slope([r["n"] for r in win], [r["median_ms"] for r in win])
    lo, hi = min(r["n"] for r in win), max(r["n"] for r in win)
    print(f"\nwindowed time slope over n = {lo}…{hi}: {whole:.2f} (≈ 1: time ~ n·w)")
    print(f"slopes on the upper half of each one's lengths: full {out['slopes']['full']:.2f}, "
          f"window {out['slopes']['window']:.2f}")  # fmt: skip
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average (1/5/15 min) at the end: {load} on {os.cpu_count()} CPUs")
    return 0
