"""The shipped tiny-llama-pydoc: its files, and equality with transformers' LlamaForCausalLM
(tests/data/tiny_llama_reference.npz, from `scripts/make_llama_reference.py --shipped`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open

import attn_jax
from attn_jax.models.checkpoints import SHIPPED_DECODERS

FOLDER = SHIPPED_DECODERS["tiny-llama-pydoc"]
REFERENCE = Path(__file__).resolve().parents[2] / "data" / "tiny_llama_reference.npz"


@pytest.fixture(scope="module")
def tiny_llama():
    return attn_jax.load_decoder(FOLDER)


def test_shipped_folder_is_a_llama_checkpoint(tiny_llama):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "training_log.json"):
        assert (FOLDER / name).is_file()
    cfg = tiny_llama.config
    assert (cfg.layout, cfg.n_layer, cfg.n_head, cfg.kv_heads) == ("llama", 4, 4, 2)
    assert cfg.tie_word_embeddings and cfg.sliding_window is None
    with safe_open(str(FOLDER / "model.safetensors"), framework="numpy") as f:
        names = set(f.keys())
    assert "model.layers.0.self_attn.q_proj.weight" in names and "lm_head.weight" not in names
    gpt2 = (SHIPPED_DECODERS["tiny-gpt2-pydoc"] / "tokenizer.json").read_text()
    assert (FOLDER / "tokenizer.json").read_text() == gpt2  # the same tokenizer


def test_matches_transformers(tiny_llama):
    data = np.load(REFERENCE)
    meta = json.loads(str(data["meta"]))
    digest = hashlib.sha256((FOLDER / "model.safetensors").read_bytes()).hexdigest()
    assert meta["model_sha256"] == digest, "stale: rerun make_llama_reference.py --shipped"
    assert not meta["loading"]["missing_keys"] and not meta["loading"]["unexpected_keys"]
    for i, text in enumerate(meta["texts"]):
        ids = data[f"ids_{i}"]
        assert tiny_llama.tokenizer.encode(text)[0] == ids.tolist()
        logits = tiny_llama.logits_of(ids)
        np.testing.assert_allclose(tiny_llama.attentions_of(ids), data[f"att_{i}"], atol=1e-4)
        np.testing.assert_allclose(logits[:, data["vocab_sample"]], data[f"logits_{i}"], atol=1e-4)
        np.testing.assert_allclose(logits[-1], data[f"last_logits_{i}"], atol=1e-4)
