"""Value-weighted attention ‖a_ij · v_j W_O^h‖ against a direct loop, and on the real model."""

import functools

import numpy as np
import pytest

from attn_jax.lessons.value_weighted import (
    row_shares,
    special_share,
    special_value_share,
    value_norms,
    value_weighted,
)
from tests import helpers

RNG = np.random.default_rng(7)


small_model = functools.partial(helpers.attention_and_values, rng=RNG)


@pytest.mark.parametrize("n_kv", [3, 1])
def test_matches_a_loop_over_every_cell(n_kv):
    attn, values, w_o = small_model(n_kv=n_kv)
    got = value_weighted(attn, values, w_o)
    n_layers, n_heads, t, _ = attn.shape
    group = n_heads // n_kv
    for layer in range(n_layers):
        for head in range(n_heads):
            for i in range(t):
                for j in range(t):
                    vec = (
                        attn[layer, head, i, j] * values[layer, head // group, j] @ w_o[layer, head]
                    )
                    assert got[layer, head, i, j] == pytest.approx(np.linalg.norm(vec), rel=1e-6)


def test_row_shares_and_special_share():
    m = np.array([[1.0, 3.0], [0.0, 0.0]])
    np.testing.assert_allclose(row_shares(m), [[0.25, 0.75], [0.0, 0.0]])
    maps = np.array([[[[0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.2, 0.2, 0.6]]]])  # [L,N,T,T]
    assert special_share(maps, ["[CLS]", "a", "[SEP]"]) == pytest.approx((0.7 + 0.9 + 0.8) / 3)
    assert special_share(maps, ["x", "y", "z"]) == pytest.approx((0.5 + 0.1 + 0.2) / 3)  # sink
    by_layer = special_share(np.concatenate([maps, maps]), ["[CLS]", "a", "[SEP]"], by="layer")
    np.testing.assert_allclose(by_layer, [0.8, 0.8])
    assert special_share(maps, ["[CLS]", "a", "[SEP]"], by="head").shape == (1, 1)


@pytest.mark.parametrize("n_kv", [3, 1])
@pytest.mark.parametrize("by", [None, "layer", "head"])
def test_special_value_share_equals_the_share_of_the_weighted_maps(n_kv, by):
    attn, values, w_o = small_model(n_kv=n_kv)
    attn[0, 1, 2] = 0.0  # an all-zero row counts as zero, as row_shares makes it
    for tokens in (["[CLS]", "a", "b", "c", "[SEP]"], list("vwxyz")):  # markers, sink
        want = special_share(row_shares(value_weighted(attn, values, w_o)), tokens, by=by)
        got = special_value_share(attn, values, w_o, tokens, by=by)
        np.testing.assert_allclose(got, want, rtol=1e-12)
    with pytest.raises(ValueError):
        special_value_share(attn[:, :, :, :4], values, w_o, list("abcd"))


def test_row_shares_in_place_keeps_one_array():
    m = RNG.random((2, 3, 4, 4)).astype(np.float32)
    want = row_shares(m)
    got = row_shares(m, out=m)
    assert got is m and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_shapes_must_fit():
    attn, values, w_o = small_model()
    with pytest.raises(ValueError):
        value_norms(values[:, :2], w_o)  # 2 K/V heads do not divide 3 query heads
    with pytest.raises(ValueError):
        value_weighted(attn[:, :, :, :4], values, w_o)


def test_real_model_special_tokens_move_little():
    attn_jax = pytest.importorskip("attn_jax")
    try:
        enc = attn_jax.load_model()
    except attn_jax.ModelNotFoundError:
        pytest.skip("model not installed")
    out = enc.run("The animal didn't cross the street because it was too tired.")
    w_o = enc.output_weights()
    assert w_o.shape == (6, 12, 32, 384) and out.values.shape == out.keys.shape
    vw = value_weighted(out.attentions, out.values, w_o)
    # the head outputs (before b_O) are the rows' vector sums: check one head against it
    ctx = np.einsum("TS,SH->TH", out.attentions[3, 1], out.values[3, 1]) @ w_o[3, 1]
    sums = np.einsum("TS,SH,HD->TSD", out.attentions[3, 1], out.values[3, 1], w_o[3, 1])
    np.testing.assert_allclose(np.linalg.norm(sums, axis=-1), vw[3, 1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sums.sum(1), ctx, atol=1e-4)
    # Kobayashi et al.: much of the weight on [CLS]/[SEP] carries little
    raw = special_share(out.attentions, out.tokens)
    weighted = special_share(row_shares(vw), out.tokens)
    assert weighted < raw * 0.6
