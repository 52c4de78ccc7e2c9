"""Trained transformers run by our own attention: the encoder (all-MiniLM-L6-v2), where its
files come from, and its tokenizer."""

from attn_jax.models.encoder import (
    Encoder,
    EncoderOutput,
    ModelConfig,
    ModelNotFoundError,
    load_model,
)

__all__ = ["Encoder", "EncoderOutput", "ModelConfig", "ModelNotFoundError", "load_model"]
