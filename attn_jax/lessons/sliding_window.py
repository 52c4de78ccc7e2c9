"""A Mistral-style sliding window on a trained decoder: what a query can still see, what it
costs, and what the window changes. numpy (plus the decoder's own compiled pass); never
streamlit.

With a window of W, query i attends only to keys i-W+1 .. i (Jiang et al. 2023, "Mistral
7B": W = 4,096). Stacked layers still pass information further back, W positions a layer.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from attn_jax.lessons.heads import js_divergence


def windowed(decoder, window: int):
    """The same decoder (the same weights, not copied) run with a sliding window of `window`
    keys: a Mistral-layout copy of a Llama- or Mistral-layout decoder. It compiles its own
    passes on first use."""
    cfg = decoder.config
    if cfg.layout == "gpt2":
        raise ValueError("a sliding window needs a Llama- or Mistral-layout decoder")
    if window < 1:
        raise ValueError(f"the window must be >= 1, got {window}")
    wide = dataclasses.replace(cfg, sliding_window=int(window), layout="mistral")
    return type(decoder)(wide, decoder.params, decoder.tokenizer, decoder.path)


def window_cost(t: int, window: int) -> dict[str, int]:
    """Score cells (query-key pairs) a causal pass over t tokens computes with and without the
    window, the most keys one query reads, and the tokens the KV cache must keep."""
    i = np.arange(t)
    return {
        "cells_full": int(t * (t + 1) // 2),
        "cells_window": int(np.minimum(i + 1, window).sum()),
        "keys_per_query": int(min(t, window)),
        "cache_tokens": int(min(t, window)),
    }


def visible(t: int, window: int | None) -> np.ndarray:
    """bool [t,t]: True where query i may attend to key j (causal, and within the window)."""
    i, j = np.arange(t)[:, None], np.arange(t)[None, :]
    ok = j <= i
    return ok if window is None else ok & (i - j < window)


def window_effect(full, windowed_out) -> dict:
    """How a window changed a run: JS divergence per head [L,N] (mean over queries), the
    number of positions whose top-1 next token changed."""
    js = js_divergence(full.attentions, windowed_out.attentions).mean(axis=-1)  # [L,N]
    changed = int((full.top_next_ids[:, 0] != windowed_out.top_next_ids[:, 0]).sum())
    return {"js": js.astype(np.float32), "top1_changed": changed}
