"""attn_jax.lessons.explore on hand-made attention maps (no model needed)."""

import numpy as np

from attn_jax.lessons import explore

TOKENS = ["[CLS]", "the", "dog", "ran", "because", "it", "was", "late", ".", "[SEP]"]
T = len(TOKENS)


def maps(l=2, n=3):
    """Uniform maps, with L1·H2 a previous-token head and L0·H1 linking "it" (5) to "dog" (2)."""
    a = np.full((l, n, T, T), 1.0 / T)
    a[1, 2] = np.eye(T, k=-1)
    a[1, 2, 0, 0] = 1.0
    a[0, 1, 5] = 0.0
    a[0, 1, 5, 2] = 0.8
    a[0, 1, 5, 5] = 0.2
    return a


def test_find_token_is_case_insensitive_and_strips_word_piece_marks():
    assert explore.find_token(["[CLS]", "The", "##It", "it"], "it") == 2
    assert explore.find_token(TOKENS, "the") == 1
    assert explore.find_token(TOKENS, "cat") is None
    assert explore.find_token(["a", "it", "b", "it"], "it", start=2) == 3


def test_default_query_prefers_a_pronoun():
    assert explore.default_query(TOKENS) == 5
    assert explore.default_query(["[CLS]", "dogs", "bark", ".", "[SEP]"]) == 2
    assert explore.default_query(["[CLS]", "[SEP]"]) == 0


def test_heads_linking_ranks_heads_by_weight():
    hits = explore.heads_linking(maps(), query=5, target=2, top=3)
    assert (hits[0].layer, hits[0].head) == (0, 1)
    assert np.isclose(hits[0].weight, 0.8)
    assert [h.weight for h in hits] == sorted((h.weight for h in hits), reverse=True)


def test_default_target_uses_the_word_or_the_strongest_content_key():
    a = maps()
    a[1, 2] = 1.0 / T  # no previous-token head here
    assert explore.default_target(a, TOKENS, 5, word="late") == 7
    assert explore.default_target(a, TOKENS, 5, word="zebra") == 2  # L0·H1 pulls "it" to "dog"


def test_pattern_heads_finds_previous_token_and_pronoun_heads():
    found = explore.pattern_heads(maps(), TOKENS)
    prev, pron = found
    assert (prev.kind, prev.layer, prev.head) == ("syntactic", 1, 2)
    assert prev.score > 0.99
    assert (pron.kind, pron.layer, pron.head) == ("semantic", 0, 1)
    assert "“it”" in pron.reading and "“dog”" in pron.reading


def test_pattern_heads_without_a_pronoun_gives_only_the_syntactic_head():
    tokens = ["[CLS]", "dogs", "bark", "loudly", "[SEP]"]
    a = np.full((1, 2, 5, 5), 0.2)
    assert [p.kind for p in explore.pattern_heads(a, tokens)] == ["syntactic"]


def test_counterfactual_reading_reports_the_shift_honestly():
    a = {"animal": 0.6, "street": 0.1}
    b = {"animal": 0.2, "street": 0.5}
    text = explore.counterfactual_reading(a, b, "L5·H11", "it")
    assert "0.60" in text and "0.50" in text and "moves from “animal” to “street”" in text
    assert "not why" in text
    same = explore.counterfactual_reading(a, {"animal": 0.5, "street": 0.4}, "L0·H0", "it")
    assert "“animal” gets more weight in both" in same
    assert "do not both contain" in explore.counterfactual_reading(
        a, {"animal": 0.5, "street": None}, "L0·H0", "it"
    )


def test_weights_on_reads_first_occurrence():
    row = np.arange(T) / 10
    assert explore.weights_on(row, TOKENS, ["dog", "cat"]) == {"dog": 0.2, "cat": None}
