"""One head of a trained model, step by step: the real X, W_Q, W_K, W_V, biases and W_O.

Works for any model with the surface both our models have (duck-typed): `params["layers"]`
(stacked), `config` (head_dim, layer_norm_epsilon), `head_weights(layer, head)` (one head's
slices of the fused projections: w_q w_k w_v [D,H], b_q b_k b_v [H], w_o [H,D]) and
`run(text)` returning tokens, attentions [L,N,T,T], queries and keys [L,N,T,H] and
hidden_states [L+1,T,D]. A pre-LayerNorm block (GPT-2: an "ln_1" in the layer) normalises
the residual stream before the head, and such a decoder is causal.

A RoPE model (the Llama and Mistral layouts: `config.rope_theta`) normalises with RMSNorm
(`ln_1` is a gain [D], no bias), has no projection biases, rotates q and k by their
positions (`attn_jax.lessons.rope`) before the scores and reads the K/V head of the query
head's group; Mistral adds its sliding window to the causal mask. Its AttentionSteps keep
the real x, W_Q, W_K, W_V, and their q, k are the rotated ones (what the scores use:
q = RoPE(X·W_Q)); the pre-rotation ones are in `model_rope_steps` (RopeSteps.q_raw, k_raw).

Holds: is_causal, uses_rope, head_input, model_rope_steps, model_attention_steps,
model_differences, residual_norms.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from attn_jax.lessons.rope import RopeSteps, rope_steps
from attn_jax.lessons.steps import AttentionSteps, attention_steps
from attn_jax.models.block import layer_norm
from attn_jax.models.layer_stack import host_layer
from attn_jax.models.llama import rms_norm


def is_causal(model) -> bool:
    """The model's `is_causal`; without one, True for the GPT-2 layout (a token table `wte`)."""
    return bool(getattr(model, "is_causal", "wte" in model.params))


def uses_rope(model) -> bool:
    """Whether the model rotates queries and keys by position (a `rope_theta` in its config)."""
    return getattr(model.config, "rope_theta", None) is not None


def head_input(model, hidden: np.ndarray, layer: int) -> np.ndarray:
    """X entering the attention of `layer`: the residual stream, LayerNormed first in a
    pre-LN block (GPT-2's ln_1), RMSNormed in a RoPE model; hidden [T,D] -> x [T,D] float32."""
    x = np.array(hidden, np.float32)  # a copy: the steps never alias the run's arrays
    p = host_layer(model.params["layers"], layer)
    if uses_rope(model):
        gain = jnp.asarray(p["ln_1"], jnp.float32)  # [D]
        x = np.array(rms_norm(jnp.asarray(x), gain, model.config.layer_norm_epsilon))
    elif "ln_1" in p:
        gain_bias = tuple(jnp.asarray(a, jnp.float32) for a in p["ln_1"])
        x = np.array(layer_norm(jnp.asarray(x), gain_bias, model.config.layer_norm_epsilon))
    return x


def _checked_run(model, text: str, layer: int, run):
    """The model's run for `text` (computed unless given), with `layer` checked against it."""
    out = model.run(text) if run is None else run
    n_layers = out.attentions.shape[0]
    if not 0 <= layer < n_layers:
        raise ValueError(f"layer {layer} is outside 0..{n_layers - 1}")
    return out


def _rope_of(model, x: np.ndarray, w: dict) -> RopeSteps:
    """The RoPE step of one head from its input x [T,D] and its weights (`head_weights`)."""
    q_raw, k_raw = x @ w["w_q"] + w["b_q"], x @ w["w_k"] + w["b_k"]  # [T,H] (zero biases)
    return rope_steps(q_raw, k_raw, model.config.rope_theta, int(w.get("kv_group", 0)))


def model_rope_steps(model, text: str, layer: int, head: int, *, run=None) -> RopeSteps:
    """The RoPE step of a RoPE model's `layer`, `head` on `text`: q = RMSNorm(x)·W_Q and
    k = RMSNorm(x)·W_K (the head's K/V group) before and after the rotation.

    Returns:
      RopeSteps whose q, k equal run.queries[layer, head] and run.keys[layer, group].
    """
    if not uses_rope(model):
        raise ValueError("this model has no RoPE step (no rope_theta in its config)")
    out = _checked_run(model, text, layer, run)
    x = head_input(model, out.hidden_states[layer], layer)
    return _rope_of(model, x, model.head_weights(layer, head))


def _window_mask(model, t: int) -> np.ndarray | None:
    """Mistral's sliding window as a [T,T] mask (query i sees keys i-W+1 .. i), else None."""
    window = getattr(model.config, "sliding_window", None)
    if window is None:
        return None
    offsets = np.arange(t)[:, None] - np.arange(t)[None, :]
    return offsets < window


def _rope_attention_steps(model, x: np.ndarray, w: dict) -> AttentionSteps:
    """AttentionSteps whose q, k are rotated: the shared steps run on [q_rot | k_rot | v]
    with identity blocks as projections, then carry the real x and weights."""
    rope = _rope_of(model, x, w)
    v = x @ w["w_v"] + w["b_v"]  # [T,H]
    h = rope.q.shape[1]
    stacked = np.concatenate([rope.q, rope.k, v], axis=1)  # [T,3H]
    eye = np.eye(3 * h, dtype=np.float32)
    picks = [eye[:, n * h : (n + 1) * h] for n in range(3)]  # [3H,H]: picks q_rot, k_rot, v
    steps = attention_steps(stacked, *picks, is_causal=True, w_o=w["w_o"],
                            mask=_window_mask(model, len(x)))  # fmt: skip
    real = {name: w[name] for name in ("w_q", "w_k", "w_v", "b_q", "b_k", "b_v")}
    return dataclasses.replace(steps, x=x, **real)


def model_attention_steps(model, text: str, layer: int, head: int, *, run=None) -> AttentionSteps:
    """The single-head steps of a trained model's `layer`, `head` on `text`.

    x = the hidden state entering that layer [T,D]; q = x·W_Q + b_Q (likewise k, v) with that
    head's slices of the trained projections; scores, scaled (÷√H), weights, output = A·V
    [T,H], and projected = output·W_O[head rows] [T,D], the head's share of the attention
    output added to the residual stream (before W_O's bias, shared by all heads). In a RoPE
    model x = RMSNorm(hidden)·gain and q, k are rotated before the scores (module docstring).

    Args:
      model: an Encoder or a Decoder (see the module docstring).
      text: the sentence. layer, head: 0-based.
      run: the model's output for `text` when already computed (saves a forward pass).

    Returns:
      AttentionSteps whose weights equal run.attentions[layer, head] and whose q, k equal
      run.queries / run.keys [layer, head] (to float32 rounding).
    """
    out = _checked_run(model, text, layer, run)
    w = model.head_weights(layer, head)
    x = head_input(model, out.hidden_states[layer], layer)
    if uses_rope(model):
        return _rope_attention_steps(model, x, w)
    return attention_steps(
        x,
        w["w_q"],
        w["w_k"],
        w["w_v"],
        is_causal=is_causal(model),
        biases=(w["b_q"], w["b_k"], w["b_v"]),
        w_o=w["w_o"],
    )


def model_differences(steps: AttentionSteps, run, layer: int, head: int) -> dict[str, float]:
    """max |steps − model| for the weights, queries, keys (and values when the run has them)."""
    n, kv = run.attentions.shape[1], run.keys.shape[1]
    group = head // (n // kv)  # the K/V head this query head reads (K < N: grouped-query)
    pairs = {
        "weights": (steps.weights, run.attentions[layer, head]),
        "queries": (steps.q, run.queries[layer, head]),
        "keys": (steps.k, run.keys[layer, group]),
    }
    values = getattr(run, "values", None)
    if values is not None:
        pairs["values"] = (steps.v, values[layer, group])
    return {
        name: float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))
        for name, (a, b) in pairs.items()
    }


def residual_norms(steps: AttentionSteps, i: int) -> np.ndarray:
    """‖a_is · v_s · W_O[head rows]‖ for every key s: what each key adds to token i's residual
    stream through this head (Kobayashi et al. 2020's value-weighted view). [S] float64."""
    if steps.w_o is None:
        raise ValueError("these steps have no W_O (random weights): nothing to project")
    terms = steps.weights[i].astype(np.float64)[:, None] * steps.v.astype(np.float64)  # [S,Hv]
    return np.linalg.norm(terms @ steps.w_o.astype(np.float64), axis=1)  # [S]
