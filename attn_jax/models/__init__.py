"""Trained transformers run by our own attention: the encoder (all-MiniLM-L6-v2), where its
files come from, and its tokenizer; the GPT-2-layout decoder and its checkpoint files."""

from attn_jax.models.decoder import Decoder, DecoderOutput, load_decoder
from attn_jax.models.encoder import (
    Encoder,
    EncoderOutput,
    ModelConfig,
    ModelNotFoundError,
    load_model,
)

__all__ = [
    "Decoder",
    "DecoderOutput",
    "Encoder",
    "EncoderOutput",
    "ModelConfig",
    "ModelNotFoundError",
    "load_decoder",
    "load_model",
]
