"""Attention kernels: plain (builds [B,N,T,S]), memory-efficient (chunked online softmax),
and multi-head attention from token vectors (with grouped-query attention)."""

from attn_jax.kernels.memory_efficient import memory_efficient_attention
from attn_jax.kernels.multihead import kv_group_of, merge_heads, multi_head_attention, split_heads
from attn_jax.kernels.plain import attention, attention_weights, causal_mask, masked_softmax

__all__ = [
    "attention",
    "attention_weights",
    "causal_mask",
    "kv_group_of",
    "masked_softmax",
    "memory_efficient_attention",
    "merge_heads",
    "multi_head_attention",
    "split_heads",
]
