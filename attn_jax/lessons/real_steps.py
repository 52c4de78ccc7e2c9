"""One head of a trained model, step by step: the real X, W_Q, W_K, W_V, biases and W_O.

Works for any model with the surface both our models have (duck-typed): `params["layers"]`
(stacked), `config` (head_dim, layer_norm_epsilon), `head_weights(layer, head)` (one head's
slices of the fused projections: w_q w_k w_v [D,H], b_q b_k b_v [H], w_o [H,D]) and
`run(text)` returning tokens, attentions [L,N,T,T], queries and keys [L,N,T,H] and
hidden_states [L+1,T,D]. A pre-LayerNorm block (GPT-2: an "ln_1" in the layer) normalises
the residual stream before the head, and such a decoder is causal.

Holds: is_causal, head_input, model_attention_steps, model_differences, residual_norms.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from attn_jax.lessons.steps import AttentionSteps, attention_steps
from attn_jax.models.block import layer_norm
from attn_jax.models.layer_stack import host_layer


def is_causal(model) -> bool:
    """The model's `is_causal`; without one, True for the GPT-2 layout (a token table `wte`)."""
    return bool(getattr(model, "is_causal", "wte" in model.params))


def head_input(model, hidden: np.ndarray, layer: int) -> np.ndarray:
    """X entering the attention of `layer`: the residual stream, LayerNormed first in a
    pre-LN block (GPT-2's ln_1); hidden [T,D] -> x [T,D] float32."""
    x = np.array(hidden, np.float32)  # a copy: the steps never alias the run's arrays
    p = host_layer(model.params["layers"], layer)
    if "ln_1" in p:
        gain_bias = tuple(jnp.asarray(a, jnp.float32) for a in p["ln_1"])
        x = np.array(layer_norm(jnp.asarray(x), gain_bias, model.config.layer_norm_epsilon))
    return x


def model_attention_steps(model, text: str, layer: int, head: int, *, run=None) -> AttentionSteps:
    """The single-head steps of a trained model's `layer`, `head` on `text`.

    x = the hidden state entering that layer [T,D]; q = x·W_Q + b_Q (likewise k, v) with that
    head's slices of the trained projections; scores, scaled (÷√H), weights, output = A·V
    [T,H], and projected = output·W_O[head rows] [T,D], the head's share of the attention
    output added to the residual stream (before W_O's bias, shared by all heads).

    Args:
      model: an Encoder or a Decoder (see the module docstring).
      text: the sentence. layer, head: 0-based.
      run: the model's output for `text` when already computed (saves a forward pass).

    Returns:
      AttentionSteps whose weights equal run.attentions[layer, head] and whose q, k equal
      run.queries / run.keys [layer, head] (to float32 rounding).
    """
    out = model.run(text) if run is None else run
    n_layers = out.attentions.shape[0]
    if not 0 <= layer < n_layers:
        raise ValueError(f"layer {layer} is outside 0..{n_layers - 1}")
    w = model.head_weights(layer, head)
    x = head_input(model, out.hidden_states[layer], layer)
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
