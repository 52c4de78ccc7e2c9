"""scripts/train_llama.py on a few KB of text with a tiny model: the loss goes down and the
checkpoint it writes (Hugging Face Llama layout) loads in our decoder with the same logits."""

from __future__ import annotations

import json
from dataclasses import replace

import jax
import numpy as np
import pytest

from attn_jax.models.decoder import load_decoder
from attn_jax.models.llama import forward
from attn_jax.models.llama_files import write_llama_checkpoint
from tests import helpers


@pytest.fixture(scope="module")
def tl():
    return helpers.load_script("train_llama")


def test_trains_and_writes_a_llama_checkpoint(tl, tmp_path):
    from pydoc_data.topics import topics

    td = tl.td
    tc = replace(
        td.TrainConfig(), vocab_size=300, n_layer=2, n_head=4, n_embd=32, block_size=32,
        batch_size=8, steps=12, warmup_steps=3, val_every=6, induction_every=12,
        induction_n=10, log_every=6, synthetic_fraction=0.0, short_block=16, short_batch=4,
    )  # fmt: skip
    train_docs, val_docs = td.split_documents([topics[k][:500] for k in sorted(topics)[:24]])
    tok = td.train_tokenizer(train_docs, tc.vocab_size)
    train_ids, val_ids = td.encode_documents(tok, train_docs), td.encode_documents(tok, val_docs)
    cfg = tl.model_config(tc)
    saved = []

    def save(params, log):
        write_llama_checkpoint(tmp_path, jax.device_get(params), cfg, tok.to_str(), 0)
        saved.append(json.loads(json.dumps(log)))

    params, log = tl.train(tc, train_ids, val_ids, 0, save, say=lambda line: None)
    assert [v["step"] for v in log["val"]] == [0, 6, 12] and len(saved) == 3
    assert log["val"][-1]["val_loss"] < log["val"][0]["val_loss"] - 0.3
    assert np.asarray(log["previous_token"][-1]["scores"]).shape == (2, 4)
    assert (cfg.kv_heads, cfg.tie_word_embeddings, cfg.layout) == (2, True, "llama")
    decoder = load_decoder(tmp_path)
    ids = np.asarray(val_ids[:20])
    expected = np.asarray(forward(params, ids[None], cfg)[0][0])
    np.testing.assert_allclose(decoder.logits_of(ids), expected, atol=1e-4)
    np.testing.assert_array_equal(np.asarray(params["layers"]["b_qkv"]), 0.0)  # no biases
