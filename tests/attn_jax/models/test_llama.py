"""The Llama/Mistral layouts: golden values from Hugging Face (scripts/make_llama_reference.py),
grouped-query shapes, the sliding window, knock-out, RoPE steps and the KV cache."""

from __future__ import annotations

import json
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import attn_jax
from attn_jax.models import llama
from attn_jax.models.kv_cache_decode import cache_bytes, decode_step, generate, prefill

DATA = Path(__file__).resolve().parents[2] / "data"
NAMES = ("llama-tiny", "mistral-tiny")
TOL = 1e-4


@pytest.fixture(scope="module")
def reference():
    data = np.load(DATA / "llama_reference.npz")
    return data, json.loads(str(data["meta"]))


@pytest.fixture(scope="module", params=NAMES)
def model(request):
    return request.param, attn_jax.load_decoder(DATA / request.param)


def test_configs_read_both_layouts():
    tied = attn_jax.load_decoder(DATA / "llama-tiny")
    untied = attn_jax.load_decoder(DATA / "mistral-tiny")
    assert tied.config.layout == "llama" and tied.config.sliding_window is None
    assert (tied.config.n_head, tied.config.kv_heads, tied.config.head_dim) == (4, 2, 16)
    assert tied.config.tie_word_embeddings and "lm_head" not in tied.params
    assert untied.config.layout == "mistral" and untied.config.sliding_window == 8
    assert untied.config.head_dim == 24 and untied.config.rope_theta == 1000.0
    assert untied.params["lm_head"].shape == (400, 64)
    assert tied.tokenizer.eos_id == 2


def test_matches_hugging_face_attentions_and_logits(model, reference):
    name, decoder = model
    data, meta = reference
    for i, text in enumerate(meta["texts"]):
        ids = data[f"{name}/ids_{i}"]
        assert decoder.tokenizer.encode(text)[0] == ids.tolist()  # byte fallback included
        att, logits = decoder.attentions_of(ids), decoder.logits_of(ids)
        np.testing.assert_allclose(att, data[f"{name}/att_{i}"], atol=TOL, rtol=0)
        np.testing.assert_allclose(logits, data[f"{name}/logits_{i}"], atol=TOL, rtol=0)


def test_knock_out_matches_the_o_proj_hook(model, reference):
    name, decoder = model
    data, meta = reference
    ids, pairs = data[f"{name}/ids_0"], [tuple(p) for p in meta["ablate"]]
    np.testing.assert_allclose(
        decoder.logits_of(ids, ablate=pairs), data[f"{name}/ablate_logits"], atol=TOL, rtol=0
    )
    out = decoder.run(meta["texts"][0], ablate=pairs)
    np.testing.assert_allclose(out.attentions, data[f"{name}/ablate_att"], atol=TOL, rtol=0)


def test_grouped_query_shapes_and_head_weights(model):
    _, decoder = model
    cfg = decoder.config
    out = decoder.run("The list.append method")
    t = len(out.input_ids)
    assert out.attentions.shape == (cfg.n_layer, 4, t, t)
    assert out.queries.shape == (cfg.n_layer, 4, t, cfg.head_dim)
    assert out.keys.shape == out.values.shape == (cfg.n_layer, 2, t, cfg.head_dim)
    assert out.hidden_states.shape == (cfg.n_layer + 1, t, 64)
    w = decoder.head_weights(1, 3)
    assert w["kv_group"] == 1 and w["w_q"].shape == w["w_k"].shape == (64, cfg.head_dim)
    assert w["w_o"].shape == (cfg.head_dim, 64)
    assert decoder.output_weights().shape == (cfg.n_layer, 4, cfg.head_dim, 64)
    np.testing.assert_array_equal(w["w_k"], decoder.head_weights(1, 2)["w_k"])  # same group


def test_sliding_window_hides_keys_past_the_window(reference):
    data, _ = reference
    mistral = attn_jax.load_decoder(DATA / "mistral-tiny")
    att = mistral.attentions_of(data["mistral-tiny/ids_2"])  # [L,N,T,T], T = 48 > 8
    t = att.shape[-1]
    i, j = np.arange(t)[:, None], np.arange(t)[None, :]
    assert np.all(att[..., (j > i) | (j <= i - 8)] == 0.0)
    assert np.all(att[..., (j <= i) & (j > i - 8)] > 0.0)
    np.testing.assert_allclose(att.sum(-1), 1.0, atol=1e-5)


def test_rope_steps_rotate_pairs_of_halves(reference):
    data, _ = reference
    decoder = attn_jax.load_decoder(DATA / "llama-tiny")
    ids = data["llama-tiny/ids_0"]
    steps = decoder.rope_steps(ids, layer=1, head=3)
    out = decoder.run(json.loads(str(data["meta"]))["texts"][0])
    np.testing.assert_allclose(steps["q_rot"], out.queries[1, 3], atol=1e-4)
    np.testing.assert_allclose(steps["k_rot"], out.keys[1, steps["kv_group"]], atol=1e-4)
    np.testing.assert_allclose(steps["q"][0], steps["q_rot"][0], atol=1e-6)  # angle 0 at m=0
    norms = [np.linalg.norm(steps[n], axis=-1) for n in ("q", "q_rot")]
    np.testing.assert_allclose(*norms, rtol=1e-5)  # a rotation keeps lengths
    # q_m·k_n depends on m - n only: shifting both positions keeps the score
    q, k = steps["q"][5], steps["k"][5]
    cos, sin = llama.rope_tables(np.arange(40), 16, 10000.0, xp=np)
    rot = lambda v, m: llama.rotate(v[None, None], cos[m : m + 1], sin[m : m + 1], xp=np)[0, 0]  # noqa: E731
    assert np.isclose(rot(q, 9) @ rot(k, 4), rot(q, 30) @ rot(k, 25), atol=1e-4)
    with pytest.raises(ValueError, match="no RoPE"):
        attn_jax.load_decoder().rope_steps([1, 2], 0, 0)


def test_kv_cache_decode_equals_the_full_run(model):
    _, decoder = model
    cfg = decoder.config
    text = "The list.append method adds an item"
    ids, step_logits, cache = generate(decoder, text, n_new=14)
    full = decoder.logits_of(ids)  # [T+14,V]
    n = len(decoder.tokenizer.encode(text)[0])
    np.testing.assert_allclose(step_logits, full[n - 1 : -1], atol=1e-4)
    assert cache.keys.shape == (cfg.n_layer, len(ids), 2, cfg.head_dim)  # K = 2 heads cached
    assert cache.nbytes == cache_bytes(cfg, len(ids))


def test_prefill_then_one_step(model):
    _, decoder = model
    ids = np.asarray(decoder.tokenizer.encode("def f(x): return")[0], np.int32)
    padded = np.zeros(16, np.int32)
    padded[: len(ids)] = ids
    logits, cache = prefill(decoder.params, padded, len(ids), cfg=decoder.config, capacity=20)
    step, cache = decode_step(decoder.params, cache, jnp.int32(7), cfg=decoder.config)
    full = decoder.logits_of([*ids.tolist(), 7])
    np.testing.assert_allclose(np.asarray(logits)[: len(ids)], full[:-1], atol=1e-4)
    np.testing.assert_allclose(np.asarray(step), full[-1], atol=1e-4)
    assert int(cache.length) == len(ids) + 1
