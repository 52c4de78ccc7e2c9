"""Why divide by √d_k: how dot products of random vectors, and their softmax, grow with d_k."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

D_KS = tuple(2**p for p in range(2, 11))  # 4 .. 1024


def _softmax_stats(logits: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Mean max weight and mean entropy (nats) of softmax over the last axis."""
    weights = jax.nn.softmax(logits.astype(jnp.float32), axis=-1)
    entropy = -jnp.sum(weights * jnp.log(jnp.maximum(weights, 1e-30)), axis=-1)
    return jnp.mean(jnp.max(weights, axis=-1)), jnp.mean(entropy)


@functools.partial(jax.jit, static_argnames=("d_ks", "n_keys", "n_samples"))
def _experiment(key, d_ks, n_keys, n_samples):
    kq, kk = jax.random.split(key)
    q = jax.random.normal(kq, (n_samples, max(d_ks)))  # [B,H]
    k = jax.random.normal(kk, (n_samples, n_keys, max(d_ks)))  # [B,S,H]
    # q·k over the first d_k dimensions, for every d_k at once: one small compile and one
    # [B,S,H] buffer instead of a separate graph per d_k.
    prefix_dots = jnp.cumsum(q[:, None, :] * k, axis=-1)  # [B,S,H]
    dots = jnp.moveaxis(prefix_dots[..., jnp.asarray(d_ks) - 1], -1, 0)  # [len(d_ks),B,S]

    def row(dots, d_k):
        scaled = dots / jnp.sqrt(d_k)
        return jnp.stack(
            [jnp.var(dots), jnp.var(scaled), *_softmax_stats(dots), *_softmax_stats(scaled)]
        )

    return jax.vmap(row)(dots, jnp.asarray(d_ks, jnp.float32))  # [len(d_ks), 6]


def scaling_experiment(
    d_ks: tuple[int, ...] = D_KS, n_keys: int = 16, n_samples: int = 256, seed: int = 0
) -> dict[str, np.ndarray]:
    """Dot products q·k of unit-variance random vectors, with and without the 1/√d_k scaling.

    For each d_k: `n_samples` queries, each against `n_keys` keys, all entries N(0, 1).
    Unscaled, var(q·k) = d_k; scaled by 1/√d_k it is 1.

    Returns:
      dict of numpy arrays, each [len(d_ks)]: d_k, var_raw, var_scaled, max_raw, max_scaled,
      entropy_raw, entropy_scaled (softmax over the keys; entropy in nats, at most ln n_keys).
    """
    d_ks = tuple(int(d) for d in d_ks)
    if not d_ks or min(d_ks) < 1 or n_keys < 1 or n_samples < 2:
        raise ValueError("need d_ks >= 1, n_keys >= 1 and n_samples >= 2")
    out = np.asarray(_experiment(jax.random.PRNGKey(seed), d_ks, n_keys, n_samples))
    names = ("var_raw", "var_scaled", "max_raw", "entropy_raw", "max_scaled", "entropy_scaled")
    return {"d_k": np.asarray(d_ks), **{name: out[:, c] for c, name in enumerate(names)}}
