"""model_attention_steps: one head of a trained model, step by step, equals the model (the
encoder, the GPT-2 decoder, and the RoPE layouts with RMSNorm, GQA and the sliding window)."""

from pathlib import Path

import numpy as np
import pytest

import attn_jax
from attn_jax.lessons.real_steps import (
    head_input,
    is_causal,
    model_attention_steps,
    model_differences,
    model_rope_steps,
    uses_rope,
)
from attn_jax.lessons.steps import cell_breakdown, reference_difference
from attn_jax.models import block

EXAMPLE = "The animal didn't cross the street because it was too tired."


@pytest.fixture(scope="module")
def run(encoder):
    return encoder.run(EXAMPLE)


@pytest.mark.parametrize("layer, head", [(3, 1), (0, 0), (5, 11), (2, 7)])
def test_steps_equal_the_model(encoder, run, layer, head):
    steps = model_attention_steps(encoder, EXAMPLE, layer, head, run=run)
    np.testing.assert_allclose(steps.weights, run.attentions[layer, head], atol=1e-5)
    np.testing.assert_allclose(steps.q, run.queries[layer, head], atol=1e-5)
    np.testing.assert_allclose(steps.k, run.keys[layer, head], atol=1e-5)
    assert max(model_differences(steps, run, layer, head).values()) <= 1e-5
    assert reference_difference(steps) < 1e-5
    np.testing.assert_allclose(steps.x, run.hidden_states[layer])  # post-LN BERT: as is
    assert steps.mask.all() and not is_causal(encoder)  # an encoder sees every token


def test_worked_example_cell_and_the_heads_share(encoder, run):
    steps = model_attention_steps(encoder, EXAMPLE, 3, 1)  # runs the model itself
    it, animal = run.tokens.index("it"), run.tokens.index("animal")
    cell = cell_breakdown(steps, it, animal)
    assert cell.weight == pytest.approx(float(run.attentions[3, 1, it, animal]), abs=1e-5)
    assert cell.weight == pytest.approx(0.68, abs=0.01)
    w = encoder.head_weights(3, 1)
    h, d = encoder.config.head_dim, encoder.config.n_embd
    assert w["w_q"].shape == (d, h) and w["b_q"].shape == (h,) and w["w_o"].shape == (h, d)
    assert np.abs(steps.b_q).max() > 0  # the trained biases are in
    np.testing.assert_allclose(steps.projected, steps.output @ w["w_o"], rtol=1e-5, atol=1e-6)
    assert steps.projected.shape == (len(run.tokens), d)


def test_long_text_and_bad_indices(encoder):
    text = "a b c d e f g h i j " * 5  # past the first padding bucket
    out = encoder.run(text)
    steps = model_attention_steps(encoder, text, 1, 4, run=out)
    np.testing.assert_allclose(steps.weights, out.attentions[1, 4], atol=1e-5)
    with pytest.raises(ValueError):
        model_attention_steps(encoder, text, 6, 0, run=out)
    with pytest.raises(ValueError):
        model_attention_steps(encoder, text, 0, 12, run=out)


class _Cfg:
    n_head, kv_heads, head_dim, layer_norm_epsilon = 2, 2, 2, 1e-5


class _TinyDecoder:
    """A one-layer GPT-2-shaped model with hand-set weights (pre-LN, causal)."""

    config = _Cfg()

    def __init__(self, rng):
        d = 4  # two heads of 2
        self.params = {
            "wte": np.zeros((3, d)),
            "layers": [
                {
                    "ln_1": (rng.uniform(0.5, 1.5, d), rng.normal(size=d)),
                    "w_qkv": rng.normal(size=(d, 3 * d)),
                    "b_qkv": rng.normal(size=3 * d),
                    "w_o": rng.normal(size=(d, d)),
                }
            ],
        }

    def head_weights(self, layer, head):
        return block.head_weights(self.params["layers"], self.config, layer, head)


def test_decoder_layout_is_pre_layer_norm_and_causal():
    rng = np.random.default_rng(5)
    model = _TinyDecoder(rng)
    hidden = rng.normal(size=(5, 4)).astype(np.float32)  # T=5, odd
    x = head_input(model, hidden, 0)
    gain, bias = model.params["layers"][0]["ln_1"]
    norm = (hidden - hidden.mean(1, keepdims=True)) / np.sqrt(hidden.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(x, norm * gain + bias, rtol=1e-5, atol=1e-5)

    class Run:
        attentions = np.zeros((1, 2, 5, 5))
        hidden_states = hidden[None]

    model.run = lambda text: Run
    steps = model_attention_steps(model, "", 0, 1)
    assert is_causal(model) and not steps.mask[0, 1] and steps.mask[4].all()
    w = model.params["layers"][0]["w_qkv"]
    np.testing.assert_allclose(steps.w_k, w[:, 4:8][:, 2:4], rtol=1e-6)
    q = x @ w[:, 2:4] + model.params["layers"][0]["b_qkv"][2:4]
    np.testing.assert_allclose(steps.q, q, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.triu(steps.weights, 1), 0.0)


def test_the_trained_decoder_pre_layer_norm_and_causal():
    try:
        decoder = attn_jax.load_decoder()
    except attn_jax.ModelNotFoundError:
        pytest.skip("no decoder checkpoint")
    text = "def add(a, b):\n    return a + b  # add"
    out = decoder.run(text)
    for layer, head in [(0, 0), (decoder.config.n_layer - 1, decoder.config.n_head - 1)]:
        steps = model_attention_steps(decoder, text, layer, head, run=out)
        assert max(model_differences(steps, out, layer, head).values()) <= 1e-5
        assert is_causal(decoder) and not steps.mask[0, 1:].any()


DATA = Path(__file__).resolve().parents[2] / "data"
CODE = "def f(x):\n    return x + 1  # one more than x, and then some more text"


@pytest.mark.parametrize("name", ["llama-tiny", "mistral-tiny"])
def test_rope_layouts_rmsnorm_rotation_and_window(name):
    model = attn_jax.load_decoder(DATA / name)
    out = model.run(CODE)
    t, cfg = len(out.tokens), model.config
    for layer, head in [(0, 0), (1, 3), (cfg.n_layer - 1, 1)]:
        steps = model_attention_steps(model, CODE, layer, head, run=out)
        assert max(model_differences(steps, out, layer, head).values()) <= 1e-5
        rope = model_rope_steps(model, CODE, layer, head, run=out)
        np.testing.assert_array_equal(steps.q, rope.q)  # the rotated ones: what scores use
        np.testing.assert_allclose(rope.q_raw, steps.x @ steps.w_q, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(steps.scores, rope.q @ rope.k.T, rtol=1e-5, atol=1e-4)
        gain = np.asarray(model.params["layers"]["ln_1"][layer])
        h = np.asarray(out.hidden_states[layer], np.float64)
        rms = h / np.sqrt((h * h).mean(1, keepdims=True) + cfg.layer_norm_epsilon) * gain
        np.testing.assert_allclose(steps.x, rms, rtol=1e-5, atol=1e-5)
        assert not np.any(steps.b_q) and steps.w_o.shape == (cfg.head_dim, cfg.n_embd)
    assert uses_rope(model) and is_causal(model) and not steps.mask[0, 1:].any()
    window = cfg.sliding_window
    if window is not None:  # Mistral: query i sees keys i-W+1 .. i only
        assert t > window and not steps.mask[t - 1, : t - window].any()
        assert steps.mask[t - 1, t - window :].all()
        np.testing.assert_allclose(steps.weights[t - 1, : t - window], 0.0)
    else:
        assert steps.mask[t - 1].all()


def test_gpt2_and_encoder_have_no_rope_step(encoder):
    assert not uses_rope(encoder)
    with pytest.raises(ValueError, match="no RoPE"):
        model_rope_steps(encoder, EXAMPLE, 0, 0)
