"""attn_jax.lessons.concept_quiz on hand-made maps: the measured answer is the right one."""

import numpy as np

from attn_jax.lessons import concept_quiz as cq


def test_strongest_key_question_answers_with_the_row():
    row = np.array([0.05, 0.6, 0.1, 0.2, 0.05])
    labels = ["[CLS]", "animal", "it", "street", "[SEP]"]
    q = cq.strongest_key_question(row, labels, query=2, head_name="L3·H1", n_options=3)
    assert q.options == ("[CLS]", "animal", "street")  # top keys but the query, text order
    assert q.options[q.answer] == "animal" and "0.60" in q.reason
    assert "“it”" in q.prompt


def test_previous_token_question_picks_the_shifted_head():
    t = 6
    shift = np.eye(t, k=-1)
    shift[0, 0] = 1.0
    maps = np.stack([np.stack([np.full((t, t), 1 / t), shift])])  # [1,2,T,T]
    tokens = ["[CLS]", "a", "b", "c", "d", "[SEP]"]
    q = cq.previous_token_question(maps, tokens)
    assert q.options == ("layer 0, head 0", "layer 0, head 1")
    assert q.answer == 1 and "100%" in q.reason
    assert cq.previous_token_question(maps[..., :2, :2], tokens[:2]) is None
