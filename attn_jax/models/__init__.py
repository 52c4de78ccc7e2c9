"""Trained transformers run by our own attention, with one surface for both models.

The encoder (all-MiniLM-L6-v2) and the decoder (GPT-2, Llama or Mistral layout) have the
same config names (n_layer, n_head, n_embd, head_dim, kv_heads, d_ff, vocab_size,
n_positions, layer_norm_epsilon; the decoder's also layout, rope_theta, sliding_window) and
the same attributes (config, params, tokenizer, buckets, compiled, run, warm_up,
head_weights, output_weights).

Modules:
  encoder          ModelConfig, EncoderOutput, the BERT forward pass, Encoder, load_model
  decoder          the GPT-2 block, forward, DecoderOutput, Prediction, Decoder, load_decoder
                   (one Decoder for the GPT-2, Llama and Mistral layouts: `forward_of`)
  llama            the Llama/Mistral forward: RMSNorm, RoPE, SwiGLU, grouped-query
                   attention, sliding window; rope_steps
  block            what both blocks share: HeadSizes, layer_norm, the fused Q|K|V layout
                   (split_qkv) and one head's weights read on the host (head_weights,
                   output_weights); the decoders' causal_weights and head_mask (knock-out)
  buckets          BUCKETS, bucket_for, buckets_for and CompiledBuckets (one compile per
                   length bucket, one at a time)
  layer_stack      per-layer weights stacked [L,...] for `jax.lax.scan`; reading one layer
  files            where the encoder's files come from, read_safetensors (both models'
                   reader), read_weights, the memory-mapped word table, WordPieceTokenizer
  gpt2_files       GPT-2 checkpoints: DecoderConfig, reading, writing, BPETokenizer
  llama_files      Llama/Mistral checkpoints: LlamaConfig, reading, writing
  checkpoints      a decoder folder of any layout -> config, params, tokenizer
  sizes            a checkpoint's float32 size from its header, ModelTooLargeError
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
