"""Sizes of well-known transformers, for the on-screen tables.

Sources: the google-research/bert README (BERT), the released GPT-2 configs, Brown et al. 2020
Table 2.1 (GPT-3), the Llama 2 paper and the Llama 3 / 3.1 and Mistral 7B configs, the
Qwen3 technical report (2025) and Qwen3-8B's config.json, and the config.json of
all-MiniLM-L6-v2.
"""

from __future__ import annotations

# name -> (L layers, N query heads, D d_model, H head dim, K kv-heads)
MODEL_FACTS: dict[str, tuple[int, int, int, int, int]] = {
    "BERT-base": (12, 12, 768, 64, 12),
    "BERT-large": (24, 16, 1024, 64, 16),
    "GPT-2 small": (12, 12, 768, 64, 12),
    "GPT-2 XL": (48, 25, 1600, 64, 25),
    "GPT-3 175B": (96, 96, 12288, 128, 96),
    "Llama 2 70B": (80, 64, 8192, 128, 8),
    "Llama 3 8B": (32, 32, 4096, 128, 8),
    "Llama 3 70B": (80, 64, 8192, 128, 8),
    "Llama 3.1 405B": (126, 128, 16384, 128, 8),
    "Mistral 7B": (32, 32, 4096, 128, 8),
    "Qwen3-8B": (36, 32, 4096, 128, 8),
    "all-MiniLM-L6-v2": (6, 12, 384, 32, 12),
}
MODEL_NOTES = {"Mistral 7B": "sliding window 4096"}
