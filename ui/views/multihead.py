"""The Multi-head page's sections: how multi-head works (toy), every head of a real model at
a glance (the mosaic), pinned heads side by side and compared, the same head on two
sentences, predict-then-reveal, head statistics, and the head counts of real models. The
GQA and KV-cache sections are in ui/views/gqa.py.

URL keys: text, text2 (the two sentences), pins (pinned heads, "5.11,0.3" = layer.head,
0-based), view (raw | value-weighted | rollout), stat (a key of attn_jax.lessons.heads.STATS),
stats (heatmap | table), gqa, kv and layer (GQA on the real model: on, K/V heads, the layer
shown), source (encoder | decoder | llama, the installed ones), plus the toy and KV-cache
settings. A value that cannot be used falls back to its default with a notice naming the key.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import streamlit as st

from attn_jax.lessons import heads as hd
from attn_jax.lessons import kv_cache as kvc
from attn_jax.lessons.heads import STATS
from attn_jax.lessons.kv_cache import BYTES_PER_VALUE, MODEL_FACTS
from ui.app import url_params as up
from ui.app import url_state
from ui.app.charts import chart
from ui.app.content import COUNTERFACTUAL, EXAMPLE, MAX_CHARS
from ui.app.downloads import csv_button, matrix_csv, table_csv
from ui.app.inputs import sentence_input
from ui.app.models import INSTALL_HINT, installed, load_error, model_of, run_of
from ui.app.page import MATH_PAGE
from ui.app.text import md_escape
from ui.figures import multihead as hf
from ui.figures.base import heatmap
from ui.figures.beyond import KV_CHOICES, VIEWS
from ui.views import beyond as bv
from ui.views.quiz import predict_then_reveal

DEFAULT_TEXT = EXAMPLE
DEFAULT_TEXT2 = COUNTERFACTUAL
DEFAULT_PINS: tuple[tuple[int, int], ...] = ((5, 11), (0, 0))
DEFAULT_STAT = "entropy"
STATS_VIEWS = ("heatmap", "table")
SOURCES = {
    "encoder": "Encoder (all-MiniLM-L6-v2)",
    "decoder": "Decoder (GPT-2 layout)",
    "llama": "Decoder (Llama layout: RoPE, GQA)",
}
MAX_PINS = 4
MAX_LAYERS, MAX_HEADS = 48, 32  # URL bounds; the page checks pins against its model

TEXT = up.text("text", DEFAULT_TEXT, MAX_CHARS, state_key="mh_text")
TEXT2 = up.text("text2", DEFAULT_TEXT2, MAX_CHARS, state_key="mh_text2")
PINS = up.pairs("pins", DEFAULT_PINS, (MAX_LAYERS, MAX_HEADS), MAX_PINS, state_key="mh_pins")
VIEW = up.choice("view", "raw", list(VIEWS), state_key="mh_view")
STAT = up.choice("stat", DEFAULT_STAT, list(STATS), state_key="mh_stat")
STATS_VIEW = up.choice("stats", "heatmap", STATS_VIEWS, state_key="mh_stats_view")
SOURCE = up.choice("source", "encoder", list(SOURCES), state_key="mh_source")
KV = up.choice("kv", 4, KV_CHOICES, state_key="mh_gqa_kv")
GQA = up.flag("gqa", False, state_key="mh_gqa_on")  # run GQA on the real model
GQA_TRAINED = up.flag("gqa_trained", False, state_key="mh_gqa_llama")  # the Llama's K/V groups
LAYER = up.integer("layer", 5, 0, MAX_LAYERS - 1, state_key="mh_gqa_layer")
TOY = [
    up.choice("toy_n", 4, (1, 2, 4, 8, 16), state_key="toy_n"),
    up.choice("toy_d", 32, (16, 32), state_key="toy_d"),
    up.integer("toy_t", 5, 3, 8, state_key="toy_t"),
    up.integer("toy_seed", 0, 0, 9999, state_key="toy_seed"),
    up.choice("gqa_n", 8, (2, 4, 8, 16), state_key="gqa_n"),
    up.integer("gqa_k", 2, 1, 16, state_key="gqa_k"),
]
KV_CACHE = [
    up.choice("kv_model", "Llama 3 8B", list(MODEL_FACTS), state_key="mh_kv_model"),
    up.integer("ctx", 8192, 1, 1_048_576, state_key="mh_ctx"),
    up.choice("dtype", "fp16 / bf16", list(BYTES_PER_VALUE), state_key="mh_dtype"),
]
PARAMS = [TEXT, TEXT2, PINS, VIEW, STAT, STATS_VIEW, SOURCE, GQA, GQA_TRAINED, KV, LAYER, *TOY,
          *KV_CACHE]  # fmt: skip


def pin_label(pin: tuple[int, int]) -> str:
    """(5, 11) -> 'L5 H11'."""
    return f"L{pin[0]} H{pin[1]}"


def valid_pins(pins, n_layers: int, n_heads: int) -> list[tuple[int, int]]:
    """The pins that exist in a model with n_layers × n_heads, distinct, at most MAX_PINS."""
    out: list[tuple[int, int]] = []
    for pin in pins or []:
        try:
            layer, head = int(pin[0]), int(pin[1])
        except (TypeError, ValueError, IndexError):
            continue
        if 0 <= layer < n_layers and 0 <= head < n_heads and (layer, head) not in out:
            out.append((layer, head))
    return out[:MAX_PINS]


def _point_pin(point, n_heads: int) -> tuple[int, int] | None:
    """(layer, head) of one clicked point: its customdata (a list, or a {"0": .., "1": ..} dict
    as the browser sends numpy arrays), else its index in the row-major grid of dots."""
    if not isinstance(point, Mapping):
        return None
    data = point.get("customdata")
    if isinstance(data, Mapping):
        data = [data.get("0"), data.get("1")]
    try:
        return int(data[0]), int(data[1])
    except (TypeError, ValueError, IndexError, KeyError):
        pass
    index = point.get("point_index")
    if point.get("curve_number") == 1 and isinstance(index, int) and index >= 0:
        return divmod(index, n_heads)
    return None


def pins_from_points(points, n_layers: int, n_heads: int) -> list[tuple[int, int]]:
    """Heads clicked in the mosaic (see ui.heads_figures.head_mosaic), validated, distinct."""
    pins = []
    for point in points or []:
        pin = _point_pin(point, n_heads)
        if pin and 0 <= pin[0] < n_layers and 0 <= pin[1] < n_heads and pin not in pins:
            pins.append(pin)
    return pins


def add_pins(current, new: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Pins after adding `new` heads: no duplicates, the oldest dropped beyond MAX_PINS."""
    pins = [tuple(p) for p in current or []]
    for pin in new:
        if tuple(pin) not in pins:
            pins.append(tuple(pin))
    return pins[-MAX_PINS:]


# --- cached computations (plain inputs, numpy out) ----------------------------------------
@st.cache_resource(max_entries=64, show_spinner=False)
def toy_figures(n_tokens: int, d_model: int, n_heads: int, seed: int):
    """The two toy figures: they depend only on the toy's settings, never on the sentence."""
    run = kvc.toy_multihead(n_tokens, d_model, n_heads, n_heads, seed)
    tokens = [f"x{i}" for i in range(n_tokens)]
    return hf.toy_heads(run.weights, tokens), hf.concat_and_wo(run.concat, run.w_o, n_heads)


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
    chart(heads_fig, key="toy_heads")
    st.markdown(
        f"**Concatenate** the {n_heads} head outputs → [T={n_tokens}, N·H={d_model}], then "
        f"**mix** with W_O [{d_model}, {d_model}] → output [T={n_tokens}, D={d_model}]. The grey "
        "lines mark where one head's slice ends: W_O is what lets heads combine their findings."
    )
    chart(concat_fig, key="toy_cat")
    url_state.sync_url()


def on_mosaic_click(n_layers: int, n_heads: int) -> None:
    points = st.session_state["mh_mosaic"]["selection"]["points"]
    new = pins_from_points(points, n_layers, n_heads)
    st.session_state[PINS.widget] = add_pins(st.session_state.get(PINS.widget), new)


def check_pins(n_layers: int, n_heads: int) -> None:
    """Keep only pins this model has (a link, or the other model, may name others)."""
    pins = st.session_state.get(PINS.widget) or []
    valid = valid_pins(pins, n_layers, n_heads)
    if valid != [tuple(p) for p in pins]:
        st.info(
            f"Pinned heads this model does not have ({n_layers} layers × {n_heads} heads) "
            "were dropped.",
            icon=":material/push_pin:",
        )
        valid = valid or [(n_layers - 1, n_heads - 1), (0, 0)]
    st.session_state[PINS.widget] = valid


def _maps_csv(text: str, source: str, view: str, a, b=None) -> str:
    """Head a's map in `view` (or a − b) as CSV, built when its button is clicked: the button
    keeps only these keys (a deferred download lives as long as the session)."""
    out = run_of(source, text)
    maps = bv.maps_for_view(out, view, model_of(source))
    return matrix_csv(maps[a] if b is None else maps[a] - maps[b], out.tokens)


def pinned_section(out, maps, text: str, view: str, source: str) -> None:
    pins = st.session_state[PINS.widget]
    if not pins:
        st.info("Click a thumbnail, or pick heads above, to see their full maps.")
        return
    suffix = " (rollout to this layer)" if view == "rollout" else ""
    titles = [pin_label(p) + suffix for p in pins]
    fig = hf.pinned_heads([maps[p] for p in pins], out.tokens, titles)
    chart(fig, key="mh_pinned")
    for col, pin in zip(st.columns(len(pins)), pins, strict=True):
        with col:
            layer, head = pin
            csv_button(
                lambda pin=pin: _maps_csv(text, source, view, pin),
                f"{view}_L{layer}_H{head}",
                f"csv_{layer}_{head}",
                f"{pin_label(pin)} as CSV",
            )
            st.page_link(  # the Math page runs either model's heads step by step
                MATH_PAGE,
                label=f"{pin_label(pin)} step by step",
                icon=":material/calculate:",
                query_params={"text": text, "source": source, "layer": layer, "head": head},
            )


def compare_section(out, maps, text: str, view: str, source: str) -> None:
    st.subheader("Compare two pinned heads")
    pins = st.session_state[PINS.widget]
    if len(pins) < 2:
        st.info("Pin at least two heads to compare them.", icon=":material/push_pin:")
        return
    for key, default in (("mh_cmp_a", pins[0]), ("mh_cmp_b", pins[1])):
        if st.session_state.get(key) not in pins:
            st.session_state[key] = default
    c1, c2 = st.columns(2)
    a_pin = c1.selectbox("Head A", pins, format_func=pin_label, key="mh_cmp_a")
    b_pin = c2.selectbox("Head B", pins, format_func=pin_label, key="mh_cmp_b")
    a, b = maps[a_pin], maps[b_pin]
    st.metric(
        "Jensen-Shannon divergence, mean over query rows",
        f"{hd.head_js(a, b):.3f} nats",
        help="0 = the two heads weight every row identically; ln 2 ≈ 0.693 = they never "
        "attend to the same tokens.",
    )
    title = f"{pin_label(a_pin)} − {pin_label(b_pin)} (blue: A larger)"
    chart(hf.difference(a, b, out.tokens, title=title), key="mh_diff")
    csv_button(
        lambda: _maps_csv(text, source, view, a_pin, b_pin), f"{view}_difference", "csv_diff"
    )


@st.fragment
def heads_section(text: str, source: str) -> None:
    """The mosaic, the pins, their maps and their comparison, in the chosen view.

    Like every fragment here it takes the text, not the output: Streamlit keeps a fragment's
    arguments for as long as the session lives, and an output of 256 pieces is ~25 MB."""
    out, model = run_of(source, text), model_of(source)
    n_layers, n_heads, n_kv = model.config.n_layer, model.config.n_head, model.config.kv_heads
    view = bv.view_toggle(VIEW.widget)
    bv.explain(view)
    maps = bv.maps_for_view(out, view, model)
    check_pins(n_layers, n_heads)
    st.caption(
        f"{n_layers} layers × {n_heads} heads, one shared colour scale (0 to 1). Rows of each "
        "thumbnail are queries, columns keys; a long text is pooled to 32 × 32 cells per "
        "thumbnail. Click a thumbnail to pin it (4 at most) and see its full map below."
        + (
            f" Grouped-query attention: the {n_heads // n_kv} query heads framed together "
            f"share one K/V head ({n_kv} K/V heads per layer), so their maps differ only "
            "through their queries."
            if n_kv < n_heads
            else ""
        )
    )
    chart(
        hf.head_mosaic(
            mosaic_thumbs(text, view, source), st.session_state[PINS.widget], kv_heads=n_kv
        ),
        key="mh_mosaic",
        on_select=lambda: on_mosaic_click(n_layers, n_heads),
        selection_mode="points",
    )
    options = [(la, he) for la in range(n_layers) for he in range(n_heads)]
    st.multiselect(
        "Pinned heads",
        options,
        format_func=pin_label,
        max_selections=MAX_PINS,
        key=PINS.widget,
        persist_state="page",
    )
    pinned_section(out, maps, text, view, source)
    compare_section(out, maps, text, view, source)
    if view == "value-weighted":
        bv.special_tokens_note(out, model, key="mh_special")
    url_state.sync_url()


@st.fragment
def same_head_section(text: str, source: str) -> None:
    out, cfg = run_of(source, text), model_of(source).config
    n_layers, n_heads = cfg.n_layer, cfg.n_head
    st.subheader("The same head on two sentences")
    text2 = sentence_input("Second sentence", DEFAULT_TEXT2, key=TEXT2.widget)
    options = [(la, he) for la in range(n_layers) for he in range(n_heads)]
    pins = st.session_state.get(PINS.widget) or []
    if st.session_state.get("mh_same") not in options:
        st.session_state["mh_same"] = pins[0] if pins else options[-1]
    pin = st.selectbox("Head", options, format_func=pin_label, key="mh_same")
    out2 = run_of(source, text2) if text2 else None
    if out2 is not None:
        for col, o, name in zip(st.columns(2), (out, out2), ("first", "second"), strict=True):
            with col:
                fig = heatmap(o.attentions[pin], o.tokens, o.tokens, title=f"{name} sentence")
                chart(fig, key=f"mh_same_{name}")
    url_state.sync_url()


@st.fragment
def predict_section(text: str, source: str) -> None:
    out = run_of(source, text)
    st.subheader("Predict, then reveal")
    st.caption("Guess first: the answers are measured on your sentence once you choose.")
    stats, _ = head_table(text, source)
    q1 = hd.previous_token_question(stats, seed=zlib.crc32(text.encode()))
    a, b = q1.heads
    chart(hf.two_heads(out.attentions[a], out.attentions[b], out.tokens), key="mh_q1_fig")
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
        "Show as", STATS_VIEWS, horizontal=True, key=STATS_VIEW.widget, persist_state="page"
    )
    stat = c1.selectbox(
        "Statistic",
        list(hd.STATS),
        format_func=lambda k: hd.STATS[k][0],
        key=STAT.widget,
        persist_state="page",
        disabled=mode == "table",
        help="The table shows every statistic." if mode == "table" else None,
    )
    if mode == "heatmap":
        st.caption(f"{hd.STATS[stat][0]}: {hd.STATS[stat][1]}. A mean over query rows.")
        chart(hf.stat_grid(stats[stat], hd.STATS[stat][0]), key="mh_sg")
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
    csv_button(lambda: table_csv(rows), "head_statistics", "csv_stats", "Statistics as CSV")
    url_state.sync_url()


def real_models_table() -> None:
    """Head counts (and K/V heads) of well-known models."""
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


def model_switch() -> str:
    """The model radio (only the installed ones); returns the chosen source."""
    available = [s for s in SOURCES if installed(s)]
    if available and st.session_state.get(SOURCE.widget) not in available:
        if st.session_state.get(SOURCE.widget) != SOURCE.default:
            url_state.show_notices([up.ignored("source", "names a model that is not installed")])
        st.session_state[SOURCE.widget] = available[0]
    if len(available) > 1:
        st.radio(
            "Model",
            available,
            format_func=SOURCES.get,
            horizontal=True,
            key=SOURCE.widget,
            persist_state="page",
            help="The encoder reads the whole sentence at once; the decoders (trained here, "
            "causal) see only the tokens before each one, so their maps are 0 above the "
            "diagonal. The Llama-layout one shares each K/V head among 2 query heads (GQA).",
        )
    return st.session_state.get(SOURCE.widget, "encoder") if available else ""


def all_heads() -> str:
    """The model at a glance: the switch, the sentence, then every section on its heads.

    Returns the sentence ("" when empty)."""
    st.header("The model at a glance: all heads")
    source = model_switch()
    text = sentence_input("Sentence", DEFAULT_TEXT, key=TEXT.widget)
    if not source:
        st.info(f"This section needs the pretrained model. {INSTALL_HINT}")
        return text
    if model_of(source) is None:  # e.g. a checkpoint past the size budget
        why = md_escape(load_error(source) or "its checkpoint is missing", 300)
        st.warning(f"{SOURCES[source]} could not be loaded: {why}", icon=":material/warning:")
        return text
    out = run_of(source, text) if text else None
    if out is None:
        return text
    if out.truncated:
        st.info(f"The text was cut to the model's limit of {len(out.tokens)} tokens.")
    heads_section(text, source)
    same_head_section(text, source)
    predict_section(text, source)
    stats_section(text, source)
    return text
