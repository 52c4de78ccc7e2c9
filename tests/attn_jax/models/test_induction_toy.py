"""The shipped copy model (models/induction-toy/) on rows it never saw (spans of 4..16 symbols
at random offsets after random prefixes): top-1 copy accuracy >= 0.8 through a previous-token
head and layer-1 heads one place after the textbook key; a textbook induction head (score
>= 0.4) is the expected failure still open."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
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


def test_layer_0_has_a_previous_token_head_and_layer_1_copies_one_place_later(report):
    """The circuit this checkpoint learned: layer 1 attends to a+j+2, the position whose
    previous token is the one to predict, and reads it from layer 0's previous-token head."""
    layer, _, score = report.best_previous_token()
    assert layer == 0 and score >= 0.5
    assert report.induction_next[1].max() >= 0.4


@pytest.mark.xfail(
    strict=True,
    reason="issue 22's done-when: no head attends to a+j+1 (textbook induction); this "
    "checkpoint's layer-1 heads attend one place later (see models/induction-toy/README.md)",
)
def test_held_out_rows_have_a_textbook_induction_head(report):
    assert report.best_induction()[2] >= 0.4


def test_a_typed_sequence_is_continued_by_copying(toy):
    text = "<|endoftext|> x 3 K 7 q R 2 m Z K 7 q R"  # rows start with the start token
    out = toy.run(text, k=1)
    assert out.next_token[0].token == "2"
    # layer 1 looks back to "m" (position 8), whose previous token is the "2" to predict
    assert np.all(out.attentions[1, :, -1].argmax(axis=-1) == 8)
