"""attn_jax.kernels.plain: hand-computed cases, properties, and equality with jax.nn."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_jax import attention, attention_weights, causal_mask, masked_softmax
from tests import helpers

RNG = np.random.default_rng(0)
rand = functools.partial(helpers.rand, rng=RNG)


def test_two_tokens_by_hand():
    # H=1, scale 1: scores q·k = [[1*1, 1*0], [0*1, 0*0]] = [[1, 0], [0, 0]]
    q = np.array([1.0, 0.0], np.float32).reshape(1, 2, 1, 1)
    k = np.array([1.0, 0.0], np.float32).reshape(1, 2, 1, 1)
    v = np.array([10.0, 20.0], np.float32).reshape(1, 2, 1, 1)
    w = np.asarray(attention_weights(q, k))[0, 0]
    e = np.e
    np.testing.assert_allclose(w, [[e / (e + 1), 1 / (e + 1)], [0.5, 0.5]], rtol=1e-6)
    out = np.asarray(attention(q, k, v))[0, :, 0, 0]
    np.testing.assert_allclose(out, [10 * e / (e + 1) + 20 / (e + 1), 15.0], rtol=1e-6)


def test_default_scale_is_one_over_sqrt_h():
    q, k = rand(1, 3, 1, 4), rand(1, 3, 1, 4)
    manual = jax.nn.softmax(np.einsum("th,sh->ts", q[0, :, 0], k[0, :, 0]) / 2.0, axis=-1)
    np.testing.assert_allclose(attention_weights(q, k)[0, 0], manual, atol=1e-6)
    np.testing.assert_allclose(
        attention_weights(q, k, scale=0.5)[0, 0], manual, atol=1e-6
    )  # 1/sqrt(4) = 0.5


MASK_KINDS = ["none", "causal", "bool", "bias", "bool+bias+causal"]


def _kwargs(kind, b, n, t, s):
    kw = {}
    if "causal" in kind:
        kw["is_causal"] = True
    if "bool" in kind:
        mask = RNG.random((b, 1, t, s)) > 0.3
        mask[..., 0] = True  # no fully masked rows: jax.nn gives uniform weights there, we give 0
        kw["mask"] = mask
    if "bias" in kind:
        kw["bias"] = rand(1, n, t, s)
    return kw


@pytest.mark.parametrize("kind", MASK_KINDS)
@pytest.mark.parametrize("shape", [(2, 5, 7, 3, 4), (1, 6, 6, 2, 8), (3, 1, 4, 1, 2)])
def test_equals_jax_nn(kind, shape):
    b, t, s, n, h = shape
    if "causal" in kind and t != s:
        t = s  # jax.nn's causal mask is top-left aligned either way; keep it square and simple
    q, k, v = rand(b, t, n, h), rand(b, s, n, h), rand(b, s, n, h)
    kw = _kwargs(kind, b, n, t, s)
    ours = attention(q, k, v, **kw)
    ref = jax.nn.dot_product_attention(q, k, v, **kw)
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_causal_rectangular_equals_jax_nn():
    q, k, v = rand(1, 5, 3, 4), rand(1, 7, 3, 4), rand(1, 7, 3, 4)
    np.testing.assert_allclose(
        attention(q, k, v, is_causal=True),
        jax.nn.dot_product_attention(q, k, v, is_causal=True),
        atol=1e-5,
    )


def test_grouped_query_equals_jax_nn():
    q, k, v = rand(2, 5, 6, 4), rand(2, 7, 2, 4), rand(2, 7, 2, 4)
    np.testing.assert_allclose(attention(q, k, v), jax.nn.dot_product_attention(q, k, v), atol=1e-5)


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_low_precision_inputs_softmax_in_float32(dtype):
    q, k, v = (jnp.asarray(rand(1, 5, 3, 4), dtype) for _ in range(3))
    w = attention_weights(q, k)
    assert w.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(w).sum(-1), 1.0, atol=1e-6)
    out = attention(q, k, v)
    assert out.dtype == dtype
    ref = jax.nn.dot_product_attention(q, k, v)
    np.testing.assert_allclose(np.asarray(out, np.float32), np.asarray(ref, np.float32), atol=2e-2)


def test_huge_logits_are_stable():
    q = np.full((1, 3, 1, 2), 1e18, np.float32)
    k = rand(1, 4, 1, 2) * 1e18
    w = np.asarray(attention_weights(q, k))
    assert np.isfinite(w).all()
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)


def test_infinite_logits_give_no_nan():
    q, k = rand(1, 3, 1, 2), rand(1, 4, 1, 2)
    bias = np.zeros((1, 1, 3, 4), np.float32)
    bias[..., 0, 2] = np.inf  # an overflowed logit takes the whole row
    bias[..., 1, :] = -np.inf  # a row masked through the bias gives zeros
    w = np.asarray(attention_weights(q, k, bias=bias))[0, 0]
    assert np.isfinite(w).all()
    np.testing.assert_array_equal(w[0], [0.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(w[1], 0.0)
    np.testing.assert_allclose(w[2].sum(), 1.0, atol=1e-6)


def test_fully_masked_row_gives_zeros_not_nan():
    q, k, v = rand(1, 3, 2, 4), rand(1, 4, 2, 4), rand(1, 4, 2, 4)
    mask = np.ones((1, 1, 3, 4), bool)
    mask[0, 0, 1] = False  # query 1 may attend nothing
    w = np.asarray(attention_weights(q, k, mask=mask))
    out = np.asarray(attention(q, k, v, mask=mask))
    assert np.isfinite(w).all() and np.isfinite(out).all()
    assert (w[:, :, 1] == 0).all() and (out[:, 1] == 0).all()
    np.testing.assert_allclose(w[:, :, [0, 2]].sum(-1), 1.0, atol=1e-6)


def test_masked_softmax_matches_softmax_without_mask():
    x = rand(3, 5)
    np.testing.assert_allclose(masked_softmax(x), jax.nn.softmax(x), atol=1e-7)
    np.testing.assert_allclose(
        masked_softmax(x, np.ones((3, 5), bool)), jax.nn.softmax(x), atol=1e-7
    )


@pytest.mark.parametrize(
    "q_shape,k_shape,v_shape",
    [
        ((2, 3, 4), (2, 3, 4), None),
        ((1, 3, 2, 4), (1, 5, 2, 8), None),
        ((1, 3, 3, 4), (1, 5, 2, 4), None),
        ((1, 3, 2, 4), (1, 5, 2, 4), (1, 6, 2, 4)),
    ],
)
def test_bad_shapes_raise_clear_errors(q_shape, k_shape, v_shape):
    with pytest.raises(ValueError):
        if v_shape is None:
            attention_weights(np.zeros(q_shape), np.zeros(k_shape))
        else:
            attention(np.zeros(q_shape), np.zeros(k_shape), np.zeros(v_shape))


def test_non_boolean_mask_rejected():
    with pytest.raises(ValueError, match="boolean"):
        attention_weights(rand(1, 2, 1, 2), rand(1, 2, 1, 2), mask=np.ones((2, 2)))


def test_jittable_from_outside():
    q, k, v = rand(1, 5, 3, 4), rand(1, 7, 3, 4), rand(1, 7, 3, 4)
    jitted = jax.jit(lambda q, k, v: attention(q, k, v, is_causal=False))
    np.testing.assert_allclose(jitted(q, k, v), attention(q, k, v), atol=1e-6)


# --- properties ---------------------------------------------------------------

dims = st.integers(1, 6)


@settings(max_examples=40, deadline=None)
@given(t=dims, s=dims, n=st.integers(1, 3), h=st.integers(1, 5), seed=st.integers(0, 2**31))
def test_rows_sum_to_one(t, s, n, h, seed):
    r = np.random.default_rng(seed)
    w = np.asarray(attention_weights(r.normal(size=(1, t, n, h)), r.normal(size=(1, s, n, h))))
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-5)
    assert (w >= 0).all()


@settings(max_examples=40, deadline=None)
@given(t=dims, s=dims, seed=st.integers(0, 2**31))
def test_permuting_keys_and_values_together_changes_nothing(t, s, seed):
    r = np.random.default_rng(seed)
    q, k, v = (r.normal(size=(1, x, 2, 3)).astype(np.float32) for x in (t, s, s))
    perm = r.permutation(s)
    np.testing.assert_allclose(attention(q, k[:, perm], v[:, perm]), attention(q, k, v), atol=1e-5)


@settings(max_examples=30, deadline=None)
@given(t=st.integers(1, 8), seed=st.integers(0, 2**31))
def test_causal_weights_above_diagonal_are_exactly_zero(t, seed):
    r = np.random.default_rng(seed)
    q, k = r.normal(size=(2, t, 2, 3)), r.normal(size=(2, t, 2, 3))
    w = np.asarray(attention_weights(q, k, is_causal=True))
    assert (w[..., ~np.asarray(causal_mask(t, t))] == 0.0).all()
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-5)


@settings(max_examples=30, deadline=None)
@given(t=dims, s=dims, c=st.floats(-50, 50), seed=st.integers(0, 2**31))
def test_adding_a_constant_to_a_row_of_scores_changes_nothing(t, s, c, seed):
    r = np.random.default_rng(seed)
    q, k = r.normal(size=(1, t, 1, 3)), r.normal(size=(1, s, 1, 3))
    bias = np.zeros((1, 1, t, s), np.float32)
    bias[..., 0, :] = c  # the same constant over the whole first row
    np.testing.assert_allclose(
        attention_weights(q, k, bias=bias), attention_weights(q, k), atol=1e-5
    )


def test_window_equals_the_same_band_as_a_mask():
    rng = np.random.default_rng(5)
    q, k = rng.normal(size=(1, 7, 3, 4)), rng.normal(size=(1, 9, 3, 4))
    i, j = np.arange(7)[:, None], np.arange(9)[None, :]
    band = (j >= i - 1) & (j <= i + 2)
    want = attention_weights(q, k, mask=band)
    np.testing.assert_allclose(attention_weights(q, k, local_window_size=(1, 2)), want, atol=1e-7)
    causal = attention_weights(q, k, is_causal=True, local_window_size=(1, 2))
    np.testing.assert_allclose(
        causal, attention_weights(q, k, mask=band & np.tri(7, 9, dtype=bool))
    )


def test_softmax_gradient_equals_jax_nn():
    """The guard against a positive residual must not change the gradient (jnp.minimum's
    gradient at its tie would halve the largest logit's)."""
    rng = np.random.default_rng(3)
    logits = jnp.asarray(rng.normal(size=(3, 7)) * 3, jnp.float32)
    cot = jnp.asarray(rng.normal(size=(3, 7)), jnp.float32)
    ours = jax.grad(lambda x: jnp.sum(masked_softmax(x) * cot))(logits)
    ref = jax.grad(lambda x: jnp.sum(jax.nn.softmax(x) * cot))(logits)
    np.testing.assert_allclose(ours, ref, atol=1e-6)
