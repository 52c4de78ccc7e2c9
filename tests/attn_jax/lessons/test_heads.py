"""attn_jax.lessons.heads: head statistics, JS divergence, role tags, clustering, questions."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_jax.lessons import heads as hd
from tests.helpers import previous_token_map, uniform_map

TOKENS = ["[CLS]", "the", "cat", ",", "sat", "[SEP]"]  # T = 6, punctuation at 3
T = len(TOKENS)


def one_hot_column(j, t=T):
    a = np.zeros((t, t))
    a[:, j] = 1.0
    return a


def stats_of(a):
    return {k: float(v) for k, v in hd.head_stats(a, TOKENS).items()}


def test_uniform_head():
    s = stats_of(uniform_map())
    assert s["entropy"] == pytest.approx(math.log(T))
    assert s["norm_entropy"] == pytest.approx(1.0)
    assert s["confidence"] == pytest.approx(1 / T)
    assert s["cls"] == pytest.approx(1 / T) and s["sep"] == pytest.approx(1 / T)
    assert s["punct"] == pytest.approx(1 / T)
    assert s["prev"] == pytest.approx(1 / T) and s["next"] == pytest.approx(1 / T)
    # mean |i-j| over a uniform row i is sum_j |i-j| / T; averaged over rows: (T²-1)/(3T)
    assert s["distance"] == pytest.approx((T**2 - 1) / (3 * T))


def test_previous_token_head():
    s = stats_of(previous_token_map())
    assert s["prev"] == pytest.approx(1.0)
    assert s["next"] == pytest.approx(0.0)
    assert s["entropy"] == pytest.approx(0.0, abs=1e-9)
    assert s["confidence"] == pytest.approx(1.0)
    assert s["distance"] == pytest.approx((T - 1) / T)  # row 0 looks at itself (0), others 1
    assert s["self"] == pytest.approx(1 / T)
    # [CLS] gets rows 0 and 1; punctuation (index 3) gets row 4; [SEP] (last) gets nothing
    assert s["cls"] == pytest.approx(2 / T)
    assert s["punct"] == pytest.approx(1 / T)
    assert s["sep"] == pytest.approx(0.0)


def test_one_hot_sinks_and_next_token():
    assert stats_of(one_hot_column(0))["cls"] == pytest.approx(1.0)
    assert stats_of(one_hot_column(T - 1))["sep"] == pytest.approx(1.0)
    assert stats_of(one_hot_column(3))["punct"] == pytest.approx(1.0)
    nxt = np.zeros((T, T))
    nxt[np.arange(T - 1), np.arange(1, T)] = 1.0
    nxt[T - 1, T - 1] = 1.0
    assert stats_of(nxt)["next"] == pytest.approx(1.0)
    assert stats_of(nxt)["prev"] == pytest.approx(0.0)


def test_stats_keep_leading_axes_and_odd_sizes():
    rng = np.random.default_rng(0)
    tokens = ["[CLS]", "a", "!", "b", "?", "c", "[SEP]"]
    a = rng.dirichlet(np.ones(7), size=(3, 5, 7))  # L=3, N=5, T=7
    s = hd.head_stats(a, tokens)
    assert all(v.shape == (3, 5) for v in s.values())
    assert s["punct"][1, 2] == pytest.approx(a[1, 2][:, [2, 4]].sum(-1).mean())
    with pytest.raises(ValueError):
        hd.head_stats(a, tokens[:-1])


def test_single_token_has_no_previous_or_next():
    s = hd.head_stats(np.ones((1, 1)), ["[CLS]"])
    assert np.isnan(s["prev"]) and np.isnan(s["next"])
    assert s["cls"] == pytest.approx(1.0) and s["norm_entropy"] == 0.0


def test_is_punctuation():
    assert hd.is_punctuation(",") and hd.is_punctuation("##!") and hd.is_punctuation("'")
    assert not hd.is_punctuation("cat") and not hd.is_punctuation("[CLS]")
    assert not hd.is_punctuation("") and not hd.is_punctuation("a.")


def test_role_tags():
    stack = np.stack(
        [previous_token_map(), one_hot_column(0), one_hot_column(T - 1), uniform_map()]
    )
    tags = hd.role_tags(hd.head_stats(stack, TOKENS))
    assert tags[0] == "previous token"
    assert tags[1] == "[CLS] sink"
    assert tags[2] == "[SEP] sink"
    assert tags[3] == "broad / uniform"
    # every row on "cat" (a content word): no rule fires
    assert hd.role_tags(hd.head_stats(one_hot_column(2)[None], TOKENS))[0] == "mixed"
    both = hd.role_tags(
        hd.head_stats((0.5 * one_hot_column(0) + 0.5 * one_hot_column(T - 1))[None], TOKENS)
    )
    assert both[0] == "[CLS] sink, [SEP] sink"


def test_stats_table_rows():
    stack = np.stack([previous_token_map(), uniform_map()])[None]  # [L=1,N=2,T,T]
    rows = hd.stats_table(hd.head_stats(stack, TOKENS))
    assert [(r["layer"], r["head"]) for r in rows] == [(0, 0), (0, 1)]
    assert rows[0]["on previous token"] == 1.0 and rows[0]["role (heuristic)"] == "previous token"


def test_js_hand_cases():
    p = np.array([1.0, 0.0])
    q = np.array([0.0, 1.0])
    assert hd.js_divergence(p, q) == pytest.approx(math.log(2))
    assert hd.js_divergence(p, p) == pytest.approx(0.0)
    # p = (1,0), q = (½,½): m = (¾,¼); ½·ln(4/3) + ½·(½ln(2/3) + ½ln 2)
    expected = 0.5 * math.log(4 / 3) + 0.5 * (0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(2))
    assert hd.js_divergence(p, [0.5, 0.5]) == pytest.approx(expected)
    assert hd.head_js(previous_token_map(), previous_token_map()) == pytest.approx(0.0)
    assert hd.head_js(one_hot_column(0), one_hot_column(1)) == pytest.approx(math.log(2))


dists = st.integers(2, 9).flatmap(
    lambda n: st.tuples(
        *[st.lists(st.floats(0, 1), min_size=n, max_size=n).filter(lambda x: sum(x) > 1e-3)] * 2
    )
)


@settings(max_examples=60, deadline=None)
@given(dists)
def test_js_properties(pair):
    p, q = (np.array(x) / sum(x) for x in pair)
    d_pq, d_qp = hd.js_divergence(p, q), hd.js_divergence(q, p)
    assert d_pq == pytest.approx(d_qp, abs=1e-12)
    assert 0.0 <= d_pq <= math.log(2) + 1e-12
    assert hd.js_divergence(p, p) == pytest.approx(0.0, abs=1e-12)


def test_pairwise_js_and_cluster_order():
    a = np.stack(
        [
            previous_token_map(),
            uniform_map(),
            previous_token_map(),
            uniform_map(),
            one_hot_column(0),
        ]
    )
    d = hd.pairwise_js(a.reshape(1, 5, T, T))
    assert d.shape == (5, 5) and np.allclose(d, d.T) and np.allclose(np.diag(d), 0)
    order = hd.cluster_order(np.sqrt(d))
    assert sorted(order) == list(range(5))
    pos = {h: i for i, h in enumerate(order)}
    assert abs(pos[0] - pos[2]) == 1 and abs(pos[1] - pos[3]) == 1  # equal heads sit together
    assert hd.cluster_order(np.zeros((1, 1))) == [0]


def test_questions_are_computed_from_the_maps():
    prev = np.zeros((2, 3))
    prev[1, 2], prev[0, 1] = 0.9, -1.0
    stats = {"prev": prev}
    for seed in (0, 1):
        q = hd.previous_token_question(stats, seed)
        right = q.heads[q.question.answer]
        assert right == (1, 2) and q.question.options == ("head A", "head B")
        assert "90%" in q.question.reason
    raw = np.array([[0.8, 0.1], [0.2, 0.3]])
    for weighted, answer in ((raw * 0.3, 2), (raw, 1), (raw * 1.5, 0)):
        q = hd.sink_question(raw, weighted)
        assert q.heads[0] == (0, 0) and q.question.answer == answer
        assert "80%" in q.question.prompt
