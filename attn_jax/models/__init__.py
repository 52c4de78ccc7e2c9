"""Trained transformers run by our own attention, with one surface for both models.

The encoder (all-MiniLM-L6-v2) and the GPT-2-layout decoder have the same config names
(n_layer, n_head, n_embd, head_dim, kv_heads, d_ff, vocab_size, n_positions,
layer_norm_epsilon) and the same attributes (config, params, tokenizer, buckets, compiled,
run, warm_up, head_weights, output_weights).

Modules:
  encoder          ModelConfig, EncoderOutput, the BERT forward pass, Encoder, load_model
  decoder          the GPT-2 block, forward, DecoderOutput, Prediction, Decoder, load_decoder
  block            what both blocks share: HeadSizes, layer_norm, the fused Q|K|V layout
                   (split_qkv) and one head's weights read on the host (head_weights,
                   output_weights); the decoders' causal_weights and head_mask (knock-out)
  buckets          BUCKETS, bucket_for, buckets_for and CompiledBuckets (one compile per
                   length bucket, one at a time)
  layer_stack      per-layer weights stacked [L,...] for `jax.lax.scan`; reading one layer
  files            where the encoder's files come from, read_safetensors (both models'
                   reader), read_weights, the memory-mapped word table, WordPieceTokenizer
  gpt2_files       GPT-2 checkpoints: DecoderConfig, reading, writing, BPETokenizer
  kv_cache_decode  decoding token by token with a KV cache
"""

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
