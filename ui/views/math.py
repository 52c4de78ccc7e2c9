"""The Math page's sections: softmax(QKᵀ/√d_k)·V step by step, on a trained model's heads
(the encoder's, the GPT-2 decoder's or the Llama-layout decoder's, every number the model's
own), on seeded random weights or on a tiny integer example; the weights map whose clicked
cell opens its arithmetic (dot product, scaling, softmax), the RoPE step (Llama layout:
ui.views.rope), the query · key view, the value side and W_O, every step, two
predict-then-reveal questions, and the √d_k experiment.

URL keys: source (encoder | decoder | llama | random | tiny; "model", the encoder's old name,
still opens), text, layer, head, query, key (token positions, 0-based), view (cell | qk |
value | steps), step, d_k, seed, causal, tau, toy_t, toy_d, toy_dk, tables, pair (RoPE).
"""

from __future__ import annotations

from typing import NamedTuple

import streamlit as st

from attn_jax.lessons import explore, quiz
from attn_jax.lessons.inputs import MAX_TOKENS, projections, sentence_vectors, toy_inputs
from attn_jax.lessons.real_steps import model_attention_steps, model_differences, residual_norms
from attn_jax.lessons.scaling import scaling_experiment
from attn_jax.lessons.steps import attention_steps, cell_breakdown, reference_difference
from ui.app import url_params as up
from ui.app import url_state
from ui.app.charts import chart
from ui.app.content import EXAMPLE, MAX_CHARS
from ui.app.inputs import sentence_input
from ui.app.models import get_encoder, installed, model_of, run_of
from ui.app.text import md_escape, token_labels
from ui.figures import math as mf
from ui.figures.click_heatmap import clickable_heatmap
from ui.views.cell_link import heatmap_picking_cell
from ui.views.quiz import predict_then_reveal
from ui.views.rope import param as pair_param
from ui.views.rope import rope_step

SOURCES = {
    "encoder": "The real model",
    "random": "Random weights",
    "tiny": "Tiny example (checkable by hand)",
    "decoder": "The decoder (causal)",
    "llama": "The Llama-layout decoder (RoPE, GQA)",
}
TRAINED = ("encoder", "decoder", "llama")
ROPE = ("llama",)  # the sources whose queries and keys are rotated (the RoPE section)
TABS = {"cell": "Cell, term by term", "qk": "Query · key view", "value": "Value side",
        "steps": "Every step"}  # fmt: skip
D_KS, TOY_DKS = [2, 4, 8, 16, 32, 64], [1, 2, 3, 4, 6, 8]
DEFAULT_LAYER, DEFAULT_HEAD = 3, 1
URL_LAYERS, URL_HEADS = 64, 64  # URL bounds; the head picker checks them against the model
SEEN_URL = "_math_seen_url"


def _installed(source: str) -> bool:
    """A toy, or a trained model that is there (the Llama one without loading it)."""
    return source not in TRAINED or installed(source)


def available() -> list[str]:
    """The inputs that can be shown: the trained models that are installed, and the toys."""
    return [s for s in SOURCES if _installed(s)]


def params() -> list[up.Param]:
    """The page's URL keys (the default input is the first available one)."""
    sources = available()
    return [
        up.choice("source", sources[0], sources, state_key="math_source",
                  aliases={"model": "encoder"} if "encoder" in sources else None),
        up.text("text", EXAMPLE, MAX_CHARS, state_key="math_text"),
        up.integer("layer", DEFAULT_LAYER, 0, URL_LAYERS - 1, state_key="math_layer"),
        up.integer("head", DEFAULT_HEAD, 0, URL_HEADS - 1, state_key="math_head"),
        up.integer("query", None, 0, 511, state_key="math_query"),
        up.integer("key", None, 0, 511, state_key="math_key"),
        up.labelled("view", "cell", TABS, state_key="math_view"),
        up.choice("step", "softmax", (*mf.STEP_NAMES, mf.MODEL_STEP), state_key="math_step"),
        up.choice("d_k", 16, D_KS, state_key="math_dk"),
        up.integer("seed", 0, 0, 9999, state_key="math_seed"),
        up.flag("causal", False, state_key="math_causal"),
        up.number("tau", 1.0, 0.1, 4.0, state_key="math_tau", decimals=1),
        up.choice("toy_t", 4, [3, 4], state_key="math_toy_t"),
        up.choice("toy_d", 4, [2, 3, 4, 6, 8], state_key="math_toy_d"),
        up.choice("toy_dk", 4, TOY_DKS, state_key="math_toy_dk"),
        up.flag("tables", False, state_key="math_tables"),
        pair_param(),
    ]  # fmt: skip


def arrived_by_link() -> bool:
    """True when this run's URL is not the one the page last wrote (a link or an edit); call
    before page_setup."""
    return st.query_params.to_dict() != st.session_state.get(SEEN_URL)


def sync_url() -> None:
    """The view into the address bar, remembered so that the next run can tell a visitor's
    own change from a new link."""
    url_state.sync_url()
    st.session_state[SEEN_URL] = st.query_params.to_dict()


class View(NamedTuple):
    """Everything the numbers depend on (plain values: a cache key)."""

    source: str
    text: str
    layer: int = 0
    head: int = 0
    d_k: int = 16
    seed: int = 0
    causal: bool = False
    tau: float = 1.0
    toy_t: int = 4
    toy_d: int = 4


@st.cache_data(max_entries=12, show_spinner="Computing every step …")
def model_steps(text: str, layer: int, head: int, source: str = "encoder"):
    """(tokens, AttentionSteps, max |steps − model| per quantity) for one head of a trained
    model: the encoder or the decoder."""
    out, model = run_of(source, text), model_of(source)
    steps = model_attention_steps(model, text, layer, head, run=out)
    return list(out.tokens), steps, model_differences(steps, out, layer, head)


@st.cache_data(max_entries=32, show_spinner="Computing every step …")
def random_steps(text: str, d_k: int, seed: int, causal: bool, tau: float, use_model: bool):
    """(tokens, AttentionSteps, notes) for a sentence with seeded random W_Q, W_K, W_V."""
    vecs = sentence_vectors(text, get_encoder() if use_model else None)
    w_q, w_k, w_v = projections(vecs.x.shape[1], d_k, seed)
    steps = attention_steps(vecs.x, w_q, w_k, w_v, is_causal=causal, temperature=tau)
    return vecs.tokens, steps, {"from_model": vecs.from_model, "n_total": vecs.n_total}


@st.cache_data(max_entries=32, show_spinner=False)
def toy_steps(n_tokens: int, d_model: int, d_k: int, seed: int, causal: bool, tau: float):
    """(tokens, AttentionSteps, {}) for the tiny integer example."""
    vecs = toy_inputs(n_tokens, d_model)
    w_q, w_k, w_v = projections(d_model, d_k, seed, integer=True)
    steps = attention_steps(vecs.x, w_q, w_k, w_v, is_causal=causal, temperature=tau)
    return vecs.tokens, steps, {}


def load(view: View):
    """(tokens, AttentionSteps, notes) for a view: every number the page shows."""
    if view.source in TRAINED:
        return model_steps(view.text, view.layer, view.head, view.source)
    if view.source == "random":
        args = (view.text, view.d_k, view.seed, view.causal, view.tau, get_encoder() is not None)
        return random_steps(*args)
    return toy_steps(view.toy_t, view.toy_d, view.d_k, view.seed, view.causal, view.tau)


@st.cache_data(show_spinner="Running the √d_k experiment …")
def scaling_result(seed: int) -> dict:
    return scaling_experiment(seed=seed)


# ---- the input: which model or toy, and its settings -------------------------------------
def head_picker(n_layers: int, n_heads: int) -> tuple[int, int]:
    """Layer and head pickers within this model's sizes (a value past them falls back)."""
    for key, n, default in (("layer", n_layers, DEFAULT_LAYER), ("head", n_heads, DEFAULT_HEAD)):
        if st.session_state.get(f"math_{key}", default) >= n:
            url_state.show_notices([up.ignored(key, f"is past this model's last {key}")])
            st.session_state[f"math_{key}"] = min(default, n - 1)
    c1, c2 = st.columns(2)
    layer = c1.selectbox("Layer", range(n_layers), key="math_layer", persist_state="page")
    head = c2.selectbox("Head", range(n_heads), key="math_head", persist_state="page")
    return int(layer), int(head)


def _mode_note(source: str, cfg, layer: int, head: int) -> str:
    """What X and the weights are for a trained model's head."""
    if source == "encoder":
        return (
            f"**Mode: the real model.** all-MiniLM-L6-v2, layer {layer}, head {head}: X is the "
            f"hidden state entering layer {layer} (layer 0: the embeddings); W_Q, W_K, W_V, their "
            f"biases and W_O are this head's trained weights (d_k = {cfg.head_dim}, no mask, "
            "τ = 1)."
        )
    if source == "llama":
        return _llama_note(cfg, layer, head)
    return (
        f"**Mode: the decoder.** This project's GPT-2-layout decoder ({cfg.n_layer} layers × "
        f"{cfg.n_head} heads), layer {layer}, head {head}: X is LN_1 of the residual stream "
        f"entering layer {layer} (a pre-LayerNorm block); W_Q, W_K, W_V, their biases and W_O "
        f"are this head's trained weights (d_k = {cfg.head_dim}, τ = 1), with its real causal "
        "mask: a token sees only itself and the tokens before it."
    )


def _llama_note(cfg, layer: int, head: int) -> str:
    """What X and the weights are for a head of the Llama-layout decoder."""
    group = head // (cfg.n_head // cfg.kv_heads)
    window = getattr(cfg, "sliding_window", None)
    mask = (f"its causal mask within a sliding window of {window} tokens" if window
            else "its causal mask")  # fmt: skip
    return (
        f"**Mode: the Llama-layout decoder.** This project's Llama-layout decoder "
        f"({cfg.n_layer} layers × {cfg.n_head} query heads sharing {cfg.kv_heads} K/V heads), "
        f"layer {layer}, head {head}: X is RMSNorm of the residual stream entering layer "
        f"{layer} (x / rms(x) · gain: no mean subtracted, no bias); W_Q is this head's, W_K and "
        f"W_V are those of its K/V group {group}, shared with the other query heads of the "
        f"group (grouped-query attention); no projection has a bias. q and k are rotated by "
        f"their positions (RoPE, below) before the scores, so the q and k on this page are the "
        f"rotated ones (d_k = {cfg.head_dim}, τ = 1), with {mask}."
    )


def _trained_view(source: str) -> View:
    """A trained model's head: the sentence, the layer and the head."""
    text = sentence_input("Sentence", EXAMPLE, key="math_text") or EXAMPLE
    cfg = model_of(source).config
    layer, head = head_picker(cfg.n_layer, cfg.n_head)
    st.info(_mode_note(source, cfg, layer, head), icon=":material/model_training:")
    return View(source, text, layer=layer, head=head, d_k=cfg.head_dim)


def _toy_settings(d_ks: list[int], d_k_key: str) -> tuple[int, int, bool, float]:
    """The random and tiny inputs' shared settings: (d_k, seed, causal mask, τ)."""
    c1, c2, c3, c4 = st.columns(4)
    d_k = c1.select_slider("d_k", d_ks, key=d_k_key, help="The head dimension.",
                           persist_state="page")  # fmt: skip
    seed = c2.number_input("Seed for W_Q, W_K, W_V", 0, 9999, key="math_seed",
                           persist_state="page")  # fmt: skip
    causal = c3.toggle("Causal mask", key="math_causal", persist_state="page",
                       help="No peeking ahead: query i sees only keys 0 … i.")  # fmt: skip
    tau = c4.slider("Softmax temperature τ", 0.1, 4.0, step=0.1, key="math_tau",
                    persist_state="page")  # fmt: skip
    return int(d_k), int(seed), bool(causal), float(tau)


def _random_view() -> View:
    d_k, seed, causal, tau = _toy_settings(D_KS, "math_dk")
    text = sentence_input("Sentence", EXAMPLE, key="math_text") or EXAMPLE
    st.info(
        "**Mode: random weights.** W_Q, W_K, W_V are drawn from the seed (entries "
        "N(0,1)/√D), not learned, so the weights are often nearly uniform: this mode is for "
        "the √d_k, mask and temperature lessons.",
        icon=":material/casino:",
    )
    return View("random", text, d_k=d_k, seed=seed, causal=causal, tau=tau)


def _tiny_view() -> View:
    d_k, seed, causal, tau = _toy_settings(TOY_DKS, "math_toy_dk")
    t1, t2 = st.columns(2)
    toy_t = int(t1.selectbox("Tokens", [3, 4], key="math_toy_t", persist_state="page"))
    toy_d = int(t2.selectbox("d_model", [2, 3, 4, 6, 8], key="math_toy_d", persist_state="page"))
    st.info(
        "**Mode: tiny example.** Small integers everywhere (W entries in {−1, 0, 1}): "
        "check any cell on paper.",
        icon=":material/calculate:",
    )
    return View("tiny", "", d_k=d_k, seed=seed, causal=causal, tau=tau, toy_t=toy_t,
                toy_d=toy_d)  # fmt: skip


MODE_VIEWS = {"random": _random_view, "tiny": _tiny_view}


def input_picker() -> View:
    """The input (a trained model's head, random weights or the tiny example) and its
    settings; returns the View every number below depends on."""
    sources = available()
    if st.session_state.get("math_source") == "llama" and model_of("llama") is None:
        st.warning("The Llama-layout decoder could not be loaded, so its input is off.",
                   icon=":material/warning:")  # fmt: skip
        sources.remove("llama")
    if st.session_state.get("math_source") not in sources:
        st.session_state["math_source"] = sources[0]
    source = st.radio("Input", sources, format_func=SOURCES.get, horizontal=True,
                      key="math_source", persist_state="page")  # fmt: skip
    if get_encoder() is None:
        st.warning(
            "The model is not installed, so the real-model input is off; the random-weights "
            "mode uses seeded random token vectors.",
            icon=":material/warning:",
        )
    view = _trained_view(source) if source in TRAINED else MODE_VIEWS[source]()
    _tokens, _steps, extra = load(view)
    if extra.get("from_model") is False and source == "random":
        st.caption("Without the model each token gets a seeded random vector (D = 384).")
    if extra.get("n_total", 0) > MAX_TOKENS:
        st.info(
            f"Only the first {MAX_TOKENS} of {extra['n_total']} tokens are used in this mode.",
            icon=":material/content_cut:",
        )
    return view


# ---- the chosen cell ------------------------------------------------------------------------
def fix_cell(tokens: list[str], weights, arrived: bool) -> None:
    """Valid query/key positions in session state before their pickers are drawn: a new
    sentence typed here starts at the default cell ("it" -> "animal" when present)."""
    if not arrived and st.session_state.get("_math_cell_for") != tokens:
        st.session_state["math_query"] = st.session_state["math_key"] = None
    st.session_state["_math_cell_for"] = tokens
    n = len(tokens)
    query = st.session_state.get("math_query")
    if query is None or not 0 <= query < n:
        if query is not None:
            url_state.show_notices([up.ignored("query", "is past the last token")])
        query = explore.default_query(tokens)
    key = st.session_state.get("math_key")
    if key is None or not 0 <= key < n:
        if key is not None:
            url_state.show_notices([up.ignored("key", "is past the last token")])
        key = explore.default_target(weights[None, None], tokens, query)
    st.session_state["math_query"], st.session_state["math_key"] = int(query), int(key)


@st.fragment
def cell_explorer(view: View, arrived: bool) -> None:
    """The weights map (click a cell), the chosen cell's numbers, and the tabs that explain it.

    `arrived`: the page was opened from a link (its cell is kept even for a new sentence)."""
    tokens, steps, extra = load(view)
    labels = token_labels(tokens)
    fix_cell(tokens, steps.weights, arrived)
    n = len(tokens)
    pick = lambda t: f"{t}: {labels[t]}"  # noqa: E731
    st.header("The weights, and one cell of them")
    left, right = st.columns([3, 2])
    with right:
        i = int(
            st.selectbox(
                "Query i",
                range(n),
                format_func=pick,
                key="math_query",
                help="The token who is looking (row i).",
                persist_state="page",
            )
        )
        j = int(
            st.selectbox(
                "Key j",
                range(n),
                format_func=pick,
                key="math_key",
                help="The token looked at (column j).",
                persist_state="page",
            )
        )
        cell = cell_breakdown(steps, i, j)
        m1, m2 = st.columns(2)
        m1.metric(
            f"weight a_ij ({md_escape(labels[i])} → {md_escape(labels[j])})", f"{cell.weight:.4f}"
        )
        m2.metric("q_i · k_j", f"{cell.dot:.4f}")
        m3, m4 = st.columns(2)
        m3.metric("scaled score", f"{cell.scaled:.4f}" if cell.allowed[j] else "−∞ (masked)")
        if view.source in TRAINED:
            m4.metric("max |steps − model|", f"{max(extra.values()):.1e}")
            st.caption(
                "Recomputed here from X and the trained weights, then compared with the "
                "model's own weights, queries, keys and values for this head."
            )
        else:
            m4.metric(
                "max |ours − jax.nn|",
                f"{reference_difference(steps):.1e}",
                help="Largest difference between this page's output A·V and "
                "jax.nn.dot_product_attention on the same Q, K, V, mask and scale. 0.0e+00 "
                "is no rounding of the display: the two results agree to the last bit of "
                "float32 on these inputs.",
            )
    with left:
        where = f"L{view.layer}·H{view.head}" if view.source in TRAINED else "softmax weights A"
        fig = clickable_heatmap(steps.weights, tokens, tokens, title=f"{where}: click a cell",
                                selected=(i, j))  # fmt: skip
        heatmap_picking_cell(fig, key="math_click", query_key="math_query", key_key="math_key")

    rotated = view.source in ROPE
    if rotated:  # after the projections, before the scores
        rope_step(view, steps, labels, i, j)
    tabs = st.tabs(list(TABS.values()), key="math_view", on_change="rerun")
    with tabs[0]:
        if tabs[0].open is not False:
            cell_tab(steps, labels, cell, rotated)
    with tabs[1]:
        if tabs[1].open:
            qk_tab(steps, labels, cell, rotated)
    with tabs[2]:
        if tabs[2].open:
            value_tab(steps, labels, cell)
    with tabs[3]:
        if tabs[3].open:
            steps_tab(steps, labels, view, rotated)
    # copies of one row: a fragment's arguments stay with the session
    predictions(steps.scores[i].copy(), steps.mask[i].copy(), steps.q.shape[1], labels, i)
    sync_url()


ROTATED_NOTE = "Here q_i and k_j are after RoPE: rotated by their positions i and j."


def cell_tab(steps, labels, cell, rotated: bool = False) -> None:
    i, j, d_k = cell.i, cell.j, len(cell.q_i)
    st.subheader("a) Dot product q_i · k_j")
    if rotated:
        st.caption(ROTATED_NOTE)
    terms = " + ".join(f"({a:.2f})({b:.2f})" for a, b in zip(cell.q_i[:4], cell.k_j[:4],
                                                           strict=True))  # fmt: skip
    more = r" + \cdots" if d_k > 4 else ""
    st.latex(rf"q_{{{i}}} \cdot k_{{{j}}} = {terms}{more} = {cell.dot:.4f}")
    left, right = st.columns([3, 2])
    with left:
        chart(mf.products_figure(cell.products, title="q_i[d] · k_j[d], dimension by dimension"))
    right.dataframe(mf.dot_product_table(cell.q_i, cell.k_j, cell.products), width="stretch",
                    height=300)  # fmt: skip
    st.subheader("b) Divide by √d_k (and τ)")
    st.latex(
        rf"s_{{{i},{j}}} = \frac{{{cell.dot:.4f}}}{{\sqrt{{{d_k}}}\cdot {cell.temperature:g}}}"
        rf" = \frac{{{cell.dot:.4f}}}{{{cell.sqrt_dk * cell.temperature:.4f}}}"
        rf" = {cell.scaled:.4f}"
    )
    st.subheader(f"c) Softmax of row {i}")
    if not cell.allowed[j]:
        st.info(f"Key {j} comes after query {i}: the causal mask sets its weight to 0.",
                icon=":material/block:")  # fmt: skip
    st.latex(
        rf"a_{{{i},{j}}} = \frac{{e^{{s_{{{i},{j}}} - m}}}}{{\sum_s e^{{s_{{{i},s}} - m}}}}"
        rf" = \frac{{{cell.exps[j]:.4f}}}{{{cell.exp_sum:.4f}}} = {cell.weight:.4f},"
        rf"\quad m = \max_s s_{{{i},s}} = {cell.row_max:.4f}"
    )
    st.caption("Subtracting the row maximum m changes nothing (it cancels) and avoids overflow.")
    left, right = st.columns([3, 2])
    with left:
        chart(mf.row_weights_figure(cell.row_weights, labels, title=f"weights of row {i} "
                                    f"(“{labels[i]}”)", highlight=j))  # fmt: skip
    right.dataframe(mf.softmax_table(labels, cell.row_logits, cell.exps, cell.row_weights),
                    width="stretch", height=330, hide_index=True)  # fmt: skip


def qk_tab(steps, labels, cell, rotated: bool = False) -> None:
    st.markdown(
        f"Query **{md_escape(labels[cell.i])}** against every key: its vector q_i, each key's "
        "k_j, their product dimension by dimension (blue adds to the score, red takes away), "
        "the sum q_i · k_j (scaled), and the softmax row." + (" " + ROTATED_NOTE if rotated else "")
    )
    fig = mf.qk_view_figure(cell.q_i, steps.k, cell.row_weights, steps.scale, labels,
                            query=labels[cell.i], highlight=cell.j)  # fmt: skip
    chart(fig)
    top = ", ".join(f"d = {d} ({p:+.3f})" for d, p in mf.top_dimensions(cell.products))
    st.markdown(
        f"For key **{md_escape(labels[cell.j])}** the largest terms of q·k = {cell.dot:.4f} "
        f"are {top}."
    )


def value_tab(steps, labels, cell) -> None:
    st.subheader(f"Output row {cell.i} = Σ_j a_ij · v_j")
    chart(mf.contributions_figure(cell.contributions, cell.output, labels,
                                  title=f"terms of out_{cell.i}"))  # fmt: skip
    if st.session_state.get("math_tables"):
        st.dataframe(mf.contributions_table(cell.contributions, cell.output, labels))
    if steps.w_o is None:
        st.caption("With random weights there is no W_O: the real-model input shows it.")
        return
    st.subheader("Then ·W_O, into the residual stream")
    st.latex(r"\Delta x_i = \mathrm{out}_i\, W_O^{(h)} = \sum_j a_{ij}\, v_j W_O^{(h)}")
    chart(mf.residual_figure(residual_norms(steps, cell.i), cell.row_weights, labels,
                             title=f"what each key adds to “{labels[cell.i]}”",
                             highlight=cell.j))  # fmt: skip
    st.caption(
        "Bars: the length of a_ij·v_j·W_O, what key j moves in token i's vector through this "
        "head; dots: the weight a_ij. A large weight on a short vector moves little "
        "(Kobayashi et al. 2020)."
    )


def steps_tab(steps, labels, view: View, rotated: bool = False) -> None:
    names = list(mf.STEP_NAMES) + ([mf.MODEL_STEP] if steps.projected is not None else [])
    if st.session_state.get("math_step") not in names:
        st.session_state["math_step"] = "softmax"
    name = st.segmented_control("Step", names, key="math_step", required=True,
                                persist_state="page")  # fmt: skip
    fig, latex, note, matrix, rows, cols = mf.pipeline_step(name, steps, labels, tau=view.tau,
                                                            rope=rotated)  # fmt: skip
    left, right = st.columns([3, 2], vertical_alignment="center")
    with left:
        chart(fig)
    right.latex(latex)
    right.caption(note)
    if st.toggle("Show the numbers as a table", key="math_tables", persist_state="page"):
        st.dataframe(mf.matrix_table(matrix, rows, cols), width="stretch")


@st.fragment
def predictions(scores, mask, d_k: int, labels, i: int) -> None:
    """Predict, then reveal: two questions on row i (its scores and mask), answered with its
    numbers."""
    st.header("Predict, then reveal")
    left, right = st.columns(2)
    with left:
        q = quiz.temperature_question(scores / d_k**0.5, mask, labels, labels[i])
        predict_then_reveal(q, key="math_quiz_tau")
    with right:
        q = quiz.scaling_question(scores, mask, d_k, labels[i])
        predict_then_reveal(q, key="math_quiz_scale")


def why_sqrt_dk() -> None:
    """Why divide by √d_k: the experiment, built only when its expander is open."""
    with st.expander("Why divide by √d_k? An experiment", key="math_why", on_change="rerun") as why:
        if not why.open:
            return
        st.markdown(
            "For each d_k, random queries and 16 keys with unit-variance entries (seed 0): the "
            "spread of q·k, and how peaked the softmax over the 16 keys gets, with and without "
            "the scaling."
        )
        chart(mf.scaling_figure(scaling_result(0)))
        st.markdown(
            "**Reading:** unscaled, the variance of q·k grows like d_k, so the softmax "
            "saturates (max weight → 1, entropy → 0, vanishing gradients); divided by √d_k "
            "the variance stays about 1 and the softmax keeps the same spread for every d_k."
        )
