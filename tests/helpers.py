"""Helpers for the tests: seeded random arrays, q, k, v in the kernels' layout, small
attention maps, runs on many threads at once, and the scripts under scripts/ as modules."""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path

import numpy as np

RNG = np.random.default_rng(0)


def rand(*shape, dtype=np.float32, rng: np.random.Generator = RNG) -> np.ndarray:
    """Standard normal entries of `shape` (a module's own `rng` keeps its draws its own)."""
    return rng.normal(size=shape).astype(dtype)


def qkv(b, t, s, n, h, k=None, rng: np.random.Generator = RNG):
    """q [B,T,N,H], k and v [B,S,K,H] (K = N unless given), standard normal float32."""
    k = n if k is None else k
    return rand(b, t, n, h, rng=rng), rand(b, s, k, h, rng=rng), rand(b, s, k, h, rng=rng)


def uniform_map(t: int = 6) -> np.ndarray:
    """[t,t] attention with every row uniform."""
    return np.full((t, t), 1.0 / t)


def previous_token_map(t: int = 6) -> np.ndarray:
    """[t,t] attention of a previous-token head: row 0 on itself, row i on i-1."""
    a = np.zeros((t, t))
    a[0, 0] = 1.0
    a[np.arange(1, t), np.arange(t - 1)] = 1.0
    return a


def attention_and_values(n_layers=2, n_heads=3, n_kv=3, t=5, h=4, d=6, *, rng=RNG):
    """A small model's maps [L,N,T,T] (rows sum to 1), values [L,K,T,H] and W_O by head
    [L,N,H,D]: what value weighting reads."""
    attn = rng.dirichlet(np.ones(t), size=(n_layers, n_heads, t))
    values = rng.normal(size=(n_layers, n_kv, t, h))
    w_o = rng.normal(size=(n_layers, n_heads, h, d))
    return attn, values, w_o


def run_concurrently(run, inputs) -> tuple[dict, list[BaseException]]:
    """run(inputs[i]) on one thread per input, all at once: ({i: result}, errors raised)."""
    results: dict = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            results[i] = run(inputs[i])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return results, errors


SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load_script(name: str):
    """scripts/<name>.py imported as the module `name` (its dataclasses look it up there)."""
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
