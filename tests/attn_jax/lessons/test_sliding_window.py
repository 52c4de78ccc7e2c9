"""attn_jax.lessons.sliding_window: the Llama-layout decoder with a Mistral-style window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attn_jax.lessons import sliding_window as sw
from attn_jax.models.decoder import load_decoder

# a small random checkpoint (the goldens')
LLAMA = Path(__file__).resolve().parents[2] / "data" / "llama-tiny"


@pytest.fixture(scope="module")
def model():
    return load_decoder(LLAMA)


def test_the_window_hides_keys_further_back_than_w(model):
    ids = np.arange(1, 21) % model.config.vocab_size
    full, narrow = model.attentions_of(ids), sw.windowed(model, 4).attentions_of(ids)
    hidden = ~sw.visible(len(ids), 4)
    assert np.abs(narrow[..., hidden]).max() == 0.0  # nothing past W keys back
    np.testing.assert_allclose(narrow.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(narrow[..., :4, :4], full[..., :4, :4], atol=1e-6)  # < W: same
    assert sw.windowed(model, 64).config.window == (63, 0)


def test_a_window_wider_than_the_text_changes_nothing(model):
    text = "the cat sat on the mat"
    full, wide = model.run(text), sw.windowed(model, 64).run(text)
    np.testing.assert_allclose(wide.attentions, full.attentions, atol=1e-6)
    effect = sw.window_effect(full, wide)
    assert effect["top1_changed"] == 0 and effect["js"].max() < 1e-6


def test_window_cost_counts_cells_and_cache():
    assert sw.window_cost(5, 2) == {
        "cells_full": 15, "cells_window": 9, "keys_per_query": 2, "cache_tokens": 2
    }  # fmt: skip
    assert sw.window_cost(3, 8)["cells_window"] == 6
    np.testing.assert_array_equal(sw.visible(3, None), np.tri(3, dtype=bool))


def test_gpt2_has_no_windowed_pass():
    with pytest.raises(ValueError, match="Llama"):
        sw.windowed(load_decoder(), 4)
