"""Predict, then reveal, for the Concept page: questions answered from the model's own maps.

Each builder reads the attention maps of the sentence on screen, so the right answer, the
distractors and the reason are measured, not written in advance. Pure numpy; labels are plain
text (escape them where they are shown).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from attn_jax.lessons.explore import content_positions
from attn_jax.lessons.heads import head_stats
from attn_jax.lessons.quiz import Question


def strongest_key_question(
    row, labels: Sequence[str], query: int, head_name: str, n_options: int = 4
) -> Question:
    """'Which token will <query> attend to most in <head>?' on one row of weights [T].

    The options are the row's top keys (other than the query itself), in text order."""
    w = np.asarray(row, np.float64)
    order = [int(j) for j in np.argsort(-w) if j != query][:n_options]
    options = sorted(order)
    best = order[0]
    reason = (
        f"In {head_name}, “{labels[query]}” puts {w[best]:.2f} of its weight on "
        f"“{labels[best]}”; the other choices get "
        + ", ".join(f"“{labels[j]}” {w[j]:.2f}" for j in options if j != best)
        + "."
    )
    return Question(
        f"Which token will “{labels[query]}” attend to most in {head_name}?",
        tuple(labels[j] for j in options),
        options.index(best),
        reason,
    )


def previous_token_question(attentions, tokens: Sequence[str]) -> Question | None:
    """'Which of these two heads looks at the previous token?': the strongest previous-token
    head against a head of the same map set that does so least. None for one-token texts."""
    maps = np.asarray(attentions)
    if maps.shape[-1] < 3:
        return None
    prev = head_stats(maps, tokens)["prev"]  # [L,N]
    if not np.isfinite(prev).any():
        return None
    hi = np.unravel_index(np.nanargmax(prev), prev.shape)
    lo = np.unravel_index(np.nanargmin(prev), prev.shape)
    pair = sorted([hi, lo])  # in layer order, so the answer is not always first
    names = tuple(f"layer {int(a)}, head {int(b)}" for a, b in pair)
    reason = (
        f"Layer {hi[0]}, head {hi[1]} puts {prev[hi]:.0%} of a token's weight on the token "
        f"just before it, on average; layer {lo[0]}, head {lo[1]} only {prev[lo]:.0%}."
    )
    return Question(
        "Which of these two heads looks at the previous token?", names, pair.index(hi), reason
    )


def content_share(row, tokens: Sequence[str]) -> float:
    """Share of one row's weight on content tokens (not [CLS]/[SEP] or punctuation)."""
    return float(np.asarray(row, np.float64)[content_positions(tokens)].sum())
