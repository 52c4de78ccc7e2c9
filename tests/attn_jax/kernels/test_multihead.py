"""attn_jax.kernels.multihead: split/merge, multi-head attention from X, grouped-query attention."""

import jax
import numpy as np
import pytest

from attn_jax import kv_group_of, merge_heads, multi_head_attention, split_heads

RNG = np.random.default_rng(1)


def test_split_merge_round_trip():
    x = RNG.normal(size=(2, 5, 12)).astype(np.float32)
    heads = split_heads(x, 3)
    assert heads.shape == (2, 5, 3, 4)
    np.testing.assert_array_equal(heads[:, :, 1], x[:, :, 4:8])  # head 1 = features 4..7
    np.testing.assert_array_equal(merge_heads(heads), x)


def test_split_rejects_indivisible():
    with pytest.raises(ValueError):
        split_heads(np.zeros((1, 2, 10)), 3)


def _weights(d, n, k, h):
    return (
        RNG.normal(size=(d, n * h)).astype(np.float32),
        RNG.normal(size=(d, k * h)).astype(np.float32),
        RNG.normal(size=(d, k * h)).astype(np.float32),
        RNG.normal(size=(n * h, d)).astype(np.float32),
    )


@pytest.mark.parametrize("n_kv", [6, 3, 2, 1])
def test_mha_with_gqa_equals_jax_nn(n_kv):
    b, t, d, n, h = 2, 5, 12, 6, 4
    x = RNG.normal(size=(b, t, d)).astype(np.float32)
    w_q, w_k, w_v, w_o = _weights(d, n, n_kv, h)
    out, heads, weights = multi_head_attention(
        x, w_q, w_k, w_v, w_o, n_heads=n, n_kv_heads=n_kv, is_causal=True
    )
    q = (x @ w_q).reshape(b, t, n, h)
    k = (x @ w_k).reshape(b, t, n_kv, h)
    v = (x @ w_v).reshape(b, t, n_kv, h)
    ref = jax.nn.dot_product_attention(q, k, v, is_causal=True)  # [B,T,N,H]
    np.testing.assert_allclose(heads, ref, atol=1e-4)
    np.testing.assert_allclose(out, ref.reshape(b, t, n * h) @ w_o, atol=1e-3)
    assert weights.shape == (b, n, t, t)
    np.testing.assert_allclose(np.asarray(weights).sum(-1), 1.0, atol=1e-5)


def test_mqa_heads_share_keys():
    # With one K/V head, query heads with the same Q weights give the same weights.
    d, n, h = 8, 4, 2
    x = RNG.normal(size=(1, 3, d)).astype(np.float32)
    w_q, w_k, w_v, w_o = _weights(d, n, 1, h)
    w_q[:, h : 2 * h] = w_q[:, :h]  # head 1 has head 0's query projection
    _, _, weights = multi_head_attention(x, w_q, w_k, w_v, w_o, n_heads=n, n_kv_heads=1)
    np.testing.assert_allclose(weights[:, 0], weights[:, 1], atol=1e-6)


def test_kv_group_of():
    assert kv_group_of(8, 8) == list(range(8))
    assert kv_group_of(8, 2) == [0, 0, 0, 0, 1, 1, 1, 1]
    assert kv_group_of(4, 1) == [0, 0, 0, 0]
    with pytest.raises(ValueError):
        kv_group_of(8, 3)
