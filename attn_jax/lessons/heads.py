"""Head statistics for a model's attention maps: what each of the L×N heads looks at.

Every statistic is a mean over query rows of one head's weights A [T,S] (S = T here):
entropy, mean attention distance, weight on [CLS] / [SEP] / punctuation / the previous /
the next token / itself, and confidence (mean max weight, Voita et al. 2019). Role tags
are heuristics computed from these with the thresholds in `ROLE_RULES`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from attn_jax.lessons.quiz import Question

CLS, SEP = "[CLS]", "[SEP]"
_EPS = 1e-12

# key -> (label shown on screen, one-line explanation)
STATS: dict[str, tuple[str, str]] = {
    "entropy": ("entropy (nats)", "−Σ a·ln a per query row; ln T = spread evenly, 0 = one key"),
    "distance": ("mean distance", "Σ a_ij·|i − j|: how far away, in tokens, a head looks"),
    "cls": ("on [CLS]", "weight on the [CLS] token"),
    "sep": ("on [SEP]", "weight on the [SEP] token(s)"),
    "punct": ("on punctuation", "weight on tokens made only of punctuation"),
    "prev": ("on previous token", "a[i, i−1], rows 1..T−1"),
    "next": ("on next token", "a[i, i+1], rows 0..T−2"),
    "self": ("on itself", "a[i, i]: the diagonal"),
    "confidence": ("confidence", "mean of the row maximum (Voita et al. 2019)"),
}

# (tag, stat key, threshold): a head gets the tag when stat >= threshold. "broad" uses
# entropy / ln T (normalised entropy) instead of the raw entropy.
ROLE_RULES: tuple[tuple[str, str, float], ...] = (
    ("previous token", "prev", 0.5),
    ("next token", "next", 0.5),
    ("self", "self", 0.5),
    ("[CLS] sink", "cls", 0.5),
    ("[SEP] sink", "sep", 0.5),
    ("punctuation", "punct", 0.4),
    ("broad / uniform", "norm_entropy", 0.8),
)


def is_punctuation(token: str) -> bool:
    """True for a word piece made only of punctuation characters ("," "." "##!" "'")."""
    text = token.removeprefix("##")
    return bool(text) and all(unicodedata.category(c).startswith("P") for c in text)


def _row_mean(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Mean over the selected query rows of values [...,T]; NaN when no row is selected."""
    if not rows.any():
        return np.full(values.shape[:-1], np.nan)
    return values[..., rows].mean(axis=-1)


def _offset_diag(attn: np.ndarray, k: int) -> np.ndarray:
    """a[i, i+k] for every row i, zero-padded where i+k falls outside: [...,T,T] -> [...,T]."""
    t = attn.shape[-1]
    rows = np.arange(t)
    cols = np.clip(rows + k, 0, t - 1)
    vals = attn[..., rows, cols]
    return np.where((rows + k >= 0) & (rows + k < t), vals, 0.0)


def head_stats(attn, tokens: Sequence[str]) -> dict[str, np.ndarray]:
    """Per-head statistics, each a mean over query rows.

    Args:
      attn: attention weights [...,T,T] (e.g. [L,N,T,T]), rows summing to 1.
      tokens: the T tokens (to find [CLS], [SEP] and punctuation).

    Returns:
      dict stat key -> array [...] (e.g. [L,N]), plus "norm_entropy" (entropy / ln T).
    """
    attn = np.asarray(attn)
    t = attn.shape[-1]
    if attn.ndim < 2 or attn.shape[-2] != t or len(tokens) != t:
        raise ValueError(f"attn must be [...,T,T] with T = len(tokens) = {len(tokens)}")
    # a few maps at a time in float64: 72 maps of 256 tokens would be 38 MB per temporary
    lead = attn.shape[:-2]
    flat = attn.reshape(-1, t, t)
    step = _maps_per_chunk(t)
    parts = [_stats_of(flat[i : i + step], tokens) for i in range(0, len(flat), step)]
    return {k: np.concatenate([p[k] for p in parts]).reshape(lead) for k in parts[0]}


_CHUNK_CELLS = 1 << 19  # attention cells per float64 chunk (4 MB)


def _maps_per_chunk(t: int) -> int:
    """How many [T,T] maps fit one float64 chunk (at least one)."""
    return max(1, _CHUNK_CELLS // (t * t))


def _stats_of(attn: np.ndarray, tokens: Sequence[str]) -> dict[str, np.ndarray]:
    """head_stats on [M,T,T] maps."""
    a = np.asarray(attn, dtype=np.float64)
    t = a.shape[-1]
    all_rows = np.ones(t, dtype=bool)
    pos = np.arange(t)
    key_mask = {
        "cls": np.array([tok == CLS for tok in tokens]),
        "sep": np.array([tok == SEP for tok in tokens]),
        "punct": np.array([is_punctuation(tok) for tok in tokens]),
    }
    out = {
        "entropy": _row_mean(-(a * np.log(np.clip(a, _EPS, None))).sum(-1), all_rows),
        "distance": _row_mean((a * np.abs(pos[:, None] - pos[None, :])).sum(-1), all_rows),
        "prev": _row_mean(_offset_diag(a, -1), pos >= 1),
        "next": _row_mean(_offset_diag(a, 1), pos < t - 1),
        "self": _row_mean(_offset_diag(a, 0), all_rows),
        "confidence": _row_mean(a.max(-1), all_rows),
    }
    for name, mask in key_mask.items():
        out[name] = _row_mean(a[..., mask].sum(-1), all_rows)
    out["norm_entropy"] = out["entropy"] / np.log(t) if t > 1 else np.zeros_like(out["entropy"])
    return {k: out[k] for k in [*STATS, "norm_entropy"]}


def role_tags(stats: dict[str, np.ndarray]) -> np.ndarray:
    """Heuristic role tags per head from `head_stats` (rules in ROLE_RULES).

    Returns:
      object array [...] of strings, tags joined by ", "; "mixed" when no rule fires.
    """
    shape = np.shape(stats["entropy"])
    tags = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        hits = [tag for tag, key, thr in ROLE_RULES if np.nan_to_num(stats[key][idx]) >= thr]
        tags[idx] = ", ".join(hits) or "mixed"
    return tags


def stats_table(stats: dict[str, np.ndarray]) -> list[dict]:
    """One row per head of an [L,N] stats dict: layer, head, every stat, role tags."""
    tags = role_tags(stats)
    rows = []
    for layer, head in np.ndindex(np.shape(stats["entropy"])):
        row = {"layer": layer, "head": head}
        row |= {STATS[k][0]: round(float(stats[k][layer, head]), 4) for k in STATS}
        row["role (heuristic)"] = tags[layer, head]
        rows.append(row)
    return rows


def js_divergence(p, q) -> np.ndarray:
    """Jensen-Shannon divergence in nats along the last axis: ½KL(p‖m) + ½KL(q‖m), m = ½(p+q).

    Args:
      p, q: distributions [...,S] (broadcastable), each summing to 1.

    Returns:
      [...] values in [0, ln 2]; 0 iff p = q, ln 2 for disjoint supports.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    m = 0.5 * (p + q)

    def kl(x):
        ratio = np.where(x > 0, x / np.where(m > 0, m, 1.0), 1.0)
        return np.sum(x * np.log(ratio), axis=-1)

    return np.clip(0.5 * kl(p) + 0.5 * kl(q), 0.0, np.log(2.0))


def head_js(a, b) -> float:
    """Mean over query rows of the JS divergence between two heads' maps [T,S] -> nats."""
    return float(np.mean(js_divergence(a, b)))


def pairwise_js(attn) -> np.ndarray:
    """Mean-row JS divergence between every pair of heads: [L,N,T,T] -> [L·N, L·N]."""
    a = np.asarray(attn)
    flat = a.reshape(-1, *a.shape[-2:])  # [L·N,T,T], in its own dtype
    n, t = flat.shape[0], flat.shape[-1]
    step = _maps_per_chunk(t)
    dist = np.zeros((n, n))
    for i in range(n):  # one head against a few at a time: temporaries of ~4 MB
        one = flat[i][None].astype(np.float64)
        for j in range(0, n, step):
            dist[i, j : j + step] = js_divergence(one, flat[j : j + step]).mean(-1)
    return 0.5 * (dist + dist.T)


def cluster_order(dist) -> list[int]:
    """Leaf order of average-linkage agglomerative clustering (numpy only).

    Args:
      dist: symmetric distance matrix [M,M].

    Returns:
      a permutation of range(M) in which merged clusters sit next to each other.
    """
    d = np.array(dist, dtype=np.float64)
    clusters: list[list[int]] = [[i] for i in range(d.shape[0])]
    between = d.copy()  # average distance between current clusters
    np.fill_diagonal(between, np.inf)
    while len(clusters) > 1:
        i, j = np.unravel_index(np.argmin(between), between.shape)
        i, j = min(i, j), max(i, j)
        ni, nj = len(clusters[i]), len(clusters[j])
        merged = (ni * between[i] + nj * between[j]) / (ni + nj)
        between[i], between[:, i] = merged, merged
        between[i, i] = np.inf
        between = np.delete(np.delete(between, j, axis=0), j, axis=1)
        clusters[i] = clusters[i] + clusters.pop(j)
    return clusters[0] if clusters else []


class HeadQuestion(NamedTuple):
    """A question about two heads shown as "head A" and "head B" (layer, head each)."""

    question: Question
    heads: tuple[tuple[int, int], tuple[int, int]]


def _order(first, second, seed: int) -> tuple[tuple, tuple, int]:
    """(head A, head B, index of `first` among the options), swapped when seed is odd."""
    return (first, second, 0) if seed % 2 == 0 else (second, first, 1)


def previous_token_question(stats: dict[str, np.ndarray], seed: int = 0) -> HeadQuestion:
    """“Which of these two heads looks at the previous token?”, from `head_stats` [L,N].

    The answer is the head with the highest mean weight on the previous token; the other is
    the one with the lowest. `seed` (e.g. a hash of the sentence) picks which is shown first.
    """
    prev = np.nan_to_num(np.asarray(stats["prev"], dtype=np.float64))
    best = np.unravel_index(int(np.argmax(prev)), prev.shape)
    worst = np.unravel_index(int(np.argmin(prev)), prev.shape)
    a, b, answer = _order(best, worst, seed)
    (la, ha), (lb, hb) = a, b
    hi, lo = prev[best], prev[worst]
    reason = (
        f"Head {'AB'[answer]} is layer {best[0]}, head {best[1]}: on average {hi:.0%} of each "
        f"row's weight sits on the token just before it, the line just left of the diagonal. "
        f"The other (layer {worst[0]}, head {worst[1]}) puts only {lo:.0%} there."
    )
    question = Question(
        "Which of these two heads looks at the previous token?",
        ("head A", "head B"),
        answer,
        reason,
    )
    return HeadQuestion(question, ((int(la), int(ha)), (int(lb), int(hb))))


def sink_question(raw_share, weighted_share, marker: str = "[CLS]/[SEP]") -> HeadQuestion:
    """“After value weighting, is this head's share on [CLS]/[SEP] higher, the same, lower?”

    Args:
      raw_share, weighted_share: [L,N] mean share of each head's rows on the marker tokens,
        from the weights and from the value-weighted maps.
    """
    raw = np.nan_to_num(np.asarray(raw_share, dtype=np.float64))
    weighted = np.nan_to_num(np.asarray(weighted_share, dtype=np.float64))
    layer, head = (int(i) for i in np.unravel_index(int(np.argmax(raw)), raw.shape))
    before, after = raw[layer, head], weighted[layer, head]
    ratio = after / before if before > 0 else 1.0
    answer = 0 if ratio > 1.1 else (2 if ratio < 0.9 else 1)
    reason = (
        f"Its value-weighted share is {after:.0%} (from {before:.0%} of the weight): the value "
        f"vectors it reads on {marker} are "
        + ("long, so they move a lot." if answer == 0 else "")
        + ("about as long as the others." if answer == 1 else "")
        + ("short, so that weight moves little (Kobayashi et al. 2020)." if answer == 2 else "")
    )
    question = Question(
        f"Layer {layer}, head {head} puts {before:.0%} of its weight on {marker}. After value "
        "weighting (weight × length of what is read), is that share …",
        ("higher", "about the same (within 10 %)", "lower"),
        answer,
        reason,
    )
    return HeadQuestion(question, ((layer, head), (layer, head)))
