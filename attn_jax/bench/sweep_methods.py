"""What the complexity sweep runs: the methods, their inputs, FLOPs and memory, and the timer.

Methods (name -> cost in n): three attention kernels, O(n²) time, and two linear-cost
references with the same model width D = N·H:

  attention         attn_jax.attention, builds the [B,N,T,S] scores matrix
  memory_efficient  attn_jax.kernels.memory_efficient.memory_efficient_attention, chunked
  jax.nn            jax.nn.dot_product_attention (XLA implementation on CPU)
  rnn_scan          h_t = tanh(x_t·W_x + h_{t-1}·W_h), one lax.scan step per token
  conv1d            a width-4 causal 1-D convolution over the sequence, D -> D channels
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp

from attn_jax.kernels.memory_efficient import memory_efficient_attention, working_set_bytes
from attn_jax.kernels.plain import attention

QUADRATIC = ("attention", "memory_efficient", "jax.nn")
LINEAR = ("rnn_scan", "conv1d")
METHODS = QUADRATIC + LINEAR
CONV_WIDTH = 4
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16, "float16": jnp.float16}


def _rnn_scan(x, w_x, w_h):
    """Elman RNN over x [B,T,D]: the input projection at once, then one step per token."""
    xw = jnp.einsum("BTD,DE->TBE", x, w_x)  # [T,B,D]

    def step(h, xw_t):
        h = jnp.tanh(xw_t + h @ w_h)  # [B,D]
        return h, h

    _, hs = jax.lax.scan(step, jnp.zeros_like(xw[0]), xw)  # [T,B,D]
    return hs.transpose(1, 0, 2)  # [B,T,D]


def _conv1d(x, w):
    """Causal convolution of x [B,T,D] with w [W,D,D] -> [B,T,D]."""
    return jax.lax.conv_general_dilated(
        x, w, (1,), [(CONV_WIDTH - 1, 0)], dimension_numbers=("NWC", "WIO", "NWC")
    )


def method_fn(method: str) -> Callable:
    """The function a method times; it takes the arrays of `make_inputs`."""
    return {
        "attention": lambda q, k, v: attention(q, k, v),
        "memory_efficient": lambda q, k, v: memory_efficient_attention(q, k, v),
        "jax.nn": lambda q, k, v: jax.nn.dot_product_attention(q, k, v),
        "rnn_scan": _rnn_scan,
        "conv1d": _conv1d,
    }[method]


def make_inputs(method: str, n: int, heads: int, head_dim: int, dtype: str, device) -> tuple:
    """Random inputs on `device`: q, k, v [1,n,N,H], or x [1,n,D] and weights (D = N·H)."""
    keys = jax.random.split(jax.random.PRNGKey(n), 3)  # one key per array (at most 3)
    dt, d = DTYPES[dtype], heads * head_dim
    if method in QUADRATIC:
        shapes = [(1, n, heads, head_dim)] * 3
    elif method == "rnn_scan":
        shapes = [(1, n, d), (d, d), (d, d)]
    else:
        shapes = [(1, n, d), (CONV_WIDTH, d, d)]
    arrays = [
        jax.random.normal(key, shape, jnp.float32) for key, shape in zip(keys, shapes, strict=False)
    ]
    if method in LINEAR:  # weights ~ 1/sqrt(D) keep tanh and the outputs in range
        arrays = arrays[:1] + [w / d**0.5 for w in arrays[1:]]
    return tuple(jax.device_put(a.astype(dt), device) for a in arrays)


def flops(method: str, n: int, heads: int, head_dim: int) -> float:
    """Floating-point operations of one call (multiply-add = 2), batch 1."""
    d = heads * head_dim
    if method in QUADRATIC:
        return 4.0 * heads * n * n * head_dim  # QKᵀ and weights·V
    if method == "rnn_scan":
        return 4.0 * n * d * d
    return 2.0 * n * CONV_WIDTH * d * d


def scores_bytes(n: int, heads: int, itemsize: int = 4, batch: int = 1) -> int:
    """Bytes of one full scores matrix [B,N,n,n]."""
    return int(batch * heads * n * n * itemsize)


def peak_bytes(method: str, n: int, heads: int, head_dim: int, itemsize: int) -> int:
    """Rough peak bytes a call needs: inputs and output, plus float32 temporaries.

    The plain kernels hold about three [N,n,n] float32 arrays (logits, exp, weights).
    """
    io = 4 * n * heads * head_dim * itemsize
    if method in ("attention", "jax.nn"):
        return io + 3 * scores_bytes(n, heads, 4)
    if method == "memory_efficient":
        return working_set_bytes(n, heads, head_dim)  # counts inputs and their copies
    d = heads * head_dim
    return 4 * n * d * 4 + (CONV_WIDTH + 2) * d * d * itemsize


def time_call(
    fn: Callable, args: tuple, repeats: int = 3, stat: Callable = statistics.median
) -> tuple[float, float]:
    """(compile_ms, run ms): compile apart, one warm-up, block_until_ready each run.

    stat: how the runs are summed up: the median, or `min` (the fastest run: robust where
    other jobs share the cores, since interference only ever adds time).
    """
    t0 = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    compile_ms = 1e3 * (time.perf_counter() - t0)
    jax.block_until_ready(compiled(*args))  # warm-up: first-run allocations, caches
    runs = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        runs.append(1e3 * (time.perf_counter() - t0))
    return compile_ms, stat(runs)


def matmul_gflops(device, dtype: str = "float32", size: int = 1024, repeats: int = 5) -> float:
    """Measured GFLOP/s of a [size,size]·[size,size] matmul on `device`."""
    a = jax.device_put(jax.random.normal(jax.random.PRNGKey(0), (size, size)), device)
    a = a.astype(DTYPES[dtype])
    _, ms = time_call(lambda x, y: x @ y, (a, a), repeats)
    return 2.0 * size**3 / (ms * 1e-3) / 1e9
