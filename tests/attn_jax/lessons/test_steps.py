"""Tests for the step-by-step attention of the Math page (attn_jax.lessons.steps*)."""

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_jax.lessons.inputs import (
    MAX_TOKENS,
    projections,
    random_token_vectors,
    sentence_vectors,
    simple_tokens,
    toy_inputs,
)
from attn_jax.lessons.scaling import scaling_experiment
from attn_jax.lessons.steps import attention_steps, cell_breakdown, reference_difference

SENTENCE = "The animal didn't cross the street because it was too tired."


def _steps(t=5, d=7, h=3, seed=0, **kw):
    x = np.random.default_rng(seed + 100).standard_normal((t, d)).astype(np.float32)
    return attention_steps(x, *projections(d, h, seed), **kw)


def test_hand_computed_two_tokens():
    # X = [[1,0],[0,2]], W = I: Q = K = V = X, QKᵀ = [[1,0],[0,4]], scale 1/√2.
    x, eye = np.array([[1.0, 0.0], [0.0, 2.0]]), np.eye(2)
    s = attention_steps(x, eye, eye, eye)
    np.testing.assert_allclose(s.scores, [[1, 0], [0, 4]], atol=1e-6)
    np.testing.assert_allclose(s.scaled, [[0.70711, 0], [0, 2.82843]], atol=1e-5)
    # row 0: e^0.70711 = 2.02811 -> 2.02811 / 3.02811; row 1: 1 / (1 + e^2.82843 = 16.9188)
    np.testing.assert_allclose(s.weights, [[0.66976, 0.33024], [0.05581, 0.94419]], atol=1e-5)
    np.testing.assert_allclose(s.output, [[0.66976, 0.66048], [0.05581, 1.88838]], atol=1e-5)
    assert s.scale == pytest.approx(1 / np.sqrt(2))


def test_causal_zeros_above_diagonal():
    s = _steps(t=6, is_causal=True)
    upper = np.triu(np.ones((6, 6), bool), k=1)
    assert np.all(s.weights[upper] == 0.0)
    assert np.all(np.isneginf(s.masked[upper])) and np.all(np.isfinite(s.masked[~upper]))
    np.testing.assert_allclose(s.weights[0], np.eye(6)[0], atol=0)
    assert np.all(s.weights[~upper] > 0)


def test_temperature_divides_the_logits_and_flattens_the_softmax():
    base, hot, cold = _steps(), _steps(temperature=2.0), _steps(temperature=0.5)
    np.testing.assert_allclose(hot.scaled, base.scaled / 2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cold.scaled, base.scaled * 2, rtol=1e-5, atol=1e-6)
    assert np.all(hot.weights.max(axis=1) <= base.weights.max(axis=1) + 1e-6)
    assert np.all(cold.weights.max(axis=1) >= base.weights.max(axis=1) - 1e-6)
    assert not np.allclose(hot.weights, base.weights)
    with pytest.raises(ValueError):
        _steps(temperature=0.0)


@settings(max_examples=25, deadline=None)
@given(
    t=st.integers(1, 9),
    d=st.integers(1, 9),
    h=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    causal=st.booleans(),
    tau=st.floats(0.1, 4.0),
)
def test_rows_sum_to_one_and_match_jax(t, d, h, seed, causal, tau):
    s = _steps(t, d, h, seed, is_causal=causal, temperature=tau)
    np.testing.assert_allclose(s.weights.sum(axis=1), 1.0, atol=1e-5)
    assert reference_difference(s) < 1e-5


def test_equals_jax_dot_product_attention_on_odd_sizes():
    s = _steps(t=5, d=7, h=3, is_causal=True, temperature=1.7)
    q, k, v = (a[None, :, None, :] for a in (s.q, s.k, s.v))  # [1,T,1,H]
    ref = jax.nn.dot_product_attention(q, k, v, is_causal=True, scale=1 / (np.sqrt(3) * 1.7))
    np.testing.assert_allclose(s.output, np.asarray(ref)[0, :, 0, :], atol=1e-5)
    np.testing.assert_allclose(s.q, s.x @ s.w_q, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), causal=st.booleans(), data=st.data())
def test_cell_breakdown_reproduces_weight_and_output(seed, causal, data):
    s = _steps(t=5, d=7, h=3, seed=seed, is_causal=causal, temperature=1.3)
    i, j = data.draw(st.integers(0, 4)), data.draw(st.integers(0, 4))
    c = cell_breakdown(s, i, j)
    assert c.dot == pytest.approx(float(np.sum(c.q_i * c.k_j)))
    assert c.dot == pytest.approx(float(s.scores[i, j]), abs=1e-4)
    assert c.sqrt_dk == pytest.approx(np.sqrt(3)) and c.temperature == pytest.approx(1.3)
    assert c.weight == pytest.approx(float(s.weights[i, j]), abs=1e-6)
    assert c.weight == pytest.approx(c.exps[j] / c.exp_sum)
    np.testing.assert_allclose(c.contributions.sum(axis=0), c.output)
    np.testing.assert_allclose(c.output, s.output[i], atol=1e-5)
    if causal and j > i:
        assert c.weight == 0.0 and np.isneginf(c.row_logits[j]) and not c.allowed[j]
    else:
        assert c.scaled == pytest.approx(c.dot / (c.sqrt_dk * c.temperature))
        assert c.scaled == pytest.approx(float(s.scaled[i, j]), abs=1e-4)


def test_cell_breakdown_hand_case_and_bounds():
    x, eye = np.array([[1.0, 0.0], [0.0, 2.0]]), np.eye(2)
    c = cell_breakdown(attention_steps(x, eye, eye, eye), 1, 0)
    np.testing.assert_allclose(c.products, [0.0, 0.0])
    np.testing.assert_allclose(c.exps, [np.exp(-2.82843), 1.0], rtol=1e-4)
    assert c.weight == pytest.approx(0.05581, abs=1e-5)
    np.testing.assert_allclose(c.output, [0.05581, 1.88838], atol=1e-5)
    with pytest.raises(ValueError):
        cell_breakdown(attention_steps(x, eye, eye, eye), 2, 0)


def test_reference_difference_sees_a_wrong_output():
    s = _steps()
    broken = type(s)(**{**s.__dict__, "output": s.output + 0.5})
    assert reference_difference(broken) == pytest.approx(0.5, abs=1e-5)


def test_sqrt_dk_experiment():
    r = scaling_experiment(seed=0)
    np.testing.assert_array_equal(r["d_k"], [4, 8, 16, 32, 64, 128, 256, 512, 1024])
    # 256 x 16 samples per d_k: the sample variance is within ~10% of the truth
    np.testing.assert_allclose(r["var_raw"] / r["d_k"], 1.0, atol=0.25)
    np.testing.assert_allclose(r["var_scaled"], 1.0, atol=0.25)
    assert r["max_raw"][-1] > 0.85 and r["entropy_raw"][-1] < 0.5  # unscaled: saturated
    assert np.ptp(r["max_scaled"]) < 0.1 and np.all(r["entropy_scaled"] > 2.0)
    assert np.all(np.diff(r["entropy_raw"]) < 0.05)  # entropy shrinks as d_k grows


def test_toy_inputs_and_projections():
    toy = toy_inputs(3, 4)
    assert toy.tokens == ["I", "like", "green"] and toy.x.shape == (3, 4)
    assert set(np.unique(toy.x)) <= {-1.0, 0.0, 1.0}
    w_int = projections(4, 2, seed=5, integer=True)
    assert all(w.shape == (4, 2) and set(np.unique(w)) <= {-1.0, 0.0, 1.0} for w in w_int)
    a, b = projections(384, 16, seed=1), projections(384, 16, seed=2)
    np.testing.assert_array_equal(a[0], projections(384, 16, seed=1)[0])
    assert not np.allclose(a[0], b[0])
    assert np.std(a[0]) * np.sqrt(384) == pytest.approx(1.0, abs=0.1)


def test_sentence_vectors_without_model():
    vecs = sentence_vectors(SENTENCE)
    assert not vecs.from_model and vecs.tokens[0] == "[CLS]" and vecs.tokens[-1] == "[SEP]"
    assert vecs.tokens == simple_tokens(SENTENCE) and vecs.x.shape == (len(vecs.tokens), 384)
    the = [n for n, tok in enumerate(vecs.tokens) if tok == "the"]
    np.testing.assert_array_equal(vecs.x[the[0]], vecs.x[the[1]])  # same word, same vector
    long = sentence_vectors("word " * 40)
    assert len(long.tokens) == MAX_TOKENS and long.x.shape[0] == MAX_TOKENS
    assert long.n_total == 42
    np.testing.assert_array_equal(random_token_vectors(["a"], 8), random_token_vectors(["a"], 8))


class _FakeEncoder:
    def embed(self, text):
        tokens = ["[CLS]", *text.split(), "[SEP]"]
        return tokens, np.arange(len(tokens) * 3, dtype=np.float64).reshape(-1, 3)


def test_sentence_vectors_with_an_encoder():
    vecs = sentence_vectors("a b c", _FakeEncoder())
    assert vecs.from_model and vecs.tokens == ["[CLS]", "a", "b", "c", "[SEP]"]
    assert vecs.x.dtype == np.float32 and vecs.x.shape == (5, 3)
    cut = sentence_vectors(" ".join("abcdefghijklmnopqrst"), _FakeEncoder(), max_tokens=7)
    assert cut.tokens[-1] == "f" and cut.x.shape == (7, 3) and cut.n_total == 22


def test_sentence_vectors_from_the_real_model():
    from attn_jax.models.encoder import load_model

    vecs = sentence_vectors(SENTENCE, load_model())
    assert vecs.from_model and vecs.tokens[:3] == ["[CLS]", "the", "animal"]
    assert vecs.x.shape == (len(vecs.tokens), 384) and vecs.n_total == len(vecs.tokens) == 16
    # the embedding layer ends in a LayerNorm: each row is centred with a moderate spread
    assert np.all(np.abs(vecs.x.mean(axis=1)) < 0.2) and np.all(np.isfinite(vecs.x))
    s = attention_steps(vecs.x, *projections(384, 32, seed=0))
    assert reference_difference(s) < 1e-5


def test_biases_shift_q_k_v_and_default_to_zero():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 7)).astype(np.float32)
    w = projections(7, 3, seed=1)
    b = tuple(rng.standard_normal(3).astype(np.float32) for _ in range(3))
    plain, biased = attention_steps(x, *w), attention_steps(x, *w, biases=b)
    assert all(np.all(z == 0) for z in (plain.b_q, plain.b_k, plain.b_v))
    np.testing.assert_allclose(biased.q, x @ w[0] + b[0], atol=1e-5)
    np.testing.assert_allclose(biased.v, x @ w[2] + b[2], atol=1e-5)
    assert reference_difference(biased) < 1e-5 and plain.projected is None
    w_o = rng.standard_normal((3, 7)).astype(np.float32)
    with_o = attention_steps(x, *w, biases=b, w_o=w_o)
    np.testing.assert_allclose(with_o.projected, with_o.output @ w_o, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("t", [1, 15, 16, 17, 33])
def test_padding_to_buckets_changes_nothing(t):
    # lengths on both sides of a padding bucket; d_k 5 and d_model 9 are padded too
    s = _steps(t=t, d=9, h=5, seed=t, is_causal=t % 2 == 1)
    assert s.weights.shape == (t, t) and s.q.shape == (t, 5)
    np.testing.assert_allclose(s.weights.sum(axis=1), 1.0, atol=1e-5)
    assert reference_difference(s) < 1e-5
    np.testing.assert_allclose(s.scores, s.q @ s.k.T, rtol=1e-4, atol=1e-4)
