"""Multi-head: heads side by side, all of the model's heads at a glance, head statistics, GQA."""

import numpy as np
import streamlit as st

import ui.components as uic
from attn_jax.lessons import heads as hd
from attn_jax.lessons import kv_cache as kvc
from ui import heads_figures as hf
from ui import heads_view as hv
from ui.components import page_setup
from ui.figures import heatmap

page_setup("Multi-head", ":material/grid_view:")


@st.cache_data(max_entries=32, show_spinner=False)
def toy(n_tokens: int, d_model: int, n_heads: int, n_kv: int, seed: int) -> kvc.ToyHeads:
    return kvc.toy_multihead(n_tokens, d_model, n_heads, n_kv, seed)


@st.cache_data(max_entries=32, show_spinner="Computing head statistics …")
def head_table(text: str):
    """(stats dict of [L,N] arrays, one table row per head)."""
    out = uic.run_model(text)
    stats = hd.head_stats(out.attentions, out.tokens)
    return stats, hd.stats_table(stats)


@st.cache_data(max_entries=32, show_spinner="Clustering the heads …")
def cluster_rank(text: str) -> list[int]:
    """Each head's position (row-major head index -> rank) in the JS-clustering leaf order."""
    out = uic.run_model(text)
    order = hd.cluster_order(np.sqrt(hd.pairwise_js(out.attentions)))
    return [order.index(i) for i in range(len(order))]


def init_view(n_layers: int, n_heads: int) -> None:
    """On a session's first run, fill the widgets from the URL (with notices for bad values)."""
    if "mh_ready" in st.session_state:
        for key in ("mh_pins", "mh_text2", "mh_stat", "mh_view"):  # keep them while hidden
            if key in st.session_state:
                st.session_state[key] = st.session_state[key]
        return
    view = hv.parse_view(st.query_params.to_dict(), n_layers, n_heads)
    st.session_state.update(
        mh_ready=True,
        mh_text=view.text,
        mh_text2=view.text2,
        mh_pins=[hv.pin_label(p) for p in view.pins],
        mh_stat=view.stat,
        mh_view=view.view,
        mh_notices=view.notices,
    )


def on_mosaic_click(n_layers: int, n_heads: int) -> None:
    points = st.session_state["mh_mosaic"]["selection"]["points"]
    new = hv.pins_from_points(points, n_layers, n_heads)
    st.session_state["mh_pins"] = hv.add_pins(st.session_state.get("mh_pins", []), new)


def csv_button(matrix, tokens, name: str, key: str) -> None:
    st.download_button(
        "CSV",
        hv.matrix_csv(matrix, tokens),
        f"{name}.csv",
        "text/csv",
        key=key,
        icon=":material/download:",
    )


encoder = uic.get_encoder()
N_LAYERS, N_HEADS = (
    (encoder.config.n_layers, encoder.config.n_heads) if encoder is not None else (6, 12)
)
init_view(N_LAYERS, N_HEADS)

st.title("Multi-head attention")
st.markdown(
    "One attention head computes one weighting of the tokens. A transformer runs **N heads in "
    "parallel**, each on its own slice of the model dimension (d_k = d_model / N), then "
    "concatenates their outputs and mixes them with W_O. Different heads learn to look for "
    "different things."
)
for notice in st.session_state.pop("mh_notices", []):
    st.warning(notice, icon=":material/link_off:")
if encoder is None:
    st.info(
        f"**Toy mode**: the pretrained model is not available. {uic.INSTALL_HINT}",
        icon=":material/toys:",
    )

# --- How multi-head works (toy) ------------------------------------------------------------
st.header("How multi-head works")
c1, c2, c3, c4 = st.columns(4)
n_heads = c1.select_slider("Heads N", [1, 2, 4, 8, 16], value=4, key="toy_n")
d_model = c2.radio("d_model", [16, 32], index=1, horizontal=True, key="toy_d")
n_tokens = c3.slider("Tokens T", 3, 8, 5, key="toy_t")
seed = c4.number_input("Seed", 0, 9999, 0, key="toy_seed")
toy_tokens = [f"x{i}" for i in range(n_tokens)]
run = toy(n_tokens, d_model, n_heads, n_heads, int(seed))
st.markdown(
    f"X is [T={n_tokens}, D={d_model}] (seeded random). Each head i projects it with its own "
    f"W_Qⁱ, W_Kⁱ, W_Vⁱ of shape [{d_model}, {d_model // n_heads}] and computes "
    f"softmax(QⁱKⁱᵀ/√{d_model // n_heads}) · Vⁱ → [T, {d_model // n_heads}]."
)
st.plotly_chart(hf.toy_heads(run.weights, toy_tokens), width="stretch", key="toy_heads")
st.markdown(
    f"**Concatenate** the {n_heads} head outputs → [T={n_tokens}, N·d_k={d_model}], then "
    f"**mix** with W_O [{d_model}, {d_model}] → output [T={n_tokens}, D={d_model}]. The black "
    "lines mark where one head's slice ends: W_O is what lets heads combine their findings."
)
st.plotly_chart(hf.concat_and_wo(run.concat, run.w_o, n_heads), width="stretch", key="toy_cat")

# --- The model at a glance -------------------------------------------------------------------
st.header("The model at a glance: all heads")
text = uic.sentence_input("Sentence", hv.DEFAULT_TEXT, key="mh_text")
out = uic.run_model(text) if (encoder is not None and text) else None
if encoder is None:
    st.info(
        f"This section needs the pretrained model. {uic.INSTALL_HINT}",
        icon=":material/inventory_2:",
    )
elif out is not None:
    if out.truncated:
        st.info(
            "The sentence was long: only its first pieces are used.", icon=":material/content_cut:"
        )
    tokens = list(out.tokens)
    pins = [hv.label_pin(label) for label in st.session_state.get("mh_pins", [])]
    st.caption(
        f"{N_LAYERS} layers × {N_HEADS} heads, one shared colour scale (0 to 1). Rows of each "
        "thumbnail are queries, columns keys. Click a thumbnail to pin it (4 at most)."
    )
    st.plotly_chart(
        hf.head_mosaic(out.attentions, pins),
        width="stretch",
        key="mh_mosaic",
        on_select=lambda: on_mosaic_click(N_LAYERS, N_HEADS),
        selection_mode="points",
    )
    options = [hv.pin_label((la, he)) for la in range(N_LAYERS) for he in range(N_HEADS)]
    st.multiselect("Pinned heads", options, max_selections=hv.MAX_PINS, key="mh_pins")
    pins = [hv.label_pin(label) for label in st.session_state["mh_pins"]]
    for col, (layer, head) in zip(st.columns(max(1, len(pins))), pins, strict=False):
        with col:
            fig = heatmap(
                out.attentions[layer, head], tokens, tokens, title=f"layer {layer}, head {head}"
            )
            st.plotly_chart(fig, width="stretch", key=f"pin_{layer}_{head}")
            csv_button(
                out.attentions[layer, head],
                tokens,
                f"attention_L{layer}_H{head}",
                f"csv_{layer}_{head}",
            )

# --- Compare ---------------------------------------------------------------------------------
st.header("Compare heads")
if out is None:
    st.info(
        "Comparing heads needs the pretrained model (see above).", icon=":material/inventory_2:"
    )
else:
    labels = st.session_state["mh_pins"]
    if len(labels) < 2:
        st.info("Pin at least two heads above to compare them.", icon=":material/push_pin:")
    else:
        c1, c2 = st.columns(2)
        label_a = c1.selectbox("Head A", labels, index=0, key="mh_cmp_a")
        label_b = c2.selectbox("Head B", labels, index=1, key="mh_cmp_b")
        a, b = (out.attentions[hv.label_pin(lab)] for lab in (label_a, label_b))
        js = hd.head_js(a, b)
        st.metric(
            "Jensen-Shannon divergence, mean over query rows",
            f"{js:.3f} nats",
            help="0 = the two heads weight every row identically; ln 2 ≈ 0.693 = they never "
            "attend to the same tokens.",
        )
        fig = hf.difference(a, b, tokens, title=f"{label_a} − {label_b} (blue: A larger)")
        st.plotly_chart(fig, width="stretch", key="mh_diff")
        csv_button(a - b, tokens, "difference", "csv_diff")

    st.subheader("The same head on two sentences")
    text2 = uic.sentence_input("Second sentence", hv.DEFAULT_TEXT2, key="mh_text2")
    options = [hv.pin_label((la, he)) for la in range(N_LAYERS) for he in range(N_HEADS)]
    first = labels[0] if labels else options[-1]
    same = st.selectbox("Head", options, index=options.index(first), key="mh_same")
    out2 = uic.run_model(text2) if text2 else None
    if out2 is not None:
        pin = hv.label_pin(same)
        c1, c2 = st.columns(2)
        for col, o, name in ((c1, out, "first"), (c2, out2, "second")):
            with col:
                fig = heatmap(o.attentions[pin], o.tokens, o.tokens, title=f"{same}, {name}")
                st.plotly_chart(fig, width="stretch", key=f"mh_same_{name}")

# --- Head statistics -------------------------------------------------------------------------
st.header("Head statistics")
if out is None:
    st.info("Head statistics need the pretrained model (see above).", icon=":material/inventory_2:")
else:
    stats, rows = head_table(text)
    c1, c2 = st.columns([2, 1])
    stat = c1.selectbox(
        "Statistic", list(hd.STATS), format_func=lambda k: hd.STATS[k][0], key="mh_stat"
    )
    mode = c2.radio("Show as", hv.VIEWS, horizontal=True, key="mh_view")
    st.caption(f"{hd.STATS[stat][0]}: {hd.STATS[stat][1]}. Every value is a mean over query rows.")
    if mode == "heatmap":
        st.plotly_chart(hf.stat_grid(stats[stat], hd.STATS[stat][0]), width="stretch", key="mh_sg")
    else:
        ranks = cluster_rank(text)
        table = [row | {"cluster order": rank} for row, rank in zip(rows, ranks, strict=True)]
        st.dataframe(table, width="stretch", hide_index=True, height=400)
    rules = "; ".join(
        f"{tag}: {hd.STATS.get(k, ('entropy / ln T',))[0]} ≥ {thr}" for tag, k, thr in hd.ROLE_RULES
    )
    st.caption(
        "**Role tags are heuristics**, computed from the statistics with fixed thresholds "
        f"({rules}); “mixed” when none applies. Cluster order: average-linkage clustering of "
        "the heads on their Jensen-Shannon distances (heads next to each other behave alike)."
    )
    st.download_button(
        "Statistics as CSV",
        hv.table_csv(rows),
        "head_statistics.csv",
        "text/csv",
        key="csv_stats",
        icon=":material/download:",
    )

# --- Real models -----------------------------------------------------------------------------
st.header("Heads in real models")
st.markdown(
    "Typical models use **8 to 128 heads** per layer. Many recent ones keep fewer K/V heads "
    "than query heads (grouped-query attention, below)."
)
facts = kvc.facts_rows()
st.dataframe(facts, width="stretch", hide_index=True, height=35 * (len(facts) + 1) + 3)

# --- Grouped-query attention -----------------------------------------------------------------
st.header("Grouped-query attention (GQA)")
st.markdown(
    "With **MHA** every query head has its own K and V head; with **GQA** a group of query "
    "heads shares one K/V head; with **MQA** all share a single one. Fewer K/V heads mean a "
    "smaller KV cache when generating text, at little cost in quality."
)
divisors = [k for k in range(n_heads, 0, -1) if n_heads % k == 0]
kind = {n_heads: "MHA", 1: "MQA"}
n_kv = st.select_slider(
    f"K/V heads for the toy above (N = {n_heads})",
    divisors,
    value=divisors[len(divisors) // 2] if len(divisors) > 2 else divisors[-1],
    format_func=lambda k: f"{k} ({kind.get(k, 'GQA')})",
    key="mh_kv",
)
gqa = toy(n_tokens, d_model, n_heads, n_kv, int(seed))
st.plotly_chart(hf.gqa_groups(gqa.kv_group), width="stretch", key="mh_gqa")
st.caption(
    "Heads in one group read the same keys, so their maps differ only through their queries."
)
st.plotly_chart(hf.toy_heads(gqa.weights, toy_tokens, gqa.kv_group), width="stretch", key="gqa_h")

st.subheader("KV-cache size")
names = list(kvc.MODEL_FACTS)
c1, c2, c3 = st.columns(3)
model = c1.selectbox("Model", names, index=names.index("Llama 3 8B"), key="mh_kv_model")
n_ctx = c2.number_input("Context length (tokens)", 1, 1_048_576, 8192, step=1024, key="mh_ctx")
dtype = c3.selectbox("Number format", list(kvc.BYTES_PER_VALUE), index=1, key="mh_dtype")
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
st.plotly_chart(fig, width="stretch", key="mh_kv_bars")

# --- Keep the URL in step with the view, so a copied link reproduces it ----------------------
view = hv.HeadsView(
    text=st.session_state.get("mh_text") or hv.DEFAULT_TEXT,
    text2=st.session_state.get("mh_text2") or hv.DEFAULT_TEXT2,
    pins=[hv.label_pin(label) for label in st.session_state.get("mh_pins", [])],
    stat=st.session_state.get("mh_stat", hv.DEFAULT_STAT),
    view=st.session_state.get("mh_view", "heatmap"),
)
params = hv.to_params(view)
if st.query_params.to_dict() != params:
    st.query_params.from_dict(params)
