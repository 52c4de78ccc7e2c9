"""attn_jax: self-attention in JAX, for teaching and for a real pretrained transformer.

Shape letters (as in `jax.nn.dot_product_attention`), used in every einsum and comment:
  B batch, T query length, S key length, N (query) heads, K key/value heads,
  H head dim, D model dim, L layers.

Pure compute: JAX + numpy. Never imports streamlit or plotly.

Layout: `kernels/` (attention functions), `models/` (the trained encoder and decoder, one
surface for both, their files and tokenizers), `lessons/` (teaching steps, head statistics,
exploration, facts), `bench/` (benchmarks, `python -m attn_jax.bench ...`, and the Complexity
sweep).
"""

from attn_jax.kernels import (
    attention,
    attention_weights,
    causal_mask,
    decode_attention,
    kv_group_of,
    masked_softmax,
    memory_efficient_attention,
    merge_heads,
    multi_head_attention,
    ring_attention,
    sequence_sharding,
    split_heads,
    window_mask,
)
from attn_jax.lessons.gqa import grouped_query
from attn_jax.lessons.real_steps import model_attention_steps
from attn_jax.lessons.rollout import rollout
from attn_jax.lessons.steps import AttentionSteps, attention_steps
from attn_jax.models import Encoder, EncoderOutput, ModelConfig, ModelNotFoundError, load_model
from attn_jax.models.decoder import Decoder, DecoderOutput, load_decoder
from attn_jax.models.llama_files import LlamaConfig
from attn_jax.models.sizes import ModelTooLargeError

__all__ = [
    "AttentionSteps",
    "Decoder",
    "DecoderOutput",
    "Encoder",
    "EncoderOutput",
    "LlamaConfig",
    "ModelConfig",
    "ModelNotFoundError",
    "ModelTooLargeError",
    "attention",
    "attention_steps",
    "attention_weights",
    "causal_mask",
    "decode_attention",
    "grouped_query",
    "kv_group_of",
    "load_decoder",
    "load_model",
    "masked_softmax",
    "memory_efficient_attention",
    "merge_heads",
    "model_attention_steps",
    "multi_head_attention",
    "ring_attention",
    "rollout",
    "sequence_sharding",
    "split_heads",
    "window_mask",
]
