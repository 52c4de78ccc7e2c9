"""Sliding-window attention: local_window_size=(left, right) on all three kernels."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_jax import attention, attention_weights, memory_efficient_attention, window_mask
from attn_jax.kernels.memory_efficient import _key_range
from tests import helpers

RNG = np.random.default_rng(7)
qkv = functools.partial(helpers.qkv, rng=RNG)


def test_window_mask_by_hand():
    # 4 queries, 5 keys, left 1, right 2: query i sees keys i-1 .. i+2
    want = np.array(
        [[1, 1, 1, 0, 0], [1, 1, 1, 1, 0], [0, 1, 1, 1, 1], [0, 0, 1, 1, 1]], dtype=bool
    )
    np.testing.assert_array_equal(window_mask(4, 5, (1, 2)), want)


def test_weights_are_zero_outside_the_band_and_rows_sum_to_one():
    q, k, _ = qkv(1, 9, 9, 2, 4)
    w = np.asarray(attention_weights(q, k, local_window_size=(2, 1)))  # [B,N,T,S]
    band = np.asarray(window_mask(9, 9, (2, 1)))
    assert (w[..., ~band] == 0).all()
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-6)


def test_int_window_means_both_sides():
    q, k, v = qkv(1, 7, 7, 1, 4)
    a = attention(q, k, v, local_window_size=2)
    b = attention(q, k, v, local_window_size=(2, 2))
    np.testing.assert_array_equal(a, b)


def test_window_as_wide_as_the_sequence_changes_nothing():
    q, k, v = qkv(1, 6, 6, 2, 4)
    np.testing.assert_allclose(
        memory_efficient_attention(q, k, v, local_window_size=(6, 6), q_chunk=4, k_chunk=4),
        attention(q, k, v),
        atol=1e-6,
    )


# b, t, s, n, kv heads, h, window, causal; every row sees at least one key, as jax.nn needs
JAX_NN_CASES = [
    (1, 5, 7, 3, 3, 4, (1, 2), False),  # odd sizes, T != S
    (2, 9, 9, 3, 3, 4, (2, 0), True),  # Mistral-style: causal, look back 2
    (1, 13, 13, 2, 2, 8, (3, 3), True),  # causal cuts the right side
    (1, 11, 6, 2, 2, 4, (5, 0), False),  # more queries than keys, each still sees one
    (1, 8, 8, 4, 2, 4, (0, 0), False),  # grouped-query; each query sees only itself
]


@pytest.mark.parametrize("b,t,s,n,k,h,window,causal", JAX_NN_CASES)
def test_attention_equals_jax_nn(b, t, s, n, k, h, window, causal):
    q, k_, v = qkv(b, t, s, n, h, k)
    want = jax.nn.dot_product_attention(q, k_, v, is_causal=causal, local_window_size=window)
    got = attention(q, k_, v, is_causal=causal, local_window_size=window)
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


# + chunk sizes; ragged last blocks, bands narrower and wider than a block
MEA_CASES = [
    (1, 5, 7, 3, 3, 4, (1, 2), False, 2, 3),
    (2, 9, 9, 3, 3, 4, (2, 0), True, 4, 2),
    (1, 130, 130, 2, 2, 8, (17, 5), False, 32, 16),
    (1, 130, 130, 2, 2, 8, (40, 0), True, 64, 16),
    (1, 50, 70, 3, 3, 8, (3, 9), False, 7, 11),
    (1, 70, 50, 2, 1, 8, (9, 3), True, 16, 8),
    (1, 7, 5, 2, 2, 4, (0, 1), False, 3, 2),  # queries 6 sees no key: zeros, as attention
    (1, 64, 64, 2, 2, 4, (100, 100), True, 16, 16),
]


@pytest.mark.parametrize("b,t,s,n,k,h,window,causal,qc,kc", MEA_CASES)
def test_memory_efficient_equals_attention(b, t, s, n, k, h, window, causal, qc, kc):
    q, k_, v = qkv(b, t, s, n, h, k)
    want = attention(q, k_, v, is_causal=causal, local_window_size=window)
    got = memory_efficient_attention(
        q, k_, v, is_causal=causal, local_window_size=window, q_chunk=qc, k_chunk=kc
    )
    assert not np.isnan(np.asarray(got)).any()
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("b,t,s,n,k,h,window,causal", JAX_NN_CASES)
def test_memory_efficient_equals_jax_nn(b, t, s, n, k, h, window, causal):
    q, k_, v = qkv(b, t, s, n, h, k)
    want = jax.nn.dot_product_attention(q, k_, v, is_causal=causal, local_window_size=window)
    got = memory_efficient_attention(
        q, k_, v, is_causal=causal, local_window_size=window, q_chunk=4, k_chunk=3
    )
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


@settings(max_examples=25, deadline=None)
@given(
    t=st.integers(1, 40),
    s=st.integers(1, 40),
    left=st.integers(0, 45),
    right=st.integers(0, 45),
    qc=st.integers(1, 16),
    kc=st.integers(1, 16),
    causal=st.booleans(),
)
def test_property_memory_efficient_equals_attention(t, s, left, right, qc, kc, causal):
    q, k, v = qkv(1, t, s, 2, 4)
    kw = dict(is_causal=causal, local_window_size=(left, right))
    got = memory_efficient_attention(q, k, v, q_chunk=qc, k_chunk=kc, **kw)
    np.testing.assert_allclose(got, attention(q, k, v, **kw), atol=1e-5, rtol=1e-5)


def test_only_key_blocks_in_the_band_are_visited():
    # n = 4096 in 512-query / 256-key blocks, causal window of 256: at most 4 of 16 key blocks
    for i in range(8):
        lo, hi = _key_range(i * 512, 512, 256, 16, True, (256, 0))
        assert 0 < int(hi) - int(lo) <= 3 and int(hi) == 2 * i + 2
    lo, hi = _key_range(0, 512, 256, 16, False, None)
    assert (lo, hi) == (0, 16)


@pytest.mark.parametrize("window", [(-1, 2), (1, 2, 3), "ab", (1.5, None)])
def test_bad_windows_raise_value_error(window):
    q, k, v = qkv(1, 4, 4, 1, 4)
    for fn in (attention, memory_efficient_attention):
        with pytest.raises(ValueError, match="local_window_size"):
            fn(q, k, v, local_window_size=window)


def test_jittable_with_static_window():
    q, k, v = qkv(1, 6, 6, 1, 4)
    f = jax.jit(lambda q, k, v: memory_efficient_attention(q, k, v, local_window_size=(1, 0)))
    np.testing.assert_allclose(f(q, k, v), attention(q, k, v, local_window_size=(1, 0)), atol=1e-6)
    assert jnp.asarray(f(q, k, v)).shape == (1, 6, 1, 4)
