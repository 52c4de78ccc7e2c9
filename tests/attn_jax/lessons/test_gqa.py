"""Grouped-query attention made from the real encoder: K = N is the original, K < N runs."""

import numpy as np
import pytest

import attn_jax
from attn_jax.lessons import gqa
from attn_jax.lessons.real_steps import model_attention_steps, model_differences

TEXT = "The animal didn't cross the street because it was too tired."


def test_pool_heads_by_hand():
    w = np.arange(8.0).reshape(1, 8)  # 4 heads of dim 2: [0 1 | 2 3 | 4 5 | 6 7]
    np.testing.assert_allclose(gqa._pool_heads(w, 2, 2), [[1.0, 2.0, 5.0, 6.0]])
    np.testing.assert_allclose(gqa._pool_heads(w, 1, 2), [[3.0, 4.0]])
    np.testing.assert_allclose(gqa._pool_heads(w, 4, 2), w)


def test_twelve_kv_heads_is_the_original_exactly(encoder):
    out = encoder.run(TEXT)
    same = attn_jax.grouped_query(encoder, 12).run(TEXT)
    np.testing.assert_array_equal(same.attentions, out.attentions)
    np.testing.assert_array_equal(same.hidden_states, out.hidden_states)
    cmp = gqa.compare(out, same, 12)
    assert cmp.mean_js == 0.0 and cmp.embedding_cosine == pytest.approx(1.0)


def test_one_kv_head_runs_and_stays_finite(encoder):
    out = encoder.run(TEXT)
    mqa = attn_jax.grouped_query(encoder, 1)
    assert mqa.config.kv_heads == 1 and mqa.config.n_head == 12
    run = mqa.run(TEXT)
    assert run.tokens == out.tokens
    assert run.attentions.shape == out.attentions.shape
    assert run.keys.shape == run.values.shape == (6, 1, len(out.tokens), 32)
    assert np.isfinite(run.attentions).all() and np.isfinite(run.hidden_states).all()
    np.testing.assert_allclose(run.attentions.sum(-1), 1.0, atol=1e-5)
    cmp = gqa.compare(out, run, 1)
    assert cmp.js.shape == (6, 12) and 0 < cmp.mean_js < np.log(2)
    assert -1 <= cmp.embedding_cosine < 1
    assert mqa.compiled[16] is not encoder.compiled.get(16)  # its own executable


def test_query_heads_of_a_group_read_the_same_pooled_keys(encoder):
    out = attn_jax.grouped_query(encoder, 3).run(TEXT)  # 4 query heads per K/V head
    q, k = out.queries, out.keys
    logits = np.einsum("LNTH,LNSH->LNTS", q, np.repeat(k, 4, axis=1)) / np.sqrt(32)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(weights / weights.sum(-1, keepdims=True), out.attentions, atol=1e-5)


def test_bad_group_counts(encoder):
    with pytest.raises(ValueError):
        attn_jax.grouped_query(encoder, 5)
    with pytest.raises(ValueError):
        attn_jax.grouped_query(attn_jax.grouped_query(encoder, 6), 3)


def test_steps_of_a_grouped_head_read_its_groups_keys_and_values(encoder):
    grouped = attn_jax.grouped_query(encoder, 3)
    out = grouped.run(TEXT)
    steps = model_attention_steps(grouped, TEXT, 2, 7, run=out)  # head 7 reads K/V head 1
    w = grouped.head_weights(2, 7)
    np.testing.assert_array_equal(w["w_k"], grouped.head_weights(2, 4)["w_k"])  # same group
    diffs = model_differences(steps, out, 2, 7)
    assert set(diffs) == {"weights", "queries", "keys", "values"}
    assert max(diffs.values()) <= 1e-5


def test_group_divergence_separates_heads_that_share_keys():
    rng = np.random.default_rng(0)
    base = rng.dirichlet(np.ones(6), size=(2, 6))  # two distinct maps [2,T,S]
    near = np.stack([base[0], base[0], base[1], base[1]])[None]  # [1,N=4,T,S], groups 0 0 1 1
    within, across = gqa.group_divergence(near, [0, 0, 1, 1])
    assert within == pytest.approx(0.0, abs=1e-9) and across > 0.05
    assert np.isnan(gqa.group_divergence(near, [0, 1, 2, 3])[0])  # no pair shares a K/V head
