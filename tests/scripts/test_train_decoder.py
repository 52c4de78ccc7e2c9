"""scripts/train_decoder.py on a few KB of text with a tiny model: the loss goes down, the
checkpoint it writes loads in our decoder, and the data pipeline is deterministic."""

from __future__ import annotations

import json
from dataclasses import replace

import jax
import numpy as np
import pytest

from attn_jax.models.decoder import forward, load_decoder
from tests import helpers


@pytest.fixture(scope="module")
def td():
    return helpers.load_script("train_decoder")


@pytest.fixture(scope="module")
def tiny_config(td):
    return replace(
        td.TrainConfig(),
        vocab_size=300,
        n_layer=2,
        n_head=2,
        n_embd=32,
        block_size=32,
        batch_size=8,
        steps=30,
        learning_rate=3e-3,
        min_lr=3e-4,
        warmup_steps=5,
        val_every=15,
        induction_every=15,
        induction_n=10,
        log_every=10,
        synthetic_fraction=0.0,  # the loss on text only: a clear signal in 30 steps
        short_block=16,
        short_batch=8,
        short_only_steps=0,
    )


@pytest.fixture(scope="module")
def small_corpus(td):
    """About 12 KB of the pydoc topics: 24 documents of up to 500 characters."""
    from pydoc_data.topics import topics

    docs = [topics[k][:500] for k in sorted(topics)[:24]]
    train_docs, val_docs = td.split_documents(docs)
    return train_docs, val_docs


@pytest.fixture(scope="module")
def trained(td, tiny_config, small_corpus):
    train_docs, val_docs = small_corpus
    tok = td.train_tokenizer(train_docs, tiny_config.vocab_size)
    train_ids, val_ids = td.encode_documents(tok, train_docs), td.encode_documents(tok, val_docs)
    params, log = td.train(tiny_config, train_ids, val_ids, eos=0, say=lambda _: None)
    return tok, params, log


def test_split_holds_out_every_20th_document(td):
    train, val = td.split_documents([str(i) for i in range(45)])
    assert val == ["19", "39"] and len(train) == 43


def test_tokenizer_is_byte_level_and_deterministic(td, small_corpus):
    train_docs, _ = small_corpus
    a, b = (td.train_tokenizer(train_docs, 300) for _ in range(2))
    assert a.to_str() == b.to_str()
    assert a.token_to_id(td.EOS) == 0 and a.get_vocab_size() == 300
    text = "Café 🙂 x = [1, 2]"  # byte-level: anything round-trips
    assert a.decode(a.encode(text).ids) == text


def test_batches_are_seeded_and_hold_synthetic_repeats(td, tiny_config):
    data = np.arange(1000, dtype=np.int32) % 250 + 1
    cfg = replace(tiny_config, synthetic_fraction=0.5, batch_size=32)
    x1, y1 = td.sample_batch(np.random.default_rng(3), data, cfg)
    x2, _ = td.sample_batch(np.random.default_rng(3), data, cfg)
    np.testing.assert_array_equal(x1, x2)
    assert x1.shape == y1.shape == (32, 32)
    np.testing.assert_array_equal(x1[:, 1:], y1[:, :-1])
    synthetic = x1[:, 0] == 0  # rows start with <|endoftext|>
    assert 4 <= synthetic.sum() <= 28


def test_short_rows_repeat_a_random_span(td, tiny_config):
    xs, ys = td.sample_short_batch(np.random.default_rng(4), tiny_config, eos=0)
    assert xs.shape == ys.shape == (8, 16)
    np.testing.assert_array_equal(xs[:, 1:], ys[:, :-1])
    assert np.all(xs[:, 0] == 0) and np.all(xs[:, 1:] > 0)
    rows = np.concatenate([xs, ys[:, -1:]], axis=1)[:, 1:]  # [8,16]: the repeats
    for row in rows:
        period = next(m for m in range(4, 9) if np.array_equal(row[m:], row[:-m]))
        assert len(set(row[:period].tolist())) > 1  # a span of random ids, not one id


def test_query_and_key_weights_start_wider_than_values(td, tiny_config):
    cfg = tiny_config.model()
    w = np.asarray(td.init_params(cfg, jax.random.PRNGKey(0), qk_std=0.1)["layers"]["w_qkv"])
    d = cfg.n_embd
    assert w.shape == (cfg.n_layer, d, 3 * d)
    stds = [w[..., : 2 * d].std(), w[..., 2 * d :].std()]
    np.testing.assert_allclose(stds, [0.1, 0.02], rtol=0.1)


def test_short_training_lowers_the_loss(trained):
    _, _, log = trained
    train = [row["loss"] for row in log["train"]]
    val = [row["val_loss"] for row in log["val"]]
    assert [row["step"] for row in log["val"]] == [0, 15, 30]
    assert train[-1] < train[0] - 0.5
    assert val[-1] < val[0] - 0.3
    assert np.isfinite(train).all() and np.isfinite(val).all()
    short = [row["short_loss"] for row in log["train"]]
    assert np.isfinite(short).all() and short[-1] < short[0]
    scores = np.asarray(log["induction"][-1]["scores"])
    assert scores.shape == (2, 2) and np.all((scores >= 0) & (scores <= 1))


def test_a_first_phase_trains_on_the_short_rows_alone(td, tiny_config, small_corpus):
    cfg = replace(tiny_config, steps=10, short_only_steps=5, log_every=5, val_every=10)
    tok = td.train_tokenizer(small_corpus[0], cfg.vocab_size)
    ids = td.encode_documents(tok, small_corpus[0])
    _, log = td.train(cfg, ids, ids[:200], eos=0, say=lambda _: None)
    first, second = log["train"]
    assert first["loss"] is None and np.isfinite(first["short_loss"])  # no text batch yet
    assert np.isfinite(second["loss"]) and np.isfinite(second["short_loss"])


def test_saved_checkpoint_loads_and_matches(td, tiny_config, trained, tmp_path):
    tok, params, log = trained
    td.save(tmp_path, params, tiny_config, tok, log, {"note": "test"})
    dec = load_decoder(tmp_path)
    assert dec.config == tiny_config.model()
    ids = np.asarray(dec.tokenizer.encode("The list is sorted in place.")[0], np.int32)
    run = jax.jit(forward, static_argnames="cfg")
    expected = np.asarray(run(params, ids[None], cfg=tiny_config.model())[0][0])
    np.testing.assert_allclose(dec.logits_of(ids), expected, atol=1e-4)
    record = json.loads((tmp_path / "training_log.json").read_text())
    assert record["note"] == "test" and record["train_config"]["n_embd"] == 32
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == "gpt2"
