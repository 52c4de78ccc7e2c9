"""GPT-2's initialisation for the decoders trained here (scripts/train_decoder.py, the copy
model): normal weights, residual projections scaled by 1/sqrt(2L), positions started as
sinusoids, and W_Q, W_K optionally wider than GPT-2's 0.02."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from attn_jax.models.gpt2_files import DecoderConfig
from attn_jax.models.layer_stack import stack_layers


def sinusoidal_positions(n: int, d: int, std: float = 0.02) -> jnp.ndarray:
    """[n,d] sin/cos position vectors (Vaswani et al. 2017) scaled to the given std."""
    pos, i = np.arange(n)[:, None], np.arange(0, d, 2)[None, :]
    angle = pos / np.power(10000.0, i / d)
    table = np.zeros((n, d))
    table[:, 0::2], table[:, 1::2] = np.sin(angle), np.cos(angle)
    return jnp.asarray(table * std / table.std(), jnp.float32)


def init_params(cfg: DecoderConfig, key, qk_std: float = 0.02) -> dict:
    """GPT-2's initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2L).

    Positions start as sinusoids, then are learned as in GPT-2: from random position vectors
    a previous-token head (the first half of an induction head) is slow to learn. W_Q and W_K
    start at qk_std: a query-key logit is a product of the two, so at 0.02 both its gradients
    are near zero and every head stays flat for hundreds of steps.
    """
    d, f = cfg.n_embd, cfg.d_ff
    keys = iter(jax.random.split(key, 2 + 4 * cfg.n_layer))

    def normal(shape, std=0.02):
        return std * jax.random.normal(next(keys), shape, jnp.float32)

    def ln():
        return jnp.ones(d), jnp.zeros(d)

    resid = 0.02 / math.sqrt(2 * cfg.n_layer)
    qk = qk_std / 0.02
    qkv_scale = jnp.repeat(jnp.array([qk, qk, 1.0]), d)  # [3D]: W_Q, W_K at qk_std, W_V at 0.02
    layers = [
        {
            "ln_1": ln(),
            "w_qkv": normal((d, 3 * d)) * qkv_scale,
            "b_qkv": jnp.zeros(3 * d),
            "w_o": normal((d, d), resid),
            "b_o": jnp.zeros(d),
            "ln_2": ln(),
            "w_fc": normal((d, f)),
            "b_fc": jnp.zeros(f),
            "w_proj": normal((f, d), resid),
            "b_proj": jnp.zeros(d),
        }
        for _ in range(cfg.n_layer)
    ]
    wte, wpe = normal((cfg.vocab_size, d)), sinusoidal_positions(cfg.n_positions, d)
    return {"wte": wte, "wpe": wpe, "ln_f": ln(), "layers": stack_layers(layers)}
