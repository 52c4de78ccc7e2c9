"""attn_jax: self-attention in JAX, for teaching and for a real pretrained transformer.

Shape letters (as in `jax.nn.dot_product_attention`), used in every einsum and comment:
  B batch, T query length, S key length, N (query) heads, K key/value heads,
  H head dim, D model dim, L layers.

Pure compute: JAX + numpy. Never imports streamlit or plotly.
"""

from attn_jax.core import attention, attention_weights, causal_mask, masked_softmax
from attn_jax.memory_efficient import memory_efficient_attention
from attn_jax.model import Encoder, EncoderOutput, ModelConfig, ModelNotFoundError, load_model
from attn_jax.multihead import kv_group_of, merge_heads, multi_head_attention, split_heads
from attn_jax.teaching import AttentionSteps, attention_steps

__all__ = [
    "AttentionSteps",
    "Encoder",
    "EncoderOutput",
    "ModelConfig",
    "ModelNotFoundError",
    "attention",
    "attention_steps",
    "attention_weights",
    "causal_mask",
    "kv_group_of",
    "load_model",
    "masked_softmax",
    "memory_efficient_attention",
    "merge_heads",
    "multi_head_attention",
    "split_heads",
]
