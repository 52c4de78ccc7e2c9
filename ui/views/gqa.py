"""The Multi-head page's grouped-query sections: GQA on a toy (groups of query heads sharing
one K/V head), GQA trained in (the Llama-layout decoder's heads in their K/V groups), GQA
made from the real encoder by pooling its K/V heads (what it costs, per head and for every
K), and the KV-cache size of real models (MHA vs GQA vs MQA).
"""

from __future__ import annotations

import streamlit as st

import attn_jax
from attn_jax.lessons import gqa
from attn_jax.lessons import kv_cache as kvc
from ui.app import url_state
from ui.app.charts import chart
from ui.app.downloads import csv_button, matrix_csv, table_csv
from ui.app.models import get_encoder, get_llama, has_llama, llama_config, run_of
from ui.figures import beyond as bf
from ui.figures import multihead as hf
from ui.views.multihead import GQA, GQA_TRAINED, KV, LAYER, mosaic_thumbs

GQA_CONTEXT = 512  # tokens: the encoder's longest input, for its KV-cache size


# --- cached computations (plain inputs, numpy out) ----------------------------------------
@st.cache_resource(max_entries=64, show_spinner=False)
def toy_gqa_figures(n_heads: int, n_kv: int):
    run = kvc.toy_multihead(5, 32, n_heads, n_kv, 0)
    tokens = [f"x{i}" for i in range(5)]
    return hf.gqa_groups(run.kv_group), hf.toy_heads(run.weights, tokens, run.kv_group)


@st.cache_resource(max_entries=1, show_spinner=False)
def grouped_encoder(n_kv: int, source_label: str):
    """The encoder (from `source_label`) with its K/V heads pooled to n_kv: one at a time for
    the whole server.

    It compiles its own forward pass per length bucket on first use; when another K is
    asked for, this one is dropped, and its executables with it (own jit)."""
    return attn_jax.grouped_query(get_encoder(), n_kv)


@st.cache_data(max_entries=24, show_spinner=False)
def gqa_result(text: str, n_kv: int) -> dict:
    """The grouped model run on `text` and compared with the original: small results only."""
    encoder, out = get_encoder(), run_of("encoder", text)
    same = n_kv == encoder.config.n_head  # grouped_query(encoder, N) is the original exactly
    run = out if same else grouped_encoder(n_kv, encoder.source_label).run(text)
    cmp = gqa.compare(out, run, n_kv)
    return {
        "js": cmp.js.astype("float32"),
        "mean_js": cmp.mean_js,
        "cosine": cmp.embedding_cosine,
        "thumbs": hf.thumbnails(run.attentions),
    }


@st.cache_data(max_entries=16, show_spinner=False)
def trained_groups(text: str) -> tuple[float, float]:
    """(within, across) JS divergence of the Llama-layout decoder's heads on `text`."""
    cfg, out = get_llama().config, run_of("llama", text)
    return gqa.group_divergence(out.attentions, attn_jax.kv_group_of(cfg.n_head, cfg.kv_heads))


# --- sections ------------------------------------------------------------------------------
def gqa_trained(text: str) -> None:
    """The Llama-layout decoder, trained with grouped-query attention from the start."""
    raw = llama_config() or {}
    n, k = raw.get("num_attention_heads", "?"), raw.get("num_key_value_heads", "?")
    st.subheader("GQA trained in: the Llama-layout decoder")
    st.markdown(
        f"The small Llama-layout decoder trained here has {n} query heads sharing {k} K/V "
        "heads in every layer, from its first training step, as Llama 3, Qwen3 and Mistral "
        "do; the encoder below is turned into GQA after training instead."
    )
    if not text or not st.toggle(
        "Show its heads in their K/V groups on this sentence",
        key=GQA_TRAINED.widget,
        persist_state="page",
    ):
        return
    model = get_llama()
    if model is None:
        st.info("The Llama-layout decoder could not be loaded.", icon=":material/info:")
        return
    cfg = model.config
    kv_group = attn_jax.kv_group_of(cfg.n_head, cfg.kv_heads)
    left, right = st.columns([1, 2])
    with left:
        chart(hf.gqa_groups(kv_group), key="mh_gqa_llama_groups")
    with right:
        thumbs = mosaic_thumbs(text, "raw", "llama")
        chart(hf.head_mosaic(thumbs, kv_heads=cfg.kv_heads), key="mh_gqa_llama_mosaic")
    within, across = trained_groups(text)
    own = kvc.kv_cache_bytes(cfg.n_layer, cfg.kv_heads, cfg.head_dim, cfg.n_positions, 4)
    mha = kvc.kv_cache_bytes(cfg.n_layer, cfg.n_head, cfg.head_dim, cfg.n_positions, 4)
    m1, m2, m3 = st.columns(3)
    m1.metric(
        f"KV cache at {cfg.n_positions} tokens", kvc.human_bytes(own), f"{own / mha - 1:.0%}",
        delta_color="off", help=f"2 × {cfg.n_layer} layers × {cfg.kv_heads} K/V heads × "
        f"{cfg.head_dim} × tokens × 4 bytes (fp32), against {cfg.n_head} K/V heads",
    )  # fmt: skip
    m2.metric("JS between heads of one group", f"{within:.3f} nats")
    m3.metric("JS between heads of different groups", f"{across:.3f} nats")
    st.caption(
        "Heads in one frame read the very same keys and values; only their queries differ. "
        "The JS divergences (mean over layers and query rows, this sentence) say how much "
        "that still lets their maps differ, against heads that read other keys."
    )


def gqa_every_k(text: str) -> None:
    """The measured trade-off for every K/V head count, on this sentence."""
    results = []
    bar = st.progress(0.0, text="Building and running the grouped models …")
    for i, n_kv in enumerate(bf.KV_CHOICES):
        results.append((n_kv, gqa_result(text, n_kv)))
        bar.progress((i + 1) / len(bf.KV_CHOICES), text=f"K = {n_kv} done")
    bar.empty()
    ks = [k for k, _ in results]
    chart(
        bf.gqa_tradeoff(ks, [r["mean_js"] for _, r in results], [r["cosine"] for _, r in results]),
        key="mh_gqa_tradeoff",
    )
    rows = [
        {
            "K/V heads": k,
            "KV cache at 512 tokens (fp32)": kvc.human_bytes(
                kvc.kv_cache_bytes(6, k, 32, GQA_CONTEXT, 4)
            ),
            "mean JS divergence (nats)": round(r["mean_js"], 4),
            "embedding cosine": round(r["cosine"], 4),
        }
        for k, r in results
    ]
    st.dataframe(rows, width="stretch", hide_index=True)
    csv_button(lambda: table_csv(rows), "gqa_tradeoff", "csv_gqa_all", "Table as CSV")


def gqa_real_model(text: str) -> None:
    encoder = get_encoder()
    cfg = encoder.config
    st.subheader("GQA made from the real model")
    st.markdown(
        "Pool the model's own K and V heads: each group of query heads gets the mean of its "
        "K/V projections (the conversion of Ainslie et al. 2023, *before* the short retraining "
        "they add). The query heads stay as they were. What does that do to this model?"
    )
    if not st.toggle(
        "Build it on this sentence (compiles a grouped model: a few seconds)",
        key=GQA.widget,
        persist_state="page",
    ):
        return
    c1, c2 = st.columns([2, 1])
    n_kv = c1.select_slider(
        "K/V heads of all-MiniLM-L6-v2 (12 = the original)",
        bf.KV_CHOICES,
        format_func=lambda k: f"{k} ({'MHA' if k == cfg.n_head else 'MQA' if k == 1 else 'GQA'})",
        key=KV.widget,
        persist_state="page",
    )
    if not 0 <= st.session_state.get(LAYER.widget, 0) < cfg.n_layer:
        st.session_state[LAYER.widget] = cfg.n_layer - 1
    layer = c2.selectbox("Layer", range(cfg.n_layer), key=LAYER.widget, persist_state="page")
    with st.spinner(f"Building the model with {n_kv} K/V heads (compiles once) …"):
        result = gqa_result(text, n_kv)
    own = kvc.kv_cache_bytes(cfg.n_layer, n_kv, cfg.head_dim, GQA_CONTEXT, 4)
    mha = kvc.kv_cache_bytes(cfg.n_layer, cfg.n_head, cfg.head_dim, GQA_CONTEXT, 4)
    m1, m2, m3 = st.columns(3)
    m1.metric(
        f"KV cache at {GQA_CONTEXT} tokens", kvc.human_bytes(own), f"{own / mha - 1:.0%}",
        delta_color="off", help="2 × 6 layers × K × 32 × tokens × 4 bytes (fp32)",
    )  # fmt: skip
    m2.metric("mean JS divergence from the original", f"{result['mean_js']:.3f} nats")
    m3.metric(
        "sentence-embedding cosine",
        f"{result['cosine']:.3f}",
        help="Mean of the last hidden state over the tokens (how sentence-transformers pools "
        "this model), grouped vs original. 1 = the same embedding.",
    )
    kv_group = attn_jax.kv_group_of(cfg.n_head, n_kv)
    thumbs = mosaic_thumbs(text, "raw", "encoder")
    fig = bf.gqa_heads(thumbs[layer], result["thumbs"][layer], result["js"][layer], kv_group, n_kv)
    chart(fig, key="mh_gqa_heads")
    st.caption(
        f"Layer {layer}: the original heads (top) and the same query heads reading pooled keys "
        "and values (bottom). Hover for each head's JS divergence. Without retraining the maps "
        "drift and the embedding moves: the trade-off is measured here, not assumed."
    )
    heads = [f"H{h}" for h in range(cfg.n_head)]
    layers = [f"L{la}" for la in range(cfg.n_layer)]
    csv_button(
        lambda: matrix_csv(result["js"], layers, heads),
        f"gqa_js_K{n_kv}",
        "csv_gqa_js",
        "JS divergence per head as CSV",
    )
    if st.toggle("Measure every K/V head count on this sentence", key="mh_gqa_all"):
        gqa_every_k(text)


@st.fragment
def gqa_section(real_model: bool, text: str) -> None:
    st.header("Grouped-query attention (GQA)")
    st.markdown(
        "With **MHA** every query head has its own K and V head; with **GQA** a group of query "
        "heads shares one K/V head; with **MQA** all share a single one. Fewer K/V heads mean a "
        "smaller KV cache when generating text. At what cost?"
    )
    c1, c2 = st.columns(2)
    n_heads = c1.select_slider(
        "Query heads N (toy)", [2, 4, 8, 16], key="gqa_n", persist_state="page"
    )
    divisors = [k for k in range(n_heads, 0, -1) if n_heads % k == 0]
    if st.session_state.get("gqa_k") not in divisors:
        st.session_state["gqa_k"] = divisors[len(divisors) // 2]
    kind = {n_heads: "MHA", 1: "MQA"}
    n_kv = c2.select_slider(
        "K/V heads (toy)",
        divisors,
        format_func=lambda k: f"{k} ({kind.get(k, 'GQA')})",
        key="gqa_k",
        persist_state="page",
    )
    groups_fig, heads_fig = toy_gqa_figures(n_heads, n_kv)
    chart(groups_fig, key="mh_gqa")
    st.caption(
        "Heads in one group (same colour) read the same keys, so their maps differ only "
        "through their queries."
    )
    chart(heads_fig, key="gqa_h")
    if has_llama():
        gqa_trained(text)
    if real_model:
        gqa_real_model(text)
    url_state.sync_url()


@st.fragment
def kv_cache_section() -> None:
    st.subheader("KV-cache size")
    names = list(kvc.MODEL_FACTS)
    c1, c2, c3 = st.columns(3)
    model = c1.selectbox("Model", names, key="mh_kv_model", persist_state="page")
    n_ctx = c2.number_input(
        "Context length (tokens)", 1, 1_048_576, step=1024, key="mh_ctx", persist_state="page"
    )
    dtype = c3.selectbox(
        "Number format", list(kvc.BYTES_PER_VALUE), key="mh_dtype", persist_state="page"
    )
    nbytes = kvc.BYTES_PER_VALUE[dtype]
    own, mha = kvc.model_kv_cache(model, int(n_ctx), nbytes)
    n_layers_m, n_heads_m, _, head_dim_m, n_kv_m = kvc.MODEL_FACTS[model]
    st.markdown(
        f"2 (K and V) × {n_layers_m} layers × {n_kv_m} KV heads × {head_dim_m} head dim × "
        f"{int(n_ctx):,} tokens × {nbytes} bytes = **{kvc.human_bytes(own)}** per sequence."
    )
    m1, m2, m3 = st.columns(3)
    m1.metric("KV cache, as published", kvc.human_bytes(own))
    m2.metric(f"with MHA ({n_heads_m} KV heads)", kvc.human_bytes(mha))
    m3.metric("saved by GQA/MQA", f"{(1 - own / mha) * 100:.0f} %")
    sizes = [kvc.model_kv_cache(name, int(n_ctx), nbytes) for name in names]
    fig = hf.kv_cache_bars(names, [s[0] for s in sizes], [s[1] for s in sizes], highlight=model)
    chart(fig, key="mh_kv_bars")
    st.markdown(f"**Per 1,000 tokens, MHA vs GQA vs MQA** ({dtype}, one sequence)")
    raw = llama_config()
    extra = None
    if raw:
        n_heads = raw["num_attention_heads"]
        head_dim = raw.get("head_dim") or raw["hidden_size"] // n_heads
        sizes = (raw["num_hidden_layers"], n_heads, head_dim, raw["num_key_value_heads"])
        extra = {"tiny-llama-pydoc (trained here)": sizes}
    st.dataframe(kvc.kv_per_thousand_rows(extra, bytes_per_value=nbytes), hide_index=True)
    url_state.sync_url()
