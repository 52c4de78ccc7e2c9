"""attn_jax.lessons.decoder_lessons on the shipped decoder: predictions, the training log,
the KV cache against a full run."""

import numpy as np
import pytest

from attn_jax.lessons import decoder_lessons as dl
from ui.app.content import EXAMPLE


def test_next_token_table_has_a_row_per_token(decoder):
    out = decoder.run(EXAMPLE)
    rows = dl.next_token_table(decoder, out, k=5)
    assert len(rows) == len(out.tokens)
    assert list(rows[0]) == ["position", "token", "next 1", "next 2", "next 3", "next 4", "next 5"]
    probs = out.top_next_probs[:, :5]
    assert np.all(np.diff(probs, axis=1) <= 0) and np.all(probs.sum(axis=1) <= 1 + 1e-5)


def test_training_curves_read_the_shipped_log(decoder, tmp_path):
    curves = dl.training_curves(decoder.path)
    assert curves is not None and len(curves.steps) > 10
    assert curves.loss[-1] < curves.loss[0]
    n_layer, n_head = decoder.config.n_layer, decoder.config.n_head
    assert curves.induction.shape == (len(curves.probe_steps), n_layer, n_head)
    best = curves.best_induction()
    assert best.shape == curves.probe_steps.shape and np.all((best >= 0) & (best <= 1))
    step = curves.phase_change(float(best.max()))  # the first probe at the best score
    assert step == int(curves.probe_steps[np.argmax(best)])
    assert curves.phase_change(1.01) is None
    assert dl.training_curves(tmp_path) is None


def test_kv_cache_generation_equals_the_full_run(decoder):
    check = dl.kv_cache_check(decoder, EXAMPLE, n_new=6)
    assert len(check.new_tokens) == 6 and check.max_abs_diff < 1e-3
    cfg = decoder.config
    assert check.bytes_per_token == 2 * cfg.n_layer * cfg.n_head * cfg.head_dim * 4
    assert check.cache_bytes == check.bytes_per_token * (check.prompt_tokens + 6)


def test_top1_probability_is_the_runs_own_without_a_knock_out_and_falls_with_one(decoder):
    out = decoder.run(EXAMPLE)
    before = out.top_next_probs[:, 0].mean()
    assert dl.top1_probability(decoder, out, []) == pytest.approx(before, abs=1e-5)
    every = [
        (la, he) for la in range(decoder.config.n_layer) for he in range(decoder.config.n_head)
    ]
    assert dl.top1_probability(decoder, out, every) < 0.9 * before
