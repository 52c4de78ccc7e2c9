"""Llama-layout files: configs refused with clear messages, writing and reading back, the size
budget (ModelTooLargeError) and the tokenizer's SentencePiece-style spaces."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import attn_jax
from attn_jax.models import sizes
from attn_jax.models.llama_files import LlamaConfig, llama_from_params, write_llama_checkpoint

DATA = Path(__file__).resolve().parents[2] / "data"
BASE = json.loads((DATA / "llama-tiny" / "config.json").read_text())


def _copy(tmp_path: Path, name: str = "llama-tiny", **changes) -> Path:
    folder = tmp_path / "ckpt"
    shutil.copytree(DATA / name, folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg.update(changes)
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rope_parameters": {"rope_type": "llama3", "rope_theta": 5e5}}, "rope scaling 'llama3'"),
        ({"rope_parameters": None, "rope_scaling": {"type": "linear"}}, "only plain RoPE"),
        ({"hidden_act": "gelu"}, "SwiGLU"),
        ({"attention_bias": True}, "attention_bias"),
        ({"num_key_value_heads": 3}, "must divide"),
        ({"model_type": "qwen2"}, "model_type 'qwen2' is not supported"),
    ],
)
def test_unsupported_configs_are_refused_clearly(tmp_path, changes, message):
    with pytest.raises(ValueError, match=message):
        attn_jax.load_decoder(_copy(tmp_path, **changes))


def test_older_config_keys_read_the_same():
    old = {k: v for k, v in BASE.items() if k != "rope_parameters"}
    cfg = LlamaConfig.from_dict({**old, "rope_theta": 500000.0, "rope_scaling": None})
    assert cfg.rope_theta == 500000.0
    no_head_dim = {k: v for k, v in old.items() if k != "head_dim"}
    assert LlamaConfig.from_dict(no_head_dim).head_dim == 64 // 4


def test_write_and_read_back_round_trip(tmp_path):
    decoder = attn_jax.load_decoder(DATA / "mistral-tiny")
    params = {k: v for k, v in decoder.params.items()}
    tok = (DATA / "mistral-tiny" / "tokenizer.json").read_text()
    write_llama_checkpoint(tmp_path / "out", params, decoder.config, tok, eos_token_id=2)
    again = attn_jax.load_decoder(tmp_path / "out")
    assert again.config == decoder.config
    ids = [5, 17, 300, 42, 8, 9, 10, 11, 12, 13]
    np.testing.assert_array_equal(again.logits_of(ids), decoder.logits_of(ids))
    names = set(llama_from_params(params, decoder.config))
    assert "model.layers.1.self_attn.k_proj.weight" in names and "lm_head.weight" in names


def test_too_large_a_checkpoint_is_refused_before_reading(tmp_path, monkeypatch):
    folder = DATA / "llama-tiny"
    need = sizes.float32_bytes(folder / "model.safetensors")
    assert 0.35e6 < need < 0.45e6  # ~100k float32 numbers
    monkeypatch.setenv(sizes.ENV_MAX_MB, "0.1")
    with pytest.raises(sizes.ModelTooLargeError, match=r"over this server's budget of 0 MB"):
        attn_jax.load_decoder(folder)
    monkeypatch.setenv(sizes.ENV_MAX_MB, "lots")
    with pytest.raises(ValueError, match="number of megabytes"):
        attn_jax.load_decoder(folder)
    monkeypatch.delenv(sizes.ENV_MAX_MB)
    assert sizes.max_bytes() == 32e6 and attn_jax.ModelTooLargeError is sizes.ModelTooLargeError


def test_metaspace_tokens_keep_their_space():
    tok = attn_jax.load_decoder(DATA / "llama-tiny").tokenizer
    ids, truncated = tok.encode("the list 東")
    strings = tok.token_strings(ids)
    assert not truncated and "".join(strings[:-3]).startswith(" the")
    assert strings[-3:] == ["�"] * 3  # 東: three <0xNN> byte-fallback tokens, each on its own


def _write_bf16(src: Path, dst: Path) -> None:
    """src's float32 tensors as bfloat16 (their top 16 bits), in a hand-written .safetensors."""
    from safetensors.numpy import load_file

    header, chunks, offset = {}, [], 0
    for name, arr in load_file(str(src)).items():
        raw = (np.ascontiguousarray(arr, np.float32).view(np.uint32) >> 16).astype("<u2")
        header[name] = {"dtype": "BF16", "shape": list(arr.shape)}
        header[name]["data_offsets"] = [offset, offset + raw.nbytes]
        chunks.append(raw.tobytes())
        offset += raw.nbytes
    meta = json.dumps(header).encode()
    dst.write_bytes(len(meta).to_bytes(8, "little") + meta + b"".join(chunks))


def test_bfloat16_weights_are_read_as_float32(tmp_path):
    folder = _copy(tmp_path)
    _write_bf16(DATA / "llama-tiny" / "model.safetensors", folder / "model.safetensors")
    bf16 = attn_jax.load_decoder(folder)
    full = attn_jax.load_decoder(DATA / "llama-tiny")
    top16 = lambda a: (np.asarray(a).view(np.uint32) & 0xFFFF0000).view(np.float32)  # noqa: E731
    np.testing.assert_array_equal(bf16.params["wte"], top16(full.params["wte"]))
    ids = [5, 17, 300, 42]
    np.testing.assert_allclose(bf16.logits_of(ids), full.logits_of(ids), atol=0.05)
    assert sizes.float32_bytes(folder / "model.safetensors") == sizes.float32_bytes(
        DATA / "llama-tiny" / "model.safetensors"
    )  # counted as float32, as held in memory
