"""Benchmark of the real encoder: `python -m attn_jax.bench model [--repeats 30]`.

Prints, per length bucket, the compile time (first use), the median warm `run` time, and the
number of backend compilations seen while running texts of new lengths inside each bucket.
Goals: warm run of <= 16 word pieces <= 10 ms (all 72 heads); zero recompilations in a bucket.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
import time

import jax
import numpy as np

from attn_jax.models.buckets import BUCKETS
from attn_jax.models.encoder import Encoder, load_model

COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"  # jax/_src/dispatch.py
SENTENCE = "The animal didn't cross the street because it was too tired."
PARAGRAPH = (
    "Self attention lets every token of a sentence look at every other token and decide how "
    "much of each one to mix into its own new vector so a pronoun can borrow meaning from the "
    "noun it refers to while a verb gathers its subject and object from far away "
)


@contextlib.contextmanager
def count_compiles():
    """Count XLA backend compilations (any thread) inside the block: yields a list, [count]."""
    seen, lock = [0], threading.Lock()

    def listener(event: str, duration: float, **kwargs) -> None:
        if event == COMPILE_EVENT:
            with lock:
                seen[0] += 1

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield seen
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


def text_of_length(enc: Encoder, n_tokens: int) -> str:
    """A text of exactly n_tokens word pieces ([CLS]/[SEP] included), made of 'a' words."""
    return " ".join(["a"] * max(n_tokens - 2, 0))


def prose_of_length(enc: Encoder, n_tokens: int) -> str:
    """Real prose cut to at most n_tokens word pieces (first words of a repeated paragraph)."""
    words = (PARAGRAPH * (1 + 4 * n_tokens // len(PARAGRAPH.split()))).split()
    lo, hi = 0, len(words)
    while lo < hi:  # the most words whose pieces fit
        mid = (lo + hi + 1) // 2
        if len(enc.tokenize(" ".join(words[:mid]))) <= n_tokens:
            lo = mid
        else:
            hi = mid - 1
    return " ".join(words[:lo])


def time_ms(fn, repeats: int) -> tuple[float, float]:
    """(median, min) wall time of fn() in ms over `repeats` calls, after one warm-up call.

    The min shows the cost without interference from other processes on a shared machine.
    """
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times)), 1e3 * float(np.min(times))


def _bucket_row(enc: Encoder, bucket: int, repeats: int) -> str:
    start = time.perf_counter()
    with count_compiles() as first:
        enc.warm_up((bucket,))
    compile_s = time.perf_counter() - start
    text = SENTENCE if bucket == BUCKETS[0] else prose_of_length(enc, bucket)
    n = len(enc.run(text).tokens)
    warm, fastest = time_ms(lambda: enc.run(text), repeats)
    lower = BUCKETS[BUCKETS.index(bucket) - 1] if bucket != BUCKETS[0] else 1
    lengths = sorted({max(2, lower + 1), (lower + bucket) // 2, bucket - 1, bucket})
    with count_compiles() as again:
        for t in lengths:
            enc.run(text_of_length(enc, t))
    return (
        f"{bucket:>6} {n:>6} {compile_s:>10.2f} {first[0]:>9} {warm:>10.2f} {fastest:>8.2f} "
        f"{'/'.join(map(str, lengths)):>16} {again[0]:>9}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attn_jax.bench model", description=__doc__)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--buckets", type=int, nargs="*", default=list(BUCKETS))
    args = parser.parse_args(argv)
    start = time.perf_counter()
    enc = load_model()
    print(
        f"all-MiniLM-L6-v2 from {enc.source_label}: loaded in {time.perf_counter() - start:.2f} s"
    )
    print(f"JAX {jax.__version__}, backend {jax.default_backend()}, devices {jax.devices()}")
    print(f"warm run = median (and min) of {args.repeats} calls of Encoder.run: tokenize,")
    print("forward pass of all 6 layers x 12 heads, copy to numpy; goal: <= 10 ms at 16 pieces")
    print(
        f"{'bucket':>6} {'tokens':>6} {'compile_s':>10} {'compiles':>9} {'warm_ms':>10} "
        f"{'min_ms':>8} {'new lengths':>16} {'recompiles':>9}"
    )
    for bucket in args.buckets:
        print(_bucket_row(enc, bucket, args.repeats), flush=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average (1/5/15 min) at the end: {load} on {os.cpu_count()} CPUs")
    return 0
