"""Predict-then-reveal questions: answers computed from the numbers they are asked about."""

import numpy as np
import pytest

from attn_jax.lessons.quiz import scaling_question, softmax_row, temperature_question


def test_softmax_row_with_a_mask():
    w = softmax_row([1.0, 2.0, 3.0], [True, False, True])
    assert w[1] == 0.0 and w.sum() == pytest.approx(1.0)
    assert w[2] / w[0] == pytest.approx(np.e**2)
    assert not softmax_row([1.0, 2.0], [False, False]).any()


def test_temperature_question_names_the_top_key_and_its_numbers():
    q = temperature_question([0.5, 2.0, -1.0, 1.9], [True] * 4, ["a", "b", "c", "d"], "it")
    assert q.answer == 1 and "“b”" in q.options[1] and "“it”" in q.prompt
    cold = softmax_row(np.array([0.5, 2.0, -1.0, 1.9]) / 0.05)[1]
    assert f"{cold:.3f}" in q.reason
    masked = temperature_question([5.0, 1.0], [False, True], ["x", "y"], "q")
    assert "“y”" in masked.options[1]  # the masked key can never win


@pytest.mark.parametrize("d_k", [1, 4, 64])
def test_scaling_question_follows_the_row(d_k):
    row = np.array([3.0, 1.0, -2.0, 0.5])
    q = scaling_question(row, [True] * 4, d_k, "it")
    sharper = softmax_row(row).max() >= softmax_row(row / np.sqrt(d_k)).max()
    assert q.answer == (0 if sharper else 1) and q.options[q.answer]
    assert f"{softmax_row(row).max():.3f}" in q.reason
