"""Finding heads in a model's attention maps: which head links a query to a target token,
which heads follow a syntactic pattern (previous token) or a semantic one (pronoun -> noun).

Inputs are one text's maps, attentions [L,N,T,T], and its T word pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from attn_jax.lessons.heads import CLS, SEP, head_stats, is_punctuation

PRONOUNS = frozenset(
    {"it", "its", "he", "him", "his", "she", "her", "they", "them", "their", "this", "that"}
)


@dataclass(frozen=True)
class HeadHit:
    """One head and the weight that qualified it."""

    layer: int
    head: int
    weight: float


def find_token(tokens: Sequence[str], word: str, *, start: int = 0) -> int | None:
    """Index of the first word piece equal to `word` (case-insensitive) at or after `start`."""
    word = word.strip().lower()
    for i in range(start, len(tokens)):
        if tokens[i].removeprefix("##").lower() == word:
            return i
    return None


def content_positions(tokens: Sequence[str]) -> np.ndarray:
    """Bool [T]: True for word pieces that are neither [CLS]/[SEP] nor punctuation."""
    return np.array([t not in (CLS, SEP) and not is_punctuation(t) for t in tokens], bool)


def default_query(tokens: Sequence[str]) -> int:
    """A pronoun when the text has one (the worked example's "it"), else the last content token."""
    for i, tok in enumerate(tokens):
        if tok.lower() in PRONOUNS:
            return i
    content = np.flatnonzero(content_positions(tokens))
    return int(content[-1]) if content.size else 0


def heads_linking(attentions, query: int, target: int, top: int = 5) -> list[HeadHit]:
    """The heads that put the most weight from `query` on `target`, strongest first.

    Args:
      attentions: [L,N,T,T]. query, target: token positions.
    """
    w = np.asarray(attentions)[:, :, query, target]  # [L,N]
    order = np.argsort(-w, axis=None)[:top]
    return [HeadHit(int(i // w.shape[1]), int(i % w.shape[1]), float(w.flat[i])) for i in order]


def row_summary(row, tokens: Sequence[str], top: int = 3) -> list[tuple[str, float]]:
    """The `top` keys of one attention row, as (token, weight), strongest first."""
    row = np.asarray(row)
    return [(tokens[j], float(row[j])) for j in np.argsort(-row)[:top]]


@dataclass(frozen=True)
class PatternHead:
    """A head found by measurement, with what was measured and a one-line reading."""

    kind: str  # "syntactic" or "semantic"
    name: str
    layer: int
    head: int
    score: float
    reading: str


def _previous_token_head(attentions, tokens) -> PatternHead:
    prev = head_stats(attentions, tokens)["prev"]  # [L,N]
    layer, head = np.unravel_index(np.nanargmax(prev), prev.shape)
    return PatternHead(
        "syntactic",
        "previous-token head",
        int(layer),
        int(head),
        float(prev[layer, head]),
        f"On average over the tokens that have one, {prev[layer, head]:.0%} of a token's "
        "weight goes to the token just before it: a pattern of position, not of meaning.",
    )


def _pronoun_head(attentions, tokens) -> PatternHead | None:
    """The head whose pronoun row puts most weight on an earlier content token (an antecedent)."""
    pronouns = [i for i, t in enumerate(tokens) if t.lower() in PRONOUNS]
    content = content_positions(tokens)
    best = None
    for p in pronouns:
        keys = content.copy()
        keys[max(p - 1, 0) :] = False  # antecedents come before the pronoun; skip its neighbour
        if not keys.any():
            continue
        rows = np.asarray(attentions)[:, :, p, :] * keys  # [L,N,T]
        layer, head, key = np.unravel_index(np.argmax(rows), rows.shape)
        if best is None or rows[layer, head, key] > best[0]:
            best = (float(rows[layer, head, key]), int(layer), int(head), p, int(key))
    if best is None:
        return None
    weight, layer, head, p, key = best
    return PatternHead(
        "semantic",
        "pronoun → antecedent head",
        layer,
        head,
        weight,
        f"“{tokens[p]}” puts {weight:.0%} of its weight on “{tokens[key]}”, "
        f"{p - key} tokens before it: a link by meaning, not by position.",
    )


def pattern_heads(attentions, tokens: Sequence[str]) -> list[PatternHead]:
    """A syntactic head (previous token) and, when the text has a pronoun, a semantic one."""
    found = [_previous_token_head(attentions, tokens)]
    semantic = _pronoun_head(attentions, tokens)
    if semantic is not None:
        found.append(semantic)
    return found


def weights_on(row, tokens: Sequence[str], words: Sequence[str]) -> dict[str, float | None]:
    """Weight of one attention row on the first occurrence of each word (None if absent)."""
    out = {}
    for word in words:
        j = find_token(tokens, word)
        out[word] = None if j is None else float(np.asarray(row)[j])
    return out


def counterfactual_reading(
    a: dict[str, float | None], b: dict[str, float | None], head: str, query: str
) -> str:
    """One honest sentence comparing where `query` looks in two texts, from `weights_on` dicts."""
    shared = [w for w in a if a[w] is not None and b.get(w) is not None]
    if len(shared) < 2:
        return (
            f"The two sentences do not both contain {' and '.join(a)}: compare the charts directly."
        )
    first, second = shared[:2]

    def lean(d):
        return first if d[first] >= d[second] else second

    if lean(a) != lean(b):
        moved = f"its stronger link moves from “{lean(a)}” to “{lean(b)}”"
    else:
        moved = f"“{lean(a)}” gets more weight in both"
    return (
        f"In head {head}, “{query}” puts {a[first]:.2f} on “{first}” and {a[second]:.2f} on "
        f"“{second}” in the first sentence, and {b[first]:.2f} / {b[second]:.2f} in the second: "
        f"{moved}. Attention shows where information flows in this head, not why "
        "the model decides: one head is not the model's reading of the sentence, and other "
        "heads and layers mix the result."
    )


def default_target(attentions, tokens: Sequence[str], query: int, word: str = "animal") -> int:
    """`word` when the text has it; else the content token (not the query) that the query
    attends to most, averaged over every layer and head."""
    found = find_token(tokens, word)
    if found is not None:
        return found
    keys = content_positions(tokens)
    keys[query] = False
    if not keys.any():
        return 0
    mean_row = np.asarray(attentions)[:, :, query, :].mean(axis=(0, 1))  # [T]
    return int(np.argmax(np.where(keys, mean_row, -1.0)))
