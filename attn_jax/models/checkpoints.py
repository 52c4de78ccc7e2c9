"""Reading a decoder folder of any supported layout: config, weights and tokenizer.

config.json's model_type picks the reader: "gpt2" (`gpt2_files`), "llama" or "mistral"
(`llama_files`). The float32 size is checked first (`sizes.check_size`), so a checkpoint too
large for the server is refused before any weight is read.

SHIPPED_DECODERS names the decoders this repository trains and ships in models/ (each folder
loads with `load_decoder(folder)`; the default without a folder stays tiny-gpt2-pydoc).
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp

from attn_jax.models.buckets import buckets_for
from attn_jax.models.gpt2_files import (
    SHIPPED_DIR,
    BPETokenizer,
    DecoderConfig,
    params_from_gpt2,
    read_gpt2_weights,
)
from attn_jax.models.llama_files import LAYOUTS, LlamaConfig, params_from_llama, read_llama_weights
from attn_jax.models.sizes import check_size

MODELS_DIR = SHIPPED_DIR.parent
SHIPPED_DECODERS = {  # name -> folder: GPT-2 layout, Llama layout (same corpus and tokenizer)
    "tiny-gpt2-pydoc": MODELS_DIR / "tiny-gpt2-pydoc",
    "tiny-llama-pydoc": MODELS_DIR / "tiny-llama-pydoc",
}


def _eos_id(raw: dict) -> int | None:
    """config.json's eos_token_id (the first, when it is a list as in Llama 3), or None."""
    eos = raw.get("eos_token_id")
    if isinstance(eos, list):
        eos = eos[0] if eos else None
    return None if eos is None else int(eos)


def read_checkpoint(path: Path) -> tuple[DecoderConfig | LlamaConfig, dict, BPETokenizer]:
    """(config, params as jax arrays, tokenizer) of a decoder folder.

    Raises ModelTooLargeError past the size budget, ValueError for a model_type or a setting
    that is not implemented (the message names it)."""
    check_size(path / "model.safetensors")
    raw = json.loads((path / "config.json").read_text("utf-8"))
    layout = raw.get("model_type", "gpt2")
    if layout == "gpt2":
        config, eos = DecoderConfig.from_dict(raw), None
        params = params_from_gpt2(read_gpt2_weights(path))
    elif layout in LAYOUTS:
        config, eos = LlamaConfig.from_dict(raw), _eos_id(raw)
        params = params_from_llama(read_llama_weights(path), config)
    else:
        raise ValueError(
            f"model_type {layout!r} is not supported: the decoder reads 'gpt2', "
            f"{', '.join(map(repr, LAYOUTS))} checkpoints (config.json's model_type)"
        )
    max_tokens = buckets_for(config.n_positions)[-1]
    return config, _to_device(params), BPETokenizer(path / "tokenizer.json", max_tokens, eos)


def _to_device(params: dict) -> dict:
    """The numpy params as jax arrays, one at a time, each numpy copy dropped once moved."""
    out = {}
    for name in list(params):
        value = params.pop(name)
        out[name] = (
            _to_device(value) if isinstance(value, dict) else jax.tree.map(jnp.asarray, value)
        )
        del value
    return out
