"""Measuring the cost of attention: the sweep, its guard rails, slope fits, long-context memory.

A sweep times each method (see `attn_jax.bench.sweep_methods`) at each sequence length n on one
JAX device and returns a pandas table. Guard rails keep a shared server alive:
  - memory: every (method, n) is estimated first; a request whose memory-efficient run alone
    would not fit is refused (`SweepTooLarge`); plain kernels beyond their cap are skipped;
  - time: the sweep stops when its budget runs out, and says so in the table;
  - one sweep at a time per process: a second caller gets `SweepBusy`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import jax
import numpy as np
import pandas as pd

from attn_jax.bench import sweep_methods as ck
from attn_jax.lessons.facts import MODEL_FACTS

# Plain kernels on CPU: the scores matrix and its copies stay well under ~200 MB, so a server
# with ~690 MB in all (Streamlit Community Cloud) survives: a default sweep took a server
# holding the model from 480 to 650 MB. With N=8 this allows n <= 1024.
CPU_QUADRATIC_CAP_BYTES = 120 * 2**20
CPU_BUDGET_BYTES = 400 * 2**20  # any single run on a CPU server
ACCEL_BUDGET_FRACTION = 0.5  # of an accelerator's memory (bytes_limit)
MAX_LENGTHS = 12
COLUMNS = [
    "method",
    "n",
    "median_ms",
    "compile_ms",
    "gflops",
    "bytes_scores",
    "bytes_est",
    "status",
]
LONG_CONTEXT = (4096, 32768, 131072, 1048576)

MODELS = MODEL_FACTS  # name -> (layers, query heads, d_model, head dim, kv heads)

SWEEP_LOCK = threading.Lock()


class SweepTooLarge(ValueError):
    """A sweep request that would not fit in the device's memory (or the server's limits)."""


class SweepBusy(RuntimeError):
    """Another sweep is running in this server process."""


def default_lengths(platform: str) -> list[int]:
    """Sensible powers of two per platform: 128..4096 on CPU, 256..32768 on GPU/TPU."""
    if platform == "cpu":
        return [2**i for i in range(7, 13)]
    return [2**i for i in range(8, 16)]


def memory_budget(device) -> int:
    """Bytes one run may use on `device`: a fixed CPU cap, or a share of accelerator memory."""
    if device.platform == "cpu":
        return CPU_BUDGET_BYTES
    stats = device.memory_stats() or {}
    limit = stats.get("bytes_limit") or 16 * 2**30
    return int(ACCEL_BUDGET_FRACTION * limit)


def plan_sweep(lengths, methods, heads, head_dim, dtype, *, platform, budget_bytes):
    """[(method, n, estimated bytes, skip reason or None)], in run order (n ascending).

    Raises:
      SweepTooLarge: bad lengths, or the largest n does not fit even with the memory-efficient
        kernel; the message says what fits.
    """
    lengths = sorted({int(n) for n in lengths})
    unknown = set(methods) - set(ck.METHODS)
    if not lengths or not methods or unknown or len(lengths) > MAX_LENGTHS or lengths[0] < 2:
        raise SweepTooLarge(
            f"choose 1..{MAX_LENGTHS} lengths >= 2 and methods from {ck.METHODS} "
            f"(got {len(lengths)} lengths, unknown methods {sorted(unknown)})"
        )
    itemsize = np.dtype(ck.DTYPES[dtype]).itemsize
    worst = ck.peak_bytes("memory_efficient", lengths[-1], heads, head_dim, itemsize)
    if worst > budget_bytes:
        raise SweepTooLarge(
            f"n={lengths[-1]} with {heads} heads × {head_dim} needs about {worst / 2**20:.0f} MB "
            f"even chunked; this device allows {budget_bytes / 2**20:.0f} MB per run. "
            "Choose shorter lengths or fewer heads."
        )
    plan = []
    for n in lengths:
        for method in methods:
            need = ck.peak_bytes(method, n, heads, head_dim, itemsize)
            cap = budget_bytes
            if platform == "cpu" and method in ("attention", "jax.nn"):
                cap = min(cap, CPU_QUADRATIC_CAP_BYTES)
            over = f"skipped: needs ~{need / 2**20:.0f} MB > {cap / 2**20:.0f} MB cap"
            skip = None if need <= cap else over
            plan.append((method, n, need, skip))
    return plan


def measure_point(method, n, heads, head_dim, dtype, device, repeats=3) -> dict:
    """Time one (method, n) on `device`: a row of the sweep table (plain values)."""
    args = ck.make_inputs(method, n, heads, head_dim, dtype, device)
    compile_ms, median_ms = ck.time_call(ck.method_fn(method), args, repeats)
    return {
        "method": method,
        "n": int(n),
        "median_ms": float(median_ms),
        "compile_ms": float(compile_ms),
        "gflops": ck.flops(method, n, heads, head_dim) / (median_ms * 1e-3) / 1e9,
        "status": "ok",
    }


def _skipped_row(method, n, reason) -> dict:
    nan = float("nan")
    row = dict(method=method, n=int(n), median_ms=nan, compile_ms=nan, gflops=nan)
    return {**row, "status": reason}


def run_sweep(
    lengths: Sequence[int],
    methods: Sequence[str],
    heads: int,
    head_dim: int,
    dtype: str,
    device,
    *,
    repeats: int = 3,
    time_budget_s: float = 60.0,
    progress: Callable[[float, str], None] | None = None,
    measure: Callable[..., dict] | None = None,
) -> pd.DataFrame:
    """Time every method at every n on `device`; one row per (method, n), in COLUMNS order.

    Args:
      lengths: sequence lengths n (T = S = n), batch 1.
      methods: names from `complexity_kernels.METHODS`.
      heads, head_dim: N and H; the linear references use D = N·H.
      dtype: "float32", "bfloat16" or "float16".
      device: a `jax.Device` (an entry of `jax.devices()`).
      time_budget_s: no new run starts after this many seconds; the rest is marked.
      progress: called as progress(fraction done, text) before each run.
      measure: measure_point or a cached stand-in with the same arguments.

    Returns:
      DataFrame; skipped rows have NaN times and a status saying why.

    Raises:
      SweepTooLarge (a ValueError) before anything runs; SweepBusy if a sweep is running.
    """
    plan = plan_sweep(
        lengths,
        methods,
        heads,
        head_dim,
        dtype,
        platform=device.platform,
        budget_bytes=memory_budget(device),
    )
    if not SWEEP_LOCK.acquire(blocking=False):
        raise SweepBusy("Another sweep is running on this server; try again in a moment.")
    try:
        rows = _run_plan(plan, heads, head_dim, dtype, device, repeats, time_budget_s, progress,
                         measure or measure_point)  # fmt: skip
    finally:
        # The sweep traced and compiled one-off shapes whose results are cached as numbers;
        # dropping JAX's caches gives their memory back (a small server has ~690 MB).
        jax.clear_caches()
        SWEEP_LOCK.release()
    table = pd.DataFrame(rows)
    table["bytes_scores"] = [ck.scores_bytes(n, heads, 4) for n in table["n"]]
    table["bytes_est"] = [p[2] for p in plan]
    return table[COLUMNS]


def _run_plan(plan, heads, head_dim, dtype, device, repeats, budget_s, progress, measure):
    start, rows = time.perf_counter(), []
    for i, (method, n, _, skip) in enumerate(plan):
        if progress:
            progress(i / len(plan), f"{method} at n={n}")
        if skip is None and time.perf_counter() - start > budget_s:
            skip = f"skipped: time budget of {budget_s:.0f} s used up"
        if skip:
            rows.append(_skipped_row(method, n, skip))
        else:
            rows.append(measure(method, n, heads, head_dim, dtype, device, repeats))
    if progress:
        progress(1.0, "done")
    return rows


def fit_slope(n, seconds) -> float:
    """Least-squares slope of log(time) against log(n): ~2 for O(n²), ~1 for O(n).

    NaN and non-positive times are ignored; NaN when fewer than two distinct n remain.
    """
    n, t = np.asarray(n, np.float64), np.asarray(seconds, np.float64)
    ok = np.isfinite(n) & np.isfinite(t) & (n > 0) & (t > 0)
    if len(np.unique(n[ok])) < 2:
        return float("nan")
    slope, _ = np.polyfit(np.log(n[ok]), np.log(t[ok]), 1)
    return float(slope)


def upper_half(lengths) -> list[int]:
    """The upper half of the distinct lengths (at least two): where the n² term rules.

    At small n fixed costs (dispatch, loop set-up) dominate and flatten the curves.
    """
    ns = sorted({int(n) for n in lengths})
    return ns[-max(2, (len(ns) + 1) // 2) :]


def slopes(table: pd.DataFrame, *, upper: bool = True) -> dict[str, float]:
    """Fitted slope per method of a sweep table (rows with status "ok"), on the upper half
    of each method's measured lengths unless `upper` is False."""
    ok = table[table["status"] == "ok"]
    out = {}
    for method, g in ok.groupby("method", sort=False):
        if upper:
            g = g[g["n"].isin(upper_half(g["n"]))]
        out[method] = fit_slope(g["n"], g["median_ms"])
    return out


def device_label(device) -> str:
    """ "cpu:0 (cpu)": how pages and workers name a JAX device."""
    return f"{device.platform}:{device.id} ({device.device_kind})"


def find_device(label: str):
    """The JAX device named `label` (see device_label); ValueError when there is none."""
    for d in [*jax.devices(), *jax.devices("cpu")]:
        if device_label(d) == label:
            return d
    raise ValueError(f"no JAX device {label!r} in this process")


def sweep_task(
    lengths, methods, heads, head_dim, dtype, device, repeats=3, time_budget_s=60.0,
    progress=None,
) -> dict:  # fmt: skip
    """The worker's sweep: run_sweep on the device named `device`, as plain JSON values."""
    dev = find_device(device)
    table = run_sweep(lengths, methods, heads, head_dim, dtype, dev, repeats=repeats,
                      time_budget_s=time_budget_s, progress=progress)  # fmt: skip
    return {
        "table": table.to_dict("records"),
        "matmul_gflops": ck.matmul_gflops(dev, dtype),
        "device": device,
        "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def table_from(result: dict) -> pd.DataFrame:
    """The sweep table of a worker's result, in COLUMNS order."""
    return pd.DataFrame(result["table"], columns=COLUMNS)


def long_context_table(model: str) -> pd.DataFrame:
    """Memory of the full scores matrix [N,n,n] for one sequence, per layer and all layers.

    One row per n in LONG_CONTEXT; bytes for fp16 and fp32 scores. KV heads do not help here:
    every query head has its own n×n scores.
    """
    layers, heads, _, _, _ = MODELS[model]
    rows = []
    for n in LONG_CONTEXT:
        per_layer = ck.scores_bytes(n, heads, 1)  # elements; times itemsize below
        rows.append(
            {
                "tokens": n,
                "fp16 per layer (GiB)": 2 * per_layer / 2**30,
                "fp32 per layer (GiB)": 4 * per_layer / 2**30,
                f"fp16 all {layers} layers (GiB)": 2 * layers * per_layer / 2**30,
            }
        )
    return pd.DataFrame(rows)
