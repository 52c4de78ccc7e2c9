"""Benchmarks that print figures: `python -m attn_jax.bench NAME [options]`.

model    warm run time per length bucket of the real encoder, compile times, recompilations.
kernels  plain vs memory-efficient vs jax.nn attention, speed-ups and share of matmul GFLOP/s.
window   sliding-window vs full causal attention against n, fitted slopes (≈ 1 vs ≈ 2).
decode   prefill vs one decode step over a KV cache, bandwidth as a share of a measured copy.
ring     ring attention over P = 1, 2, 4, 8 (forced host) devices: per-device memory ≈ 1/P.
gqa      GQA made from the encoder (K/V heads pooled): JS divergence, embedding cosine, memory.
"""

from __future__ import annotations

import importlib
import sys

# name -> module under attn_jax.bench with a `main(argv) -> int`
BENCHMARKS = {"model": "model", "kernels": "kernels"}
BENCHMARKS["window"] = "window"
BENCHMARKS["decode"] = "decode"
BENCHMARKS["ring"] = "ring"
BENCHMARKS["gqa"] = "gqa"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in BENCHMARKS:
        print(__doc__.strip())
        print("\n`python -m attn_jax.bench NAME --help` lists each one's options.")
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    module = importlib.import_module(f"attn_jax.bench.{BENCHMARKS[argv[0]]}")
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
