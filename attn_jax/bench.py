"""Benchmarks that print figures: `python -m attn_jax.bench {model,kernels}`.

model    warm run time per length bucket of the real encoder, compile times, recompilations.
kernels  plain vs memory-efficient vs jax.nn attention, speed-ups and share of matmul GFLOP/s.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in ("model", "kernels"):
        print(__doc__.strip())
        print("\n`python -m attn_jax.bench model --help` (or kernels) lists each one's options.")
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    if argv[0] == "model":
        from attn_jax.bench_model import main as run
    else:
        from attn_jax.bench_kernels import main as run
    return run(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
