"""GQA made from the real encoder: `python -m attn_jax.bench gqa [--text ...]`.

For K = 12, 6, 4, 3, 2, 1 K/V heads (mean-pooled, no retraining): the KV cache at 512 tokens,
the mean and worst per-head JS divergence of the attention maps from the original, the cosine
of the mean-pooled sentence embeddings, the compile and warm run times, and the process's
resident memory after the grouped model is dropped (its executables go with it).
Also the worked example's share of attention weight on [CLS]/[SEP], raw and value-weighted.
"""

from __future__ import annotations

import argparse
import gc
import time

from attn_jax.lessons import gqa
from attn_jax.lessons import value_weighted as vw
from attn_jax.lessons.kv_cache import human_bytes, kv_cache_bytes
from attn_jax.memory import rss_mb, trim_heap
from attn_jax.models.encoder import load_model

SENTENCE = "The animal didn't cross the street because it was too tired."


def _row(enc, out, text: str, n_kv: int) -> str:
    cfg = enc.config
    t0 = time.perf_counter()
    grouped = gqa.grouped_query(enc, n_kv)
    run = grouped.run(text)  # compiles this length's bucket
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    grouped.run(text)
    warm = time.perf_counter() - t0
    cmp = gqa.compare(out, run, n_kv)
    del grouped, run
    gc.collect()
    trim_heap()
    cache = kv_cache_bytes(cfg.n_layer, n_kv, cfg.head_dim, 512, 4)
    return (
        f"{n_kv:>3} {human_bytes(cache):>11} {cmp.mean_js:>8.3f} {cmp.js.max():>8.3f} "
        f"{cmp.embedding_cosine:>8.3f} {first:>9.2f} {warm * 1e3:>8.1f} {rss_mb():>8.0f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attn_jax.bench gqa", description=__doc__)
    parser.add_argument("--text", default=SENTENCE, help="the sentence (default: worked example)")
    args = parser.parse_args(argv)
    enc = load_model()
    out = enc.run(args.text)
    raw = vw.special_share(out.attentions, out.tokens)
    weighted = vw.special_share(
        vw.row_shares(vw.value_weighted(out.attentions, out.values, enc.output_weights())),
        out.tokens,
    )
    print(f"text: {args.text!r} ({len(out.tokens)} word pieces)")
    print(
        f"weight on [CLS]/[SEP]: {raw:.1%} raw, {weighted:.1%} value-weighted "
        f"({weighted / raw:.0%} survives)"
    )
    gc.collect()
    trim_heap()
    print(f"resident memory with the original model: {rss_mb():.0f} MB")
    print("  K  KV@512 fp32  mean JS   max JS   cosine  first (s)  warm ms   RSS MB")
    for n_kv in (12, 6, 4, 3, 2, 1):
        print(_row(enc, out, args.text, n_kv), flush=True)
    return 0
