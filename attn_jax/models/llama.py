"""A Llama/Mistral causal decoder run in JAX by our own `attention_weights` kernel.

    x = wte[ids];  for each block:  x = x + Attn(RoPE(RMS_1(x)·W_Q), RoPE(RMS_1(x)·W_K), ·W_V)·W_O
                                    x = x + (SiLU(RMS_2(x)·W_gate) ⊙ RMS_2(x)·W_up)·W_down
    logits = RMS_f(x)·W_outᵀ   (W_out = wte when the embeddings are tied, else lm_head)

RMSNorm: x / sqrt(mean(x²) + eps) · gain (no mean, no bias). RoPE rotates each query and key
at position m: dimension i (< H/2) pairs with i + H/2 (Hugging Face's "rotate half"
convention, not adjacent pairs) and both turn by the angle m·θ_i, θ_i = rope_theta^(-2i/H),
so q_m·k_n depends on the positions only through m - n.

Grouped-query attention: K key/value heads, query head n reads K/V head n // (N/K). The
weights come from the kernel with k [B,S,K,H] (it groups the query heads; K/V are not
repeated), and the values are mixed per group (`grouped_mix`). Mistral's sliding window goes
to the kernel as `local_window_size=(W-1, 0)`: query i sees keys i-W+1 .. i.

Knock-out (head_mask [L,N]) multiplies each query head's output before W_O, as in the
GPT-2 decoder. Params: see `llama_files`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from attn_jax.kernels.plain import attention_weights
from attn_jax.models import block
from attn_jax.models.layer_stack import host_layer
from attn_jax.models.llama_files import LlamaConfig


def rms_norm(x, gain, eps: float):
    """x / sqrt(mean(x²) + eps) · gain over the last axis [..., D]."""
    return x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=-1, keepdims=True) + eps) * gain


def rope_tables(positions, head_dim: int, theta: float, xp=jnp):
    """cos, sin [T,H] for integer positions [T]: angle m·θ_i, repeated for both halves."""
    inv_freq = 1.0 / (theta ** (xp.arange(0, head_dim, 2, dtype=xp.float32) / head_dim))
    angles = xp.asarray(positions, xp.float32)[:, None] * inv_freq[None, :]  # [T,H/2]
    angles = xp.concatenate([angles, angles], axis=-1)  # [T,H]
    return xp.cos(angles).astype(xp.float32), xp.sin(angles).astype(xp.float32)


def rotate(x, cos, sin, xp=jnp):
    """RoPE on x [..., T, heads, H] with cos/sin [T,H]: x·cos + rotate_half(x)·sin."""
    half = x.shape[-1] // 2
    rotated = xp.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos[:, None] + rotated * sin[:, None]


def grouped_mix(weights, v):
    """weights [B,N,T,S] and values v [B,S,K,H] -> ctx [B,T,N,H], without repeating v."""
    b, n, t, s = weights.shape
    kv = v.shape[2]
    w_g = weights.reshape(b, kv, n // kv, t, s)  # [B,K,G,T,S]
    ctx = jnp.einsum("BKGTS,BSKH->BTKGH", w_g, v)
    return ctx.reshape(b, t, n, v.shape[-1])  # [B,T,N,H]


def qkv(x, p, cos, sin, cfg: LlamaConfig):
    """Block input x [B,T,D] -> rotated q [B,T,N,H], rotated k [B,T,K,H], v [B,T,K,H]."""
    a = rms_norm(x, p["ln_1"], cfg.layer_norm_epsilon)
    q, k, v = block.split_qkv(a @ p["w_qkv"] + p["b_qkv"], cfg)
    return rotate(q, cos, sin), rotate(k, cos, sin), v


def block_rest(x, ctx, p, cfg: LlamaConfig):
    """Residual after attention (ctx [B,T,N,H]) and the SwiGLU MLP: x [B,T,D] -> [B,T,D]."""
    b, t, n, h = ctx.shape
    x = x + ctx.reshape(b, t, n * h) @ p["w_o"]  # [B,T,D]
    m = rms_norm(x, p["ln_2"], cfg.layer_norm_epsilon)
    return x + (jax.nn.silu(m @ p["w_gate"]) * (m @ p["w_up"])) @ p["w_down"]  # via [B,T,F]


def _block(x, p, keep, cos, sin, cfg: LlamaConfig):
    """One block; returns (x, weights [B,N,T,T], q [B,T,N,H], k, v [B,T,K,H])."""
    q, k, v = qkv(x, p, cos, sin, cfg)
    weights = attention_weights(q, k, is_causal=True, local_window_size=cfg.window)
    ctx = grouped_mix(weights, v)  # [B,T,N,H]
    if keep is not None:  # a 0 zeroes the head's slice of W_O's input at every position
        ctx = ctx * keep[:, None]
    return block_rest(x, ctx, p, cfg), weights, q, k, v


def unembed(x, params, cfg: LlamaConfig):
    """Final RMSNorm and the output embedding: x [...,D] -> logits [...,V]."""
    w_out = params.get("lm_head", params["wte"])  # [V,D]
    return rms_norm(x, params["ln_f"], cfg.layer_norm_epsilon) @ w_out.T


def forward(params, ids, cfg: LlamaConfig, head_mask=None):
    """The decoder on ids [B,T]; the same outputs as the GPT-2 `decoder.forward`.

    Returns:
      logits [B,T,V]; weights [L,B,N,T,T]; q (rotated) [L,B,T,N,H]; k (rotated), v
      [L,B,T,K,H]; hidden [L+1,B,T,D] (embeddings, then each block's output, before ln_f).
    """
    x0 = params["wte"][ids]  # [B,T,D]; positions enter only through RoPE
    cos, sin = rope_tables(jnp.arange(ids.shape[1]), cfg.head_dim, cfg.rope_theta)

    def step(x, layer_keep):
        x, weights, q, k, v = _block(x, *layer_keep, cos, sin, cfg)
        return x, (x, weights, q, k, v)

    x, (hidden, atts, qs, ks, vs) = jax.lax.scan(step, x0, (params["layers"], head_mask))
    return unembed(x, params, cfg), atts, qs, ks, vs, jnp.concatenate([x0[None], hidden])


def rope_steps(layers, cfg: LlamaConfig, x, layer: int, head: int) -> dict[str, np.ndarray]:
    """One head's RoPE step, on the host from the layer's input x [T,D] (hidden_states[layer]).

    Returns:
      float32 q, q_rot [T,H] (query head `head`), k, k_rot [T,H] (its K/V head, `kv_group`),
      cos, sin [T,H], and angles [T,H/2] (m·θ_i).
    """
    if not 0 <= head < cfg.n_head:
        raise ValueError(f"head {head} is outside 0..{cfg.n_head - 1}")
    p = host_layer(layers, layer)
    n, kv, h = cfg.n_head, cfg.kv_heads, cfg.head_dim
    x = np.asarray(x, np.float32)
    a = x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + cfg.layer_norm_epsilon) * p["ln_1"]
    group = head // (n // kv)
    w = np.asarray(p["w_qkv"], np.float32)
    q = a @ w[:, head * h : (head + 1) * h]  # [T,H]
    k = a @ w[:, (n + group) * h : (n + group + 1) * h]
    cos, sin = rope_tables(np.arange(len(x)), h, cfg.rope_theta, xp=np)
    q_rot, k_rot = (rotate(m[:, None], cos, sin, xp=np)[:, 0] for m in (q, k))
    return {
        "q": q, "k": k, "q_rot": q_rot, "k_rot": k_rot, "cos": cos, "sin": sin,
        "angles": np.arange(len(x))[:, None] * (cfg.rope_theta ** (-np.arange(0, h, 2) / h)),
        "kv_group": np.int32(group),
    }  # fmt: skip
