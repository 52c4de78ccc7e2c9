"""Attention kernels: plain (builds [B,N,T,S]), memory-efficient (chunked online softmax),
sliding windows (`local_window_size` on both), one decode step over a KV cache, ring attention
over the devices of a mesh, and multi-head attention from token vectors (grouped-query)."""

from attn_jax.kernels.decode import decode_attention
from attn_jax.kernels.memory_efficient import memory_efficient_attention
from attn_jax.kernels.multihead import kv_group_of, merge_heads, multi_head_attention, split_heads
from attn_jax.kernels.plain import (
    attention,
    attention_weights,
    causal_mask,
    masked_softmax,
    window_mask,
)
from attn_jax.kernels.ring import ring_attention, sequence_sharding

__all__ = [
    "attention",
    "attention_weights",
    "causal_mask",
    "decode_attention",
    "kv_group_of",
    "masked_softmax",
    "memory_efficient_attention",
    "merge_heads",
    "multi_head_attention",
    "ring_attention",
    "sequence_sharding",
    "split_heads",
    "window_mask",
]
