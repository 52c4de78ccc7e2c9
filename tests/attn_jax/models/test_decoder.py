"""The JAX GPT-2 decoder: Hugging Face golden values, a random checkpoint against numpy,
the KV cache, buckets, threads, sources and the shipped model's induction heads."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from safetensors.numpy import save_file

import attn_jax
from attn_jax.bench.model import count_compiles
from attn_jax.lessons import decoder_heads as heads
from attn_jax.models import gpt2_files
from attn_jax.models.decoder import Decoder, DecoderOutput, causal_weights, load_decoder
from attn_jax.models.files import ModelNotFoundError
from attn_jax.models.kv_cache_decode import cache_bytes, decode_step, generate, prefill
from attn_jax.models.layer_stack import layer_at
from tests import helpers

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "decoder_reference.npz"
SENTENCE = "The list.append method adds an item to the end of the list."


@pytest.fixture(scope="module")
def reference():
    data = np.load(REFERENCE)
    meta = json.loads(str(data["meta"]))
    return data, meta


# --- the shipped checkpoint and the Hugging Face reference (scripts/make_decoder_reference.py)


def test_shipped_folder_is_a_gpt2_checkpoint(decoder):
    assert decoder.path == gpt2_files.SHIPPED_DIR
    for name in ("config.json", "model.safetensors", "tokenizer.json", "training_log.json"):
        assert (decoder.path / name).is_file()
    cfg = json.loads((decoder.path / "config.json").read_text())
    assert cfg["model_type"] == "gpt2" and cfg["activation_function"] == "gelu_new"
    from safetensors import safe_open

    with safe_open(str(decoder.path / "model.safetensors"), framework="numpy") as f:
        names = set(f.keys())
        assert f.get_slice("transformer.h.0.attn.c_attn.weight").get_shape() == [
            cfg["n_embd"],
            3 * cfg["n_embd"],
        ]
    assert "transformer.wte.weight" in names and "transformer.ln_f.bias" in names
    assert (decoder.path / "model.safetensors").stat().st_size < 20e6


def test_matches_reference_attentions_and_logits(decoder, reference):
    data, meta = reference
    sample = data["vocab_sample"]
    for i, text in enumerate(meta["texts"]):
        out = decoder.run(text)
        np.testing.assert_array_equal(out.input_ids, data[f"ids_{i}"])
        att = data[f"att_{i}"]
        ours = out.attentions[:, :, -att.shape[2] :]
        assert ours.shape == att.shape
        assert float(np.max(np.abs(ours - att))) <= 1e-4, text
        logits = decoder.logits(text)
        assert float(np.max(np.abs(logits[:, sample] - data[f"logits_{i}"]))) <= 1e-4, text
        assert float(np.max(np.abs(logits[-1] - data[f"last_logits_{i}"]))) <= 1e-4, text


def test_causal_zeros_and_row_sums(decoder):
    out = decoder.run(SENTENCE)
    t = len(out.tokens)
    ln = (decoder.config.n_layer, decoder.config.n_head)
    assert out.attentions.shape == (*ln, t, t) and out.attentions.dtype == np.float32
    above = np.triu(np.ones((t, t), bool), k=1)
    assert np.all(out.attentions[:, :, above] == 0.0)
    np.testing.assert_allclose(out.attentions.sum(-1), 1.0, atol=1e-5)
    assert np.all(out.attentions[:, :, 0, 0] == pytest.approx(1.0))


def test_output_fields(decoder):
    cfg = decoder.config
    out = decoder.run(SENTENCE)
    t = len(out.tokens)
    assert "".join(out.tokens) == SENTENCE  # readable strings, no special tokens added
    assert out.input_ids.shape == (t,)
    for arr in (out.queries, out.keys, out.values):
        assert arr.shape == (cfg.n_layer, cfg.n_head, t, cfg.head_dim)
    assert out.hidden_states.shape == (cfg.n_layer + 1, t, cfg.n_embd)
    assert out.top_next_ids.shape == out.top_next_probs.shape == (t, 5)
    assert np.all(np.diff(out.top_next_probs, axis=1) <= 0)
    assert [p.id for p in out.next_token] == out.top_next_ids[-1].tolist()
    logits = decoder.logits(SENTENCE)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    np.testing.assert_allclose(np.sort(probs, -1)[:, ::-1][:, :5], out.top_next_probs, atol=1e-5)
    preds = decoder.predictions(SENTENCE, k=3)
    assert len(preds) == t and [p.id for p in preds[2]] == out.top_next_ids[2, :3].tolist()
    again = pickle.loads(pickle.dumps(out))
    assert isinstance(again, DecoderOutput) and again.tokens == out.tokens


def test_values_and_head_weights_reproduce_the_attention_output(decoder):
    out = decoder.run(SENTENCE)
    w = decoder.head_weights(1, 2)
    layer = layer_at(decoder.params["layers"], 1)
    x = out.hidden_states[1]  # input of block 1
    gain, bias = (np.asarray(a) for a in layer["ln_1"])
    a = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * gain + bias
    for name, got in (("q", out.queries), ("k", out.keys), ("v", out.values)):
        np.testing.assert_allclose(a @ w[f"w_{name}"] + w[f"b_{name}"], got[1, 2], atol=1e-4)
    assert w["w_o"].shape == (decoder.config.head_dim, decoder.config.n_embd)


def test_causal_weights_gradient_is_softmax_gradient():
    """The training path's custom VJP equals autodiff through a plain jax.nn.softmax."""
    q, k = (jax.random.normal(jax.random.PRNGKey(i), (2, 5, 3, 4)) for i in (0, 1))
    c = jax.random.normal(jax.random.PRNGKey(2), (2, 3, 5, 5))

    def plain(q, k):
        logits = jnp.einsum("BTNH,BSNH->BNTS", q, k) / 2.0
        return jax.nn.softmax(jnp.where(np.tril(np.ones((5, 5), bool)), logits, -1e30), -1)

    np.testing.assert_allclose(causal_weights(q, k), plain(q, k), atol=1e-6)
    ours = jax.grad(lambda q, k: jnp.sum(causal_weights(q, k) * c), argnums=(0, 1))(q, k)
    ref = jax.grad(lambda q, k: jnp.sum(plain(q, k) * c), argnums=(0, 1))(q, k)
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_empty_text_and_truncation(decoder):
    out = decoder.run("")
    assert out.tokens == [] and out.next_token == []
    assert out.attentions.shape == (decoder.config.n_layer, decoder.config.n_head, 0, 0)
    long = decoder.run("word " * 400)
    assert long.truncated and len(long.tokens) == decoder.max_tokens == decoder.config.n_positions
    with pytest.raises(TypeError):
        decoder.run(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        decoder.run("x", k=0)


# --- a tiny random GPT-2 checkpoint in the hub's layout, against numpy ---


def _numpy_gpt2(w: dict, ids: np.ndarray, n_head: int, eps: float) -> np.ndarray:
    """An independent GPT-2 forward pass in float64 numpy: logits [T,V]."""

    def ln(x, name):
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * w[name + ".weight"] + w[name + ".bias"]

    def gelu(x):
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))

    t, d = len(ids), w["wte.weight"].shape[1]
    x = w["wte.weight"][ids] + w["wpe.weight"][:t]
    n_layer = len({k.split(".")[1] for k in w if k.startswith("h.")})
    for i in range(n_layer):
        p = f"h.{i}."
        qkv = ln(x, p + "ln_1") @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = (z.reshape(t, n_head, -1).transpose(1, 0, 2) for z in np.split(qkv, 3, -1))
        s = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1]) + np.triu(np.full((t, t), -1e30), 1)
        a = np.exp(s - s.max(-1, keepdims=True))
        ctx = (a / a.sum(-1, keepdims=True)) @ v  # [N,T,H]
        ctx = ctx.transpose(1, 0, 2).reshape(t, d)
        x = x + ctx @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        m = gelu(ln(x, p + "ln_2") @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    return ln(x, "ln_f") @ w["wte.weight"].T


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory, decoder) -> Path:
    """Random weights, hub-style names (no `transformer.`) plus the old attn.bias buffers."""
    folder = tmp_path_factory.mktemp("tiny-gpt2")
    d, f, n_layer, vocab, n_pos = 24, 40, 2, decoder.config.vocab_size, 40
    rng = np.random.default_rng(7)
    w = {"wte.weight": rng.normal(0, 0.5, (vocab, d)), "wpe.weight": rng.normal(0, 0.5, (n_pos, d))}
    w["ln_f.weight"], w["ln_f.bias"] = rng.normal(1, 0.1, d), rng.normal(0, 0.1, d)
    shapes = {"attn.c_attn": (d, 3 * d), "attn.c_proj": (d, d), "mlp.c_fc": (d, f)}
    shapes["mlp.c_proj"] = (f, d)
    for i in range(n_layer):
        for name, shape in shapes.items():
            w[f"h.{i}.{name}.weight"] = rng.normal(0, 0.3, shape)
            w[f"h.{i}.{name}.bias"] = rng.normal(0, 0.1, shape[1])
        for ln in ("ln_1", "ln_2"):
            w[f"h.{i}.{ln}.weight"] = rng.normal(1, 0.1, d)
            w[f"h.{i}.{ln}.bias"] = rng.normal(0, 0.1, d)
        w[f"h.{i}.attn.bias"] = np.tril(np.ones((n_pos, n_pos)))[None, None]
    tensors = {k: np.asarray(v, np.float32) for k, v in w.items()}
    save_file(tensors, str(folder / "model.safetensors"))
    sizes = {"n_layer": n_layer, "n_head": 3, "n_embd": d, "n_inner": f, "n_positions": n_pos}
    cfg = {"model_type": "gpt2", "activation_function": "gelu_new", **sizes}
    cfg.update(vocab_size=vocab, layer_norm_epsilon=1e-6)
    (folder / "config.json").write_text(json.dumps(cfg))
    shutil.copy(decoder.path / "tokenizer.json", folder / "tokenizer.json")
    return folder


def test_random_checkpoint_matches_numpy(tiny_dir):
    tiny = load_decoder(tiny_dir)
    assert tiny.path == tiny_dir
    assert (tiny.config.n_layer, tiny.config.n_head, tiny.config.d_ff) == (2, 3, 40)
    assert tiny.config.layer_norm_epsilon == 1e-6 and tiny.buckets == (16, 32, 40)
    w = {k: v.astype(np.float64) for k, v in gpt2_files.read_gpt2_weights(tiny_dir).items()}
    assert not any(k.endswith(".attn.bias") for k in w)  # the causal-mask buffers are dropped
    text = "def f(x): return x + 1  # tiny"
    ids = tiny.run(text).input_ids
    expected = _numpy_gpt2(w, ids, 3, 1e-6)
    np.testing.assert_allclose(tiny.logits(text), expected, atol=2e-4, rtol=1e-4)
    assert len(tiny.run("word " * 100).tokens) == 40  # cut to n_positions


def test_rejects_other_architectures(tiny_dir, tmp_path):
    cfg = json.loads((tiny_dir / "config.json").read_text())
    with pytest.raises(ValueError, match="GELU"):
        gpt2_files.DecoderConfig.from_dict({**cfg, "activation_function": "relu"})
    with pytest.raises(ValueError, match="GPT-2"):
        gpt2_files.DecoderConfig.from_dict({**cfg, "model_type": "llama"})


# --- the KV cache ---


def test_kv_cache_gives_the_full_pass_logits(decoder):
    ids, step_logits, cache = generate(decoder, SENTENCE, 20)
    n_prompt = len(ids) - 20
    full = decoder.logits_of(ids)
    np.testing.assert_allclose(step_logits, full[n_prompt - 1 : len(ids) - 1], atol=1e-4)
    cfg = decoder.config
    per_token = 2 * cfg.n_layer * cfg.n_head * cfg.head_dim * 4  # K and V, float32
    assert cache.nbytes == cache_bytes(cfg, len(ids)) == per_token * len(ids)
    assert int(cache.length) == len(ids)


def test_kv_cache_steps_on_given_tokens(decoder):
    """Prefill 5 tokens, then feed 7 known tokens one by one: logits equal the full pass."""
    ids = decoder.run(SENTENCE).input_ids[:12]
    padded = np.zeros(16, np.int32)
    padded[:5] = ids[:5]
    logits, cache = prefill(decoder.params, padded, 5, cfg=decoder.config, capacity=32)
    rows = [np.asarray(logits[:5])]
    for token in ids[5:]:
        step, cache = decode_step(decoder.params, cache, int(token), cfg=decoder.config)
        rows.append(np.asarray(step)[None])
    full = decoder.logits_of(ids)
    np.testing.assert_allclose(np.concatenate(rows)[:12], full[:12], atol=1e-4)
    cfg = decoder.config
    assert cache.keys.shape == (cfg.n_layer, 32, cfg.n_head, cfg.head_dim)


# --- buckets, threads, sources ---


def test_no_recompilation_inside_a_bucket(decoder):
    decoder.run("word " * 20)  # bucket 32 compiled
    with count_compiles() as seen:
        for n in (17, 23, 31):
            assert len(decoder.run("word " * n).tokens) <= 32
    assert seen[0] == 0
    with count_compiles() as seen:  # the counter does see compiles
        jax.jit(lambda x: x * 2.5 - 1)(np.ones(9, np.float32))
    assert seen[0] >= 1


def test_concurrent_runs_match_serial():
    fresh = load_decoder()  # threads also race to compile the buckets
    texts = [SENTENCE, "", "x", "word " * 40, "東京 🙂", SENTENCE * 3] * 2
    results, errors = helpers.run_concurrently(fresh.run, texts)
    assert not errors
    used = {fresh.bucket_for(max(len(r.tokens), 1)) for r in results.values()}
    assert set(fresh.compiled) == used
    for i, text in enumerate(texts):
        np.testing.assert_allclose(results[i].attentions, fresh.run(text).attentions, atol=1e-6)


def test_sources_explicit_env_and_missing(decoder, tiny_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(gpt2_files.ENV_DIR, str(tiny_dir))
    assert load_decoder().path == tiny_dir
    assert load_decoder(decoder.path).path == decoder.path  # an explicit folder comes first
    monkeypatch.setenv(gpt2_files.ENV_DIR, str(tmp_path))
    with pytest.raises(ModelNotFoundError, match=r"model\.safetensors"):
        load_decoder()
    monkeypatch.delenv(gpt2_files.ENV_DIR)
    with pytest.raises(ModelNotFoundError, match="train_decoder"):
        load_decoder(tmp_path / "nowhere")


def test_public_names():
    assert attn_jax.load_decoder is load_decoder
    assert attn_jax.Decoder is Decoder and attn_jax.DecoderOutput is DecoderOutput


# --- head scores (attn_jax.lessons.decoder_heads) ---


def test_scores_on_hand_made_maps():
    n, t = 3, 7  # [BOS, a b c, a b c]
    perfect = np.zeros((1, 2, t, t), np.float32)
    perfect[0, 0, np.arange(t), 0] = 1.0  # head 0: all on the first token
    perfect[0, 1, 0, 0] = 1.0
    perfect[0, 1, np.arange(1, t), np.arange(t - 1)] = 1.0  # head 1: previous token
    perfect[0, 1, 1 + n + np.arange(n)] = 0.0
    perfect[0, 1, 1 + n + np.arange(n), 2 + np.arange(n)] = 1.0  # ... but induction on copy 2
    np.testing.assert_allclose(heads.sink_from_attentions(perfect), [[1.0, 1 / 6]])
    np.testing.assert_allclose(heads.induction_from_attentions(perfect, n), [[0.0, 1.0]])
    np.testing.assert_allclose(heads.previous_token_from_attentions(perfect), [[1 / 6, 0.5]])
    assert heads.best_head(heads.induction_from_attentions(perfect, n)) == (0, 1, 1.0)


def test_repeated_random_tokens():
    ids = heads.repeated_random_tokens(50, 10, n_seqs=3, seed=1, bos_id=7)
    assert ids.shape == (3, 21) and np.all(ids[:, 0] == 7)
    np.testing.assert_array_equal(ids[:, 1:11], ids[:, 11:])
    assert not np.any(ids[:, 1:] == 7)
    np.testing.assert_array_equal(ids, heads.repeated_random_tokens(50, 10, 3, seed=1, bos_id=7))


@pytest.mark.xfail(
    strict=False,
    reason="the shipped 2400-step checkpoint has no induction head yet (best 0.02): "
    "models/tiny-gpt2-pydoc/README.md",
)
def test_shipped_model_has_induction_heads(decoder):
    scores = heads.induction_scores(decoder, n_random=50, seed=0)
    assert scores.shape == (decoder.config.n_layer, decoder.config.n_head)
    layer, _, best = heads.best_head(scores)
    assert best >= 0.5 and layer >= 1  # needs a previous-token head in an earlier layer
    assert heads.previous_token_scores(decoder).max() > 0.3
    sink = heads.sink_scores(decoder, SENTENCE)
    assert sink.shape == scores.shape and np.all((sink >= 0) & (sink <= 1))


def test_host_layer_reads_the_stacked_weights_in_place():
    from attn_jax.models.layer_stack import host_layer, stack_layers

    rng = np.random.default_rng(3)
    per_layer = [{"w": rng.normal(size=(4, 6)), "ln": (rng.normal(size=6),) * 2} for _ in "abc"]
    on_device = jax.tree.map(jnp.asarray, stack_layers(per_layer))
    for i in range(3):
        host, device = host_layer(on_device, i), layer_at(on_device, i)
        for a, b in zip(jax.tree.leaves(host), jax.tree.leaves(device), strict=True):
            assert isinstance(a, np.ndarray)
            np.testing.assert_array_equal(a, np.asarray(b))
        if jax.default_backend() == "cpu":  # a view of the stack, not a copy of the layer
            assert np.shares_memory(host["w"], np.asarray(on_device["w"]))
    np.testing.assert_array_equal(host_layer(per_layer, 1)["w"], per_layer[1]["w"])
