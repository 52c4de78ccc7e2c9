"""Predict, then reveal: short questions whose answers are computed from the current numbers.

A question is built from live data (a row of scores, its mask, the token labels), so the
answer and its reason fit the sentence, layer and head on screen. Nothing about the person
answering is kept. Pure numpy; labels are plain text (escape them where they are shown).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Question:
    """One multiple-choice question with its answer and the live numbers behind it."""

    prompt: str
    options: tuple[str, ...]
    answer: int  # index into options
    reason: str  # why, with the numbers measured on the current input


def softmax_row(logits, allowed=None) -> np.ndarray:
    """Softmax of one row in float64; masked keys (allowed False) get exactly 0."""
    z = np.asarray(logits, np.float64)
    ok = np.ones(z.shape, bool) if allowed is None else np.asarray(allowed, bool)
    if not ok.any():
        return np.zeros_like(z)
    e = np.where(ok, np.exp(np.where(ok, z, 0.0) - z[ok].max()), 0.0)
    return e / e.sum()


def temperature_question(scaled_row, allowed, labels: Sequence[str], query: str) -> Question:
    """'What happens to the weights when τ → 0?', answered on this row (scaled at τ = 1).

    Args:
      scaled_row: [S] the row's scores divided by √d_k (at τ = 1). allowed: [S] bool.
      labels: S key labels. query: the query's label.
    """
    row = np.asarray(scaled_row, np.float64)
    ok = np.asarray(allowed, bool)
    top = int(np.argmax(np.where(ok, row, -np.inf)))
    cold, warm = softmax_row(row / 0.05, ok), softmax_row(row / 4.0, ok)
    options = (
        "They all become equal",
        f"Almost all of the weight goes to the highest-scoring key (“{labels[top]}”)",
        "They do not change: τ divides every score alike",
        "They all shrink towards 0",
    )
    reason = (
        f"Dividing by a small τ stretches the gaps between the scores, and softmax turns the "
        f"largest into nearly all of the weight: at τ = 0.05 the weight of “{query}” on "
        f"“{labels[top]}” is {cold[top]:.3f}; at τ = 4 it is {warm[top]:.3f} and the largest "
        f"weight is {warm.max():.3f} (τ → ∞ makes the weights equal)."
    )
    return Question(f"What happens to the weights of “{query}” when τ → 0?", options, 1, reason)


def scaling_question(scores_row, allowed, d_k: int, query: str) -> Question:
    """'What if we skipped the ÷√d_k?', answered with this row's largest weight both ways."""
    row = np.asarray(scores_row, np.float64)
    ok = np.asarray(allowed, bool)
    scaled, raw = softmax_row(row / np.sqrt(d_k), ok), softmax_row(row, ok)
    sharper = raw.max() >= scaled.max()
    options = (
        "The weights get more peaked (the largest one grows)",
        "The weights get flatter (closer to equal)",
        "Nothing changes: softmax ignores the scale",
    )
    reason = (
        f"Without ÷√{d_k} the scores are {np.sqrt(d_k):.2f}× larger, so softmax "
        f"{'sharpens' if sharper else 'flattens'}: the largest weight of “{query}” goes from "
        f"{scaled.max():.3f} to {raw.max():.3f}. With d_k in the hundreds this saturates the "
        "softmax and its gradients vanish."
    )
    return Question(
        f"What happens to the weights of “{query}” if we skip the ÷√d_k?",
        options,
        0 if sharper else 1,
        reason,
    )
