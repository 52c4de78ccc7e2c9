"""The shipped copy model (models/induction-toy/) on rows it never saw (spans of 4..16 symbols
at random offsets after random prefixes): top-1 copy accuracy >= 0.8 through a previous-token
head in layer 0 and a textbook induction head in layer 1 (score >= 0.4 at key a+j+1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attn_jax.lessons import induction as ind
from attn_jax.models.decoder import load_decoder

TOY = Path(__file__).resolve().parents[3] / "models" / "induction-toy"


@pytest.fixture(scope="module")
def toy():
    return load_decoder(TOY)


def test_folder_is_a_gpt2_checkpoint_with_its_log(toy):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "training_log.json"):
        assert (TOY / name).is_file()
    cfg = json.loads((TOY / "config.json").read_text())
    assert cfg["model_type"] == "gpt2" and cfg["bos_token_id"] == 0
    assert toy.config.n_positions >= 33  # spans up to 16, at most half the context
    assert (TOY / "training_log.json").stat().st_size < 500_000


def test_tokenizer_gives_one_id_per_symbol(toy):
    ids, truncated = toy.tokenizer.encode("K 7 q R 2")
    assert len(ids) == 5 and not truncated
    assert toy.tokenizer.token_strings(ids) == ["K", "7", "q", "R", "2"]
    assert toy.tokenizer.eos_id == 0


@pytest.fixture(scope="module")
def report(toy):
    return ind.evaluate_decoder(toy, n_rows=300, seed=7)  # a seed the training never used


def test_held_out_rows_are_copied(toy, report):
    assert report.n_ctx == toy.config.n_positions
    assert report.copy_accuracy >= 0.8


def test_layer_0_has_a_previous_token_head(report):
    layer, _, score = report.best_previous_token()
    assert layer == 0 and score >= 0.5


def test_held_out_rows_have_a_textbook_induction_head(report):
    """A layer-1 head attends from the copy's j-th symbol to a+j+1, the symbol after its
    earlier occurrence, and not one place later (a+j+2)."""
    layer, head, score = report.best_induction()
    assert layer == 1 and score >= 0.4
    assert report.induction_next[layer, head] < 0.2


def test_a_typed_sequence_is_continued_by_copying(toy, report):
    text = "<|endoftext|> x 3 K 7 q R 2 m Z K 7 q R"  # rows start with the start token
    out = toy.run(text, k=1)
    assert out.next_token[0].token == "2"
    # the induction head looks back to "2" (position 7), the symbol after the earlier "R"
    layer, head, _ = report.best_induction()
    assert out.attentions[layer, head, -1].argmax() == 7
