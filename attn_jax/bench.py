"""Benchmarks that print figures: `python -m attn_jax.bench {model,kernels}`.

model    warm run time per length bucket of the real encoder, compile times, recompilations.
kernels  plain vs memory-efficient vs jax.nn attention, speed-ups and share of matmul GFLOP/s.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attn_jax.bench", description=__doc__)
    parser.add_argument("which", choices=["model", "kernels"])
    args, rest = parser.parse_known_args(argv)
    if args.which == "model":
        from attn_jax.bench_model import main as run
    else:
        from attn_jax.bench_kernels import main as run
    return run(rest)


if __name__ == "__main__":
    sys.exit(main())
