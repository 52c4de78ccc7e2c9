"""Multi-head: heads side by side, all of the model's heads at a glance, three views of a map
(raw, value-weighted, rollout), head statistics, grouped-query attention on the real model."""

import zlib

import streamlit as st

import attn_jax
import ui.components as uic
from attn_jax.lessons import gqa
from attn_jax.lessons import heads as hd
from attn_jax.lessons import kv_cache as kvc
from ui import beyond_figures as bf
from ui import beyond_view as bv
from ui import heads_figures as hf
from ui import heads_view as hv
from ui import state
from ui import url_params as up
from ui.figures import PLOTLY_CONFIG, heatmap
from ui.quiz import predict_then_reveal

PLOTLY = {"width": "stretch", "theme": "streamlit", "config": PLOTLY_CONFIG}
MATH_PAGE = "pages/2_math.py"
GQA_CONTEXT = 512  # tokens: the encoder's longest input, for its KV-cache size

notices = uic.page_setup("Multi-head", ":material/grid_view:", page="multihead", params=hv.PARAMS)


# --- cached computations (plain inputs, numpy out) -----------------------------------------
def model_of(source: str):
    """The shared encoder or decoder (None when it is not installed)."""
    return uic.get_decoder() if source == "decoder" else uic.get_encoder()


def run_of(source: str, text: str):
    """The source model's output for `text` (read-only numpy, cached across sessions)."""
    return uic.run_decoder(text) if source == "decoder" else uic.run_model(text)


@st.cache_resource(max_entries=64, show_spinner=False)
def toy_figures(n_tokens: int, d_model: int, n_heads: int, seed: int):
    """The two toy figures: they depend only on the toy's settings, never on the sentence."""
    run = kvc.toy_multihead(n_tokens, d_model, n_heads, n_heads, seed)
    tokens = [f"x{i}" for i in range(n_tokens)]
    return hf.toy_heads(run.weights, tokens), hf.concat_and_wo(run.concat, run.w_o, n_heads)


@st.cache_resource(max_entries=64, show_spinner=False)
def toy_gqa_figures(n_heads: int, n_kv: int):
    run = kvc.toy_multihead(5, 32, n_heads, n_kv, 0)
    tokens = [f"x{i}" for i in range(5)]
    return hf.gqa_groups(run.kv_group), hf.toy_heads(run.weights, tokens, run.kv_group)


@st.cache_data(max_entries=32, show_spinner="Computing head statistics …")
def head_table(text: str, source: str = "encoder"):
    """(stats dict of [L,N] arrays, one table row per head)."""
    out = run_of(source, text)
    stats = hd.head_stats(out.attentions, out.tokens)
    return stats, hd.stats_table(stats)


@st.cache_data(max_entries=32, show_spinner="Clustering the heads …")
def cluster_rank(text: str, source: str = "encoder") -> list[int]:
    """Each head's position (row-major head index -> rank) in the JS-clustering leaf order."""
    out = run_of(source, text)
    order = hd.cluster_order(hd.pairwise_js(out.attentions) ** 0.5)
    return [order.index(i) for i in range(len(order))]


@st.cache_data(max_entries=16, show_spinner=False)
def mosaic_thumbs(text: str, view: str, source: str = "encoder"):
    """Every head's map in `view`, pooled to at most 32 × 32 cells: [L,N,c,c] float32."""
    return hf.thumbnails(bv.maps_for_view(run_of(source, text), view, model_of(source)))


@st.cache_resource(max_entries=1, show_spinner=False)
def grouped_encoder(n_kv: int, source_label: str):
    """The encoder (from `source_label`) with its K/V heads pooled to n_kv: one at a time for
    the whole server.

    It compiles its own forward pass per length bucket on first use; when another K is
    asked for, this one is dropped, and its executables with it (own jit)."""
    return attn_jax.grouped_query(uic.get_encoder(), n_kv)


@st.cache_data(max_entries=24, show_spinner=False)
def gqa_result(text: str, n_kv: int) -> dict:
    """The grouped model run on `text` and compared with the original: small results only."""
    encoder, out = uic.get_encoder(), uic.run_model(text)
    same = n_kv == encoder.config.n_heads  # grouped_query(encoder, N) is the original exactly
    run = out if same else grouped_encoder(n_kv, encoder.source_label).run(text)
    cmp = gqa.compare(out, run, n_kv)
    return {
        "js": cmp.js.astype("float32"),
        "mean_js": cmp.mean_js,
        "cosine": cmp.embedding_cosine,
        "thumbs": hf.thumbnails(run.attentions),
    }


def csv_button(make_csv, name: str, key: str, label: str = "CSV") -> None:
    """A download whose CSV is built only when clicked."""
    st.download_button(
        label, make_csv, f"{name}.csv", "text/csv", key=key, icon=":material/download:",
        on_click="ignore",
    )  # fmt: skip


# --- sections --------------------------------------------------------------------------------
@st.fragment
def toy_section() -> None:
    """How multi-head works, on seeded random numbers (its widgets rerun only this section)."""
    st.header("How multi-head works")
    c1, c2, c3, c4 = st.columns(4)
    n_heads = c1.select_slider("Heads N", [1, 2, 4, 8, 16], key="toy_n", persist_state="page")
    d_model = c2.radio("d_model", [16, 32], horizontal=True, key="toy_d", persist_state="page")
    n_tokens = c3.slider("Tokens T", 3, 8, key="toy_t", persist_state="page")
    seed = c4.number_input("Seed", 0, 9999, key="toy_seed", persist_state="page")
    head_dim = d_model // n_heads
    st.markdown(
        f"X is [T={n_tokens}, D={d_model}] (seeded random). Each head i projects it with its own "
        f"W_Qⁱ, W_Kⁱ, W_Vⁱ of shape [{d_model}, {head_dim}] and computes "
        f"softmax(QⁱKⁱᵀ/√{head_dim}) · Vⁱ → [T, {head_dim}]."
    )
    heads_fig, concat_fig = toy_figures(n_tokens, d_model, n_heads, int(seed))
    st.plotly_chart(heads_fig, key="toy_heads", **PLOTLY)
    st.markdown(
        f"**Concatenate** the {n_heads} head outputs → [T={n_tokens}, N·H={d_model}], then "
        f"**mix** with W_O [{d_model}, {d_model}] → output [T={n_tokens}, D={d_model}]. The grey "
        "lines mark where one head's slice ends: W_O is what lets heads combine their findings."
    )
    st.plotly_chart(concat_fig, key="toy_cat", **PLOTLY)
    state.sync_url()


def on_mosaic_click(n_layers: int, n_heads: int) -> None:
    points = st.session_state["mh_mosaic"]["selection"]["points"]
    new = hv.pins_from_points(points, n_layers, n_heads)
    st.session_state[hv.PINS.widget] = hv.add_pins(st.session_state.get(hv.PINS.widget), new)


def check_pins(n_layers: int, n_heads: int) -> None:
    """Keep only pins this model has (a link, or the other model, may name others)."""
    pins = st.session_state.get(hv.PINS.widget) or []
    valid = hv.valid_pins(pins, n_layers, n_heads)
    if valid != [tuple(p) for p in pins]:
        st.info(
            f"Pinned heads this model does not have ({n_layers} layers × {n_heads} heads) "
            "were dropped.",
            icon=":material/push_pin:",
        )
        valid = valid or [(n_layers - 1, n_heads - 1), (0, 0)]
    st.session_state[hv.PINS.widget] = valid


def pinned_section(out, maps, text: str, view: str, source: str) -> None:
    pins = st.session_state[hv.PINS.widget]
    if not pins:
        st.info("Click a thumbnail, or pick heads above, to see their full maps.")
        return
    suffix = " (rollout to this layer)" if view == "rollout" else ""
    titles = [hv.pin_label(p) + suffix for p in pins]
    fig = hf.pinned_heads([maps[p] for p in pins], out.tokens, titles)
    st.plotly_chart(fig, key="mh_pinned", **PLOTLY)
    for col, pin in zip(st.columns(len(pins)), pins, strict=True):
        with col:
            layer, head = pin
            csv_button(
                lambda m=maps[pin]: hv.matrix_csv(m, out.tokens),
                f"{view}_L{layer}_H{head}",
                f"csv_{layer}_{head}",
                f"{hv.pin_label(pin)} as CSV",
            )
            if source == "encoder":  # the Math page runs the encoder's heads step by step
                st.page_link(
                    MATH_PAGE,
                    label=f"{hv.pin_label(pin)} step by step",
                    icon=":material/calculate:",
                    query_params={"text": text, "source": "model", "layer": layer, "head": head},
                )


def compare_section(out, maps, view: str) -> None:
    st.subheader("Compare two pinned heads")
    pins = st.session_state[hv.PINS.widget]
    if len(pins) < 2:
        st.info("Pin at least two heads to compare them.", icon=":material/push_pin:")
        return
    for key, default in (("mh_cmp_a", pins[0]), ("mh_cmp_b", pins[1])):
        if st.session_state.get(key) not in pins:
            st.session_state[key] = default
    c1, c2 = st.columns(2)
    a_pin = c1.selectbox("Head A", pins, format_func=hv.pin_label, key="mh_cmp_a")
    b_pin = c2.selectbox("Head B", pins, format_func=hv.pin_label, key="mh_cmp_b")
    a, b = maps[a_pin], maps[b_pin]
    st.metric(
        "Jensen-Shannon divergence, mean over query rows",
        f"{hd.head_js(a, b):.3f} nats",
        help="0 = the two heads weight every row identically; ln 2 ≈ 0.693 = they never "
        "attend to the same tokens.",
    )
    title = f"{hv.pin_label(a_pin)} − {hv.pin_label(b_pin)} (blue: A larger)"
    st.plotly_chart(hf.difference(a, b, out.tokens, title=title), key="mh_diff", **PLOTLY)
    csv_button(lambda: hv.matrix_csv(a - b, out.tokens), f"{view}_difference", "csv_diff")


@st.fragment
def heads_section(out, text: str, source: str) -> None:
    """The mosaic, the pins, their maps and their comparison, in the chosen view."""
    model = model_of(source)
    n_layers, n_heads = hv.model_shape(model)
    view = bv.view_toggle(hv.VIEW.widget)
    bv.explain(view)
    maps = bv.maps_for_view(out, view, model)
    check_pins(n_layers, n_heads)
    st.caption(
        f"{n_layers} layers × {n_heads} heads, one shared colour scale (0 to 1). Rows of each "
        "thumbnail are queries, columns keys; a long text is pooled to 32 × 32 cells per "
        "thumbnail. Click a thumbnail to pin it (4 at most) and see its full map below."
    )
    st.plotly_chart(
        hf.head_mosaic(mosaic_thumbs(text, view, source), st.session_state[hv.PINS.widget]),
        key="mh_mosaic",
        on_select=lambda: on_mosaic_click(n_layers, n_heads),
        selection_mode="points",
        **PLOTLY,
    )
    options = [(la, he) for la in range(n_layers) for he in range(n_heads)]
    st.multiselect(
        "Pinned heads",
        options,
        format_func=hv.pin_label,
        max_selections=hv.MAX_PINS,
        key=hv.PINS.widget,
        persist_state="page",
    )
    pinned_section(out, maps, text, view, source)
    compare_section(out, maps, view)
    if view == "value-weighted":
        bv.special_tokens_note(out, model, key="mh_special")
    state.sync_url()


@st.fragment
def same_head_section(out, source: str) -> None:
    n_layers, n_heads = hv.model_shape(model_of(source))
    st.subheader("The same head on two sentences")
    text2 = uic.sentence_input("Second sentence", hv.DEFAULT_TEXT2, key=hv.TEXT2.widget)
    options = [(la, he) for la in range(n_layers) for he in range(n_heads)]
    pins = st.session_state.get(hv.PINS.widget) or []
    if st.session_state.get("mh_same") not in options:
        st.session_state["mh_same"] = pins[0] if pins else options[-1]
    pin = st.selectbox("Head", options, format_func=hv.pin_label, key="mh_same")
    out2 = run_of(source, text2) if text2 else None
    if out2 is not None:
        for col, o, name in zip(st.columns(2), (out, out2), ("first", "second"), strict=True):
            with col:
                fig = heatmap(o.attentions[pin], o.tokens, o.tokens, title=f"{name} sentence")
                st.plotly_chart(fig, key=f"mh_same_{name}", **PLOTLY)
    state.sync_url()


@st.fragment
def predict_section(out, text: str, source: str) -> None:
    st.subheader("Predict, then reveal")
    st.caption("Guess first: the answers are measured on your sentence once you choose.")
    stats, _ = head_table(text, source)
    q1 = hd.previous_token_question(stats, seed=zlib.crc32(text.encode()))
    a, b = q1.heads
    st.plotly_chart(
        hf.two_heads(out.attentions[a], out.attentions[b], out.tokens), key="mh_q1_fig", **PLOTLY
    )
    predict_then_reveal(q1.question, key="mh_q_prev")
    raw, weighted = bv.special_survival(out, model_of(source), by="head")
    q2 = hd.sink_question(raw, weighted, bv.marker_name(out.tokens))
    predict_then_reveal(q2.question, key="mh_q_sink")


@st.fragment
def stats_section(text: str, source: str) -> None:
    st.header("Head statistics")
    stats, rows = head_table(text, source)
    c1, c2 = st.columns([2, 1])
    mode = c2.radio(
        "Show as", hv.STATS_VIEWS, horizontal=True, key=hv.STATS_VIEW.widget, persist_state="page"
    )
    stat = c1.selectbox(
        "Statistic",
        list(hd.STATS),
        format_func=lambda k: hd.STATS[k][0],
        key=hv.STAT.widget,
        persist_state="page",
        disabled=mode == "table",
        help="The table shows every statistic." if mode == "table" else None,
    )
    if mode == "heatmap":
        st.caption(f"{hd.STATS[stat][0]}: {hd.STATS[stat][1]}. A mean over query rows.")
        st.plotly_chart(hf.stat_grid(stats[stat], hd.STATS[stat][0]), key="mh_sg", **PLOTLY)
    else:
        ranks = cluster_rank(text, source)
        table = [row | {"cluster order": rank} for row, rank in zip(rows, ranks, strict=True)]
        st.dataframe(
            table,
            width="stretch",
            hide_index=True,
            height=400,
            column_config={"role (heuristic)": st.column_config.TextColumn(width="large")},
        )
    rules = "; ".join(
        f"{tag}: {hd.STATS.get(k, ('entropy / ln T',))[0]} ≥ {thr}" for tag, k, thr in hd.ROLE_RULES
    )
    st.caption(
        "Statistics of the raw weights. **Role tags are heuristics**, computed from the "
        f"statistics with fixed thresholds ({rules}); “mixed” when none applies. Cluster "
        "order: average-linkage clustering of the heads on their Jensen-Shannon distances "
        "(heads next to each other behave alike)."
    )
    csv_button(lambda: hv.table_csv(rows), "head_statistics", "csv_stats", "Statistics as CSV")
    state.sync_url()


def gqa_every_k(text: str) -> None:
    """The measured trade-off for every K/V head count, on this sentence."""
    results = []
    bar = st.progress(0.0, text="Building and running the grouped models …")
    for i, n_kv in enumerate(bf.KV_CHOICES):
        results.append((n_kv, gqa_result(text, n_kv)))
        bar.progress((i + 1) / len(bf.KV_CHOICES), text=f"K = {n_kv} done")
    bar.empty()
    ks = [k for k, _ in results]
    st.plotly_chart(
        bf.gqa_tradeoff(ks, [r["mean_js"] for _, r in results], [r["cosine"] for _, r in results]),
        key="mh_gqa_tradeoff",
        **PLOTLY,
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
    csv_button(lambda: hv.table_csv(rows), "gqa_tradeoff", "csv_gqa_all", "Table as CSV")


def gqa_real_model(text: str) -> None:
    encoder = uic.get_encoder()
    cfg = encoder.config
    st.subheader("GQA made from the real model")
    st.markdown(
        "Pool the model's own K and V heads: each group of query heads gets the mean of its "
        "K/V projections (the conversion of Ainslie et al. 2023, *before* the short retraining "
        "they add). The query heads stay as they were. What does that do to this model?"
    )
    if not st.toggle(
        "Build it on this sentence (compiles a grouped model: a few seconds)",
        key=hv.GQA.widget,
        persist_state="page",
    ):
        return
    c1, c2 = st.columns([2, 1])
    n_kv = c1.select_slider(
        "K/V heads of all-MiniLM-L6-v2 (12 = the original)",
        bf.KV_CHOICES,
        format_func=lambda k: f"{k} ({'MHA' if k == cfg.n_heads else 'MQA' if k == 1 else 'GQA'})",
        key=hv.KV.widget,
        persist_state="page",
    )
    if not 0 <= st.session_state.get(hv.LAYER.widget, 0) < cfg.n_layers:
        st.session_state[hv.LAYER.widget] = cfg.n_layers - 1
    layer = c2.selectbox("Layer", range(cfg.n_layers), key=hv.LAYER.widget, persist_state="page")
    with st.spinner(f"Building the model with {n_kv} K/V heads (compiles once) …"):
        result = gqa_result(text, n_kv)
    own = kvc.kv_cache_bytes(cfg.n_layers, n_kv, cfg.head_dim, GQA_CONTEXT, 4)
    mha = kvc.kv_cache_bytes(cfg.n_layers, cfg.n_heads, cfg.head_dim, GQA_CONTEXT, 4)
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
    kv_group = attn_jax.kv_group_of(cfg.n_heads, n_kv)
    thumbs = mosaic_thumbs(text, "raw", "encoder")
    fig = bf.gqa_heads(thumbs[layer], result["thumbs"][layer], result["js"][layer], kv_group, n_kv)
    st.plotly_chart(fig, key="mh_gqa_heads", **PLOTLY)
    st.caption(
        f"Layer {layer}: the original heads (top) and the same query heads reading pooled keys "
        "and values (bottom). Hover for each head's JS divergence. Without retraining the maps "
        "drift and the embedding moves: the trade-off is measured here, not assumed."
    )
    heads = [f"H{h}" for h in range(cfg.n_heads)]
    layers = [f"L{la}" for la in range(cfg.n_layers)]
    csv_button(
        lambda: hv.matrix_csv(result["js"], layers, heads),
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
    st.plotly_chart(groups_fig, key="mh_gqa", **PLOTLY)
    st.caption(
        "Heads in one group (same colour) read the same keys, so their maps differ only "
        "through their queries."
    )
    st.plotly_chart(heads_fig, key="gqa_h", **PLOTLY)
    if real_model:
        gqa_real_model(text)
    state.sync_url()


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
    st.plotly_chart(fig, key="mh_kv_bars", **PLOTLY)
    state.sync_url()


# --- the page --------------------------------------------------------------------------------
encoder = uic.get_encoder()
st.title("Multi-head attention")
st.markdown(
    "One attention head computes one weighting of the tokens. A transformer runs **N heads in "
    "parallel**, each on its own slice of the model dimension (d_k = d_model / N), then "
    "concatenates their outputs and mixes them with W_O. Different heads learn to look for "
    "different things."
)
state.show_notices(notices)
if encoder is None:
    st.info(f"**Toy mode**: the pretrained model is not available. {uic.INSTALL_HINT}")

toy_section()

st.header("The model at a glance: all heads")
available = [s for s in hv.SOURCES if model_of(s) is not None]
if available and st.session_state.get(hv.SOURCE.widget) not in available:
    if st.session_state.get(hv.SOURCE.widget) != hv.SOURCE.default:
        state.show_notices([up.ignored("source", "names a model that is not installed")])
    st.session_state[hv.SOURCE.widget] = available[0]
if len(available) > 1:
    st.radio(
        "Model",
        available,
        format_func=hv.SOURCES.get,
        horizontal=True,
        key=hv.SOURCE.widget,
        persist_state="page",
        help="The encoder reads the whole sentence at once; the decoder (trained here, causal) "
        "sees only the tokens before each one, so its maps are 0 above the diagonal.",
    )
source = st.session_state.get(hv.SOURCE.widget, "encoder")
text = uic.sentence_input("Sentence", hv.DEFAULT_TEXT, key=hv.TEXT.widget)
out = run_of(source, text) if (available and text) else None
if not available:
    st.info(f"This section needs the pretrained model. {uic.INSTALL_HINT}")
elif out is not None:
    if out.truncated:
        st.info(f"The text was cut to the model's limit of {len(out.tokens)} tokens.")
    heads_section(out, text, source)
    same_head_section(out, source)
    predict_section(out, text, source)
    stats_section(text, source)

st.header("Heads in real models")
st.markdown(
    "Typical models use **8 to 128 heads** per layer. Many recent ones keep fewer K/V heads "
    "than query heads (grouped-query attention, below)."
)
facts = kvc.facts_rows()
st.dataframe(
    facts,
    width="stretch",
    hide_index=True,
    height=35 * (len(facts) + 1) + 3,
    column_config={"attention": st.column_config.TextColumn(width="large")},
)

gqa_section(encoder is not None and bool(text), text)
kv_cache_section()
state.sync_url()
