"""memory_efficient_attention: equality with attention and jax.nn, ragged chunks, no [T,S]."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_jax import attention
from attn_jax.kernels.memory_efficient import memory_efficient_attention, working_set_bytes
from tests import helpers

RNG = np.random.default_rng(1)
rand = functools.partial(helpers.rand, rng=RNG)
qkv = functools.partial(helpers.qkv, rng=RNG)


def test_one_query_two_keys_by_hand():
    # H=1, scale 1: logits [2, 0] -> weights [e²/(e²+1), 1/(e²+1)]; values 1 and 3
    q = np.ones((1, 1, 1, 1), np.float32)
    k = np.array([2.0, 0.0], np.float32).reshape(1, 2, 1, 1)
    v = np.array([1.0, 3.0], np.float32).reshape(1, 2, 1, 1)
    e2 = np.e**2
    out = memory_efficient_attention(q, k, v, scale=1.0, q_chunk=1, k_chunk=1)
    np.testing.assert_allclose(np.asarray(out).item(), (e2 + 3) / (e2 + 1), rtol=1e-6)


SHAPES = [
    # b, t, s, n, kv heads, h, q_chunk, k_chunk, causal
    (1, 5, 7, 3, 3, 4, 2, 3, False),  # odd sizes, both last chunks ragged
    (2, 5, 7, 3, 3, 4, 4, 4, False),
    (1, 130, 130, 2, 2, 8, 64, 64, False),  # 130 = 2·64 + 2
    (1, 130, 130, 2, 2, 8, 64, 64, True),
    (1, 33, 70, 2, 2, 8, 16, 32, False),  # T != S
    (1, 70, 33, 2, 2, 8, 16, 32, False),
    (1, 64, 64, 4, 4, 16, 16, 16, True),  # causal, T == S, exact multiples
    (1, 50, 50, 3, 3, 8, 7, 11, True),  # causal, chunks not dividing, q_chunk != k_chunk
    (2, 9, 9, 4, 2, 8, 4, 3, True),  # grouped-query: 2 kv heads for 4 query heads
    (1, 6, 11, 6, 1, 4, 512, 512, False),  # multi-query; chunks larger than T and S
]


@pytest.mark.parametrize("b,t,s,n,k,h,qc,kc,causal", SHAPES)
def test_matches_attention(b, t, s, n, k, h, qc, kc, causal):
    q, k_, v = qkv(b, t, s, n, h, k)
    want = attention(q, k_, v, is_causal=causal)
    got = memory_efficient_attention(q, k_, v, is_causal=causal, q_chunk=qc, k_chunk=kc)
    assert got.shape == (b, t, n, h) and got.dtype == jnp.float32
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


# jax.nn needs K == N here; its causal mask is the same as ours when T == S
SAME_HEADS = [x for x in SHAPES if x[3] == x[4] and (x[1] == x[2] or not x[-1])]


@pytest.mark.parametrize("b,t,s,n,k,h,qc,kc,causal", SAME_HEADS)
def test_matches_jax_nn(b, t, s, n, k, h, qc, kc, causal):
    q, k_, v = qkv(b, t, s, n, h, k)
    want = jax.nn.dot_product_attention(q, k_, v, is_causal=causal)
    got = memory_efficient_attention(q, k_, v, is_causal=causal, q_chunk=qc, k_chunk=kc)
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("lanes", [2, 3, 9])  # 9 > number of query blocks
def test_lanes_do_not_change_the_result(lanes):
    q, k, v = qkv(1, 37, 29, 2, 8)
    want = attention(q, k, v, is_causal=True)
    got = memory_efficient_attention(q, k, v, is_causal=True, q_chunk=8, k_chunk=8, lanes=lanes)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_custom_scale():
    q, k, v = qkv(1, 5, 7, 3, 4)
    want = attention(q, k, v, scale=0.3)
    got = memory_efficient_attention(q, k, v, scale=0.3, q_chunk=2, k_chunk=2)
    np.testing.assert_allclose(got, want, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(
    t=st.integers(1, 40),
    s=st.integers(1, 40),
    n=st.integers(1, 3),
    h=st.sampled_from([1, 3, 8]),
    qc=st.integers(1, 48),
    kc=st.integers(1, 48),
    causal=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_property_equals_attention(t, s, n, h, qc, kc, causal, seed):
    rng = np.random.default_rng(seed)
    q, k, v = (rng.normal(size=(1, x, n, h)).astype(np.float32) for x in (t, s, s))
    want = attention(q, k, v, is_causal=causal)
    got = memory_efficient_attention(q, k, v, is_causal=causal, q_chunk=qc, k_chunk=kc)
    np.testing.assert_allclose(got, want, atol=2e-5, rtol=2e-5)


@settings(max_examples=15, deadline=None)
@given(t=st.integers(1, 20), s=st.integers(1, 20), seed=st.integers(0, 2**16))
def test_property_output_in_convex_hull_of_values(t, s, seed):
    # each output is a weighted average of value rows: within [min v, max v] per feature
    rng = np.random.default_rng(seed)
    q, k, v = (rng.normal(size=(1, x, 2, 4)).astype(np.float32) for x in (t, s, s))
    out = np.asarray(memory_efficient_attention(q, k, v, q_chunk=3, k_chunk=5))
    assert np.all(out <= v.max(axis=1, keepdims=True) + 1e-5)
    assert np.all(out >= v.min(axis=1, keepdims=True) - 1e-5)


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_half_precision_inputs_accumulate_in_float32(dtype):
    q, k, v = (jnp.asarray(x, dtype) for x in qkv(1, 37, 53, 2, 16))
    got = memory_efficient_attention(q, k, v, q_chunk=8, k_chunk=16)
    assert got.dtype == dtype
    f32 = [x.astype(jnp.float32) for x in (q, k, v)]
    want = attention(*f32)
    np.testing.assert_allclose(np.asarray(got, np.float32), want, atol=3e-2)


@pytest.mark.parametrize("causal", [False, True])
def test_huge_logits_no_nan(causal):
    q, k, v = qkv(1, 20, 20, 2, 8)
    q = q * 1e4  # logits ~ 1e4..1e5: exp overflows without the running max
    got = np.asarray(memory_efficient_attention(q, k, v, is_causal=causal, q_chunk=3, k_chunk=7))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, attention(q, k, v, is_causal=causal), atol=1e-4)


def _all_avals(jaxpr):
    """Every value shape in a jaxpr, including loop bodies and nested calls."""
    for eqn in jaxpr.eqns:
        for var in [*eqn.invars, *eqn.outvars]:
            if hasattr(var, "aval") and hasattr(var.aval, "shape"):
                yield var.aval.shape
        for param in eqn.params.values():
            inner = getattr(param, "jaxpr", param)
            if hasattr(inner, "eqns"):
                yield from _all_avals(inner)


def test_no_t_by_s_intermediate_in_jaxpr():
    t = s = 2048
    q = k = v = jax.ShapeDtypeStruct((1, t, 2, 8), jnp.float32)
    f = lambda q, k, v: memory_efficient_attention(q, k, v, q_chunk=128, k_chunk=256)  # noqa: E731
    biggest = max(int(np.prod(shape)) for shape in _all_avals(jax.make_jaxpr(f)(q, k, v).jaxpr))
    assert biggest < t * s // 8  # the largest array is a [2,128,256] block or q itself
    plain = jax.make_jaxpr(lambda q, k, v: attention(q, k, v))(q, k, v).jaxpr
    assert max(int(np.prod(shape)) for shape in _all_avals(plain)) >= 2 * t * s  # check can fail


def test_compiled_temp_memory_is_far_below_scores_matrix():
    t = s = 4096
    args = [jax.ShapeDtypeStruct((1, t, 1, 16), jnp.float32)] * 3
    scores = t * s * 4  # one [T,S] float32 matrix: 64 MiB
    mem = jax.jit(lambda q, k, v: memory_efficient_attention(q, k, v)).lower(*args).compile()
    plain = jax.jit(lambda q, k, v: attention(q, k, v)).lower(*args).compile()
    assert mem.memory_analysis().temp_size_in_bytes < scores / 8
    assert plain.memory_analysis().temp_size_in_bytes >= scores


def test_working_set_estimate_grows_linearly():
    small, big = working_set_bytes(4096, 8, 64), working_set_bytes(8192, 8, 64)
    assert big < 2.2 * small  # O(n), not O(n²)
    assert big > 8 * 8192 * 64 * 4  # at least q, k, v and out


@pytest.mark.parametrize(
    "kwargs,shapes",
    [
        ({}, ((1, 0, 2, 4), (1, 3, 2, 4))),  # T = 0
        ({"q_chunk": 0}, ((1, 3, 2, 4), (1, 3, 2, 4))),
        ({}, ((1, 3, 3, 4), (1, 3, 2, 4))),  # 2 kv heads do not divide 3
        ({}, ((1, 3, 2, 4), (1, 3, 2, 5))),  # head dims differ
    ],
)
def test_bad_inputs_raise_value_error(kwargs, shapes):
    q, k = np.zeros(shapes[0], np.float32), np.zeros(shapes[1], np.float32)
    with pytest.raises(ValueError):
        memory_efficient_attention(q, k, k, **kwargs)
