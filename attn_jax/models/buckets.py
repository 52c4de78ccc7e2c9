"""Length buckets: the padded lengths both models run at, and their passes compiled once each.

A text is padded to the smallest bucket that holds it, so a new length inside a bucket reuses
that bucket's compiled function. `CompiledBuckets` holds one jitted function's executables,
one per bucket, compiled on first use, one compile at a time in the process (COMPILE_LOCK).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import jax

from attn_jax.memory import COMPILE_LOCK

BUCKETS = (16, 32, 64, 128, 256)


def bucket_for(n_tokens: int, buckets: tuple[int, ...] = BUCKETS) -> int:
    """The smallest bucket that holds n_tokens (they never exceed the last bucket)."""
    return next(b for b in buckets if b >= n_tokens)


def buckets_for(n_positions: int) -> tuple[int, ...]:
    """The buckets that fit a model's context of n_positions (its context is always the last)."""
    fit = tuple(b for b in BUCKETS if b < n_positions)
    return (*fit, min(n_positions, BUCKETS[-1]))


class CompiledBuckets:
    """A jitted function's executables, one per length bucket, each compiled once.

    Args:
      fn: a `jax.jit` function.
      args_for: bucket -> the positional arguments to lower fn on (arrays or
        `jax.ShapeDtypeStruct`s of that bucket's shapes).
      **static: fn's static arguments (e.g. cfg=config).

    Called with a bucket, it gives that bucket's executable; `get`, `[bucket]` and iteration
    (the buckets compiled so far) look without compiling.
    """

    def __init__(self, fn, args_for: Callable[[int], tuple], **static):
        self._fn, self._args_for, self._static = fn, args_for, static
        self._compiled: dict[int, jax.stages.Compiled] = {}

    def __call__(self, bucket: int) -> jax.stages.Compiled:
        """The bucket's executable, compiled now if it is not yet (one compile at a time)."""
        exe = self._compiled.get(bucket)
        if exe is None:
            with COMPILE_LOCK:
                exe = self._compiled.get(bucket)
                if exe is None:
                    # full float32 matmuls on GPU/TPU too (their default is TF32/bf16 passes),
                    # so every backend matches the reference implementation
                    with jax.default_matmul_precision("highest"):
                        lowered = self._fn.lower(*self._args_for(bucket), **self._static)
                    exe = self._compiled[bucket] = lowered.compile()
        return exe

    def get(self, bucket: int) -> jax.stages.Compiled | None:
        """The bucket's executable if it is compiled, else None (compiles nothing)."""
        return self._compiled.get(bucket)

    def __getitem__(self, bucket: int) -> jax.stages.Compiled:
        return self._compiled[bucket]

    def __iter__(self) -> Iterator[int]:
        return iter(list(self._compiled))

    def __len__(self) -> int:
        return len(self._compiled)

    def warm_up(self, buckets) -> None:
        """Compile the given buckets now rather than on first use."""
        for bucket in buckets:
            self(bucket)
