"""The copy task's rows and its held-out scores, on generated rows and hand-made maps."""

from __future__ import annotations

import numpy as np
import pytest

from attn_jax.lessons import induction as ind


@pytest.fixture(scope="module")
def rows():
    return ind.copy_rows(np.random.default_rng(0), 600, 33, 62)


def test_rows_copy_a_span_after_a_random_prefix(rows):
    ids, a, m = rows.ids, rows.starts, rows.lengths
    assert ids.shape == (600, 33) and ids.dtype == np.int32
    assert np.all(ids[:, 0] == 0) and np.all((ids[:, 1:] >= 1) & (ids[:, 1:] <= 62))
    for row, start, n in zip(ids, a, m, strict=True):
        np.testing.assert_array_equal(row[start + n : start + 2 * n], row[start : start + n])
    assert np.all(a >= 1) and np.all(a + 2 * m <= 33)


def test_offsets_and_lengths_vary(rows):
    a, m = rows.starts, rows.lengths
    assert set(m.tolist()) == set(range(4, 17))  # 4..16, at most half of 33
    assert a.min() == 1 and (a + 2 * m).max() == 33  # the copy may end at the last token
    assert len(set(a.tolist())) >= 20
    copy_start = a + m
    assert len(set(copy_start.tolist())) >= 20  # no fixed place where the copy begins


def test_short_rows_cap_the_span_at_half_the_context():
    r = ind.copy_rows(np.random.default_rng(1), 200, 17, 24)
    assert r.lengths.max() == 8 == ind.max_span_for(17)
    assert r.ids.max() <= 24
    with pytest.raises(ValueError, match="cannot hold"):
        ind.copy_rows(np.random.default_rng(1), 2, 8, 24)


def _maps(rows, kind: str) -> np.ndarray:
    """[L=1,B,N=2,T,T]: head 0 ideal induction (or uniform), head 1 previous-token."""
    b, t = rows.ids.shape
    att = np.zeros((1, b, 2, t, t), np.float32)
    q = np.arange(1, t)
    att[0, :, 1, q, q - 1] = 1.0
    att[0, :, 1, 0, 0] = 1.0
    for i, (a, m) in enumerate(zip(rows.starts, rows.lengths, strict=True)):
        for s in range(t):
            if kind == "uniform":
                att[0, i, 0, s, : s + 1] = 1.0 / (s + 1)
            elif a + m <= s <= a + 2 * m - 2:
                att[0, i, 0, s, s - m + 1] = 1.0
            else:
                att[0, i, 0, s, s] = 1.0
    return att


def test_ideal_heads_score_one():
    rows = ind.copy_rows(np.random.default_rng(2), 5, 21, 62)
    att = _maps(rows, "ideal")
    np.testing.assert_allclose(ind.induction_on_rows(att, rows), [[1.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(ind.induction_on_rows(att, rows, shift=1), [[0.0, 0.0]], atol=1e-6)
    prev = ind.previous_token_on_rows(att)
    assert prev[0, 1] == pytest.approx(1.0) and prev[0, 0] < 0.5


def test_uniform_head_scores_the_mean_of_one_over_position():
    rows = ind.CopyRows(np.zeros((1, 11), np.int32), np.array([1]), np.array([4]))
    att = _maps(rows, "uniform")
    expected = np.mean([1 / 6, 1 / 7, 1 / 8])  # queries 5, 6, 7 see 6, 7, 8 keys
    assert ind.induction_on_rows(att, rows)[0, 0] == pytest.approx(expected)


def test_copy_accuracy_scores_from_the_second_copied_symbol():
    rows = ind.copy_rows(np.random.default_rng(3), 50, 25, 10)
    oracle = np.zeros((50, 25, 12), np.float32)
    nxt = np.concatenate([rows.ids[:, 1:], rows.ids[:, :1]], axis=1)
    np.put_along_axis(oracle, nxt[..., None], 1.0, axis=-1)
    assert ind.copy_accuracy(oracle, rows) == 1.0
    report = ind.report_on_rows(oracle, _maps(rows, "ideal"), rows)
    assert report.best_induction()[:2] == (0, 0) and report.copy_accuracy == 1.0
    # a model that predicts the first copied symbol again every time is right only by chance
    wrong = np.zeros_like(oracle)
    wrong[..., 1] = 1.0
    assert ind.copy_accuracy(wrong, rows) < 0.3
