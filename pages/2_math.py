"""Math: every step of softmax(QKᵀ/√d_k)·V, with real numbers, and why we divide by √d_k."""

import streamlit as st

from attn_jax.lessons.inputs import MAX_TOKENS, projections, sentence_vectors, toy_inputs
from attn_jax.lessons.scaling import scaling_experiment
from attn_jax.lessons.steps import attention_steps, cell_breakdown, reference_difference
from ui import math_figures as mf
from ui.components import get_encoder, page_setup, sentence_input
from ui.concept_content import EXAMPLE
from ui.figures import weights_bar

page_setup("Math", ":material/calculate:")


@st.cache_data(max_entries=64, show_spinner="Computing every step …")
def sentence_steps(text: str, d_k: int, seed: int, causal: bool, tau: float, use_model: bool):
    """(TokenVectors, AttentionSteps) for a sentence; use_model keys the cache on the model."""
    vecs = sentence_vectors(text, get_encoder() if use_model else None)
    w_q, w_k, w_v = projections(vecs.x.shape[1], d_k, seed)
    return vecs, attention_steps(vecs.x, w_q, w_k, w_v, is_causal=causal, temperature=tau)


@st.cache_data(max_entries=64, show_spinner=False)
def toy_steps(n_tokens: int, d_model: int, d_k: int, seed: int, causal: bool, tau: float):
    """(TokenVectors, AttentionSteps) for the tiny integer example."""
    vecs = toy_inputs(n_tokens, d_model)
    w_q, w_k, w_v = projections(d_model, d_k, seed, integer=True)
    return vecs, attention_steps(vecs.x, w_q, w_k, w_v, is_causal=causal, temperature=tau)


@st.cache_data(show_spinner="Running the √d_k experiment …")
def scaling_result(seed: int) -> dict:
    return scaling_experiment(seed=seed)


def show_step(fig, latex: str, note: str, table=None) -> None:
    """A heatmap with its formula beside it, and optionally its numbers below."""
    left, right = st.columns([3, 2], vertical_alignment="center")
    left.plotly_chart(fig, width="stretch")
    right.latex(latex)
    right.caption(note)
    if table is not None:
        st.dataframe(table, width="stretch")


st.title("The math of self-attention, step by step")
st.markdown(
    "Attention turns token vectors **X** into new vectors: each token asks a question "
    "(query), every token offers a label (key) and a content (value); the answer is a "
    "weighted mix of values. Every number below is computed live by JAX."
)
st.latex(r"\mathrm{Attention}(Q,K,V)=\mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right)V")

# ---- inputs -------------------------------------------------------------------------------
mode = st.radio(
    "Input",
    ["A sentence", "Tiny example (checkable by hand)"],
    horizontal=True,
    key="math_mode",
)
c1, c2, c3, c4 = st.columns(4)
seed = int(c2.number_input("Seed for W_Q, W_K, W_V", 0, 9999, 0, key="math_seed"))
causal = c3.toggle("Causal mask (no peeking ahead)", key="math_causal")
tau = float(c4.slider("Softmax temperature τ", 0.1, 4.0, 1.0, 0.1, key="math_tau"))
show_tables = st.toggle("Show the numbers as tables", key="math_tables")

if mode == "A sentence":
    text = sentence_input("Sentence", EXAMPLE, key="math_text") or EXAMPLE
    d_k = int(c1.selectbox("d_k (head dim)", [2, 4, 8, 16, 32, 64], index=3, key="math_dk"))
    use_model = get_encoder() is not None
    vecs, steps = sentence_steps(text, d_k, seed, causal, tau, use_model)
    if vecs.from_model:
        st.caption("X = the output of all-MiniLM-L6-v2's embedding layer (D = 384).")
    else:
        st.warning(
            "Toy mode: the model is missing, so each token gets a seeded random vector "
            "(D = 384; the same word always gets the same vector).",
            icon=":material/casino:",
        )
    if vecs.n_total > MAX_TOKENS:
        st.info(
            f"Only the first {MAX_TOKENS} of {vecs.n_total} tokens are shown.",
            icon=":material/content_cut:",
        )
    st.caption("W_Q, W_K, W_V are random here (entries N(0,1)/√D), not the model's weights.")
else:
    t1, t2 = st.columns(2)
    n_tokens = int(t1.selectbox("Tokens", [3, 4], index=1, key="math_toy_t"))
    d_model = int(t2.selectbox("d_model", [2, 3, 4, 6, 8], index=2, key="math_toy_d"))
    d_k = int(c1.selectbox("d_k (head dim)", [1, 2, 3, 4, 6, 8], index=3, key="math_toy_dk"))
    vecs, steps = toy_steps(n_tokens, d_model, d_k, seed, causal, tau)
    st.caption("Small integers everywhere (W entries in {−1, 0, 1}): check any cell on paper.")

tokens = vecs.tokens
n, d = steps.x.shape
dims, hdims = [str(c) for c in range(d)], [str(c) for c in range(d_k)]

# ---- the pipeline -------------------------------------------------------------------------
st.header("1 · Token vectors and projections")
show_step(
    mf.step_heatmap(steps.x, tokens, dims, title=f"X [T={n}, D={d}]", x_title="dimension"),
    r"X \in \mathbb{R}^{T \times D}",
    "One row per token.",
    mf.matrix_table(steps.x, tokens, dims) if show_tables else None,
)
for name, w in (("W_Q", steps.w_q), ("W_K", steps.w_k), ("W_V", steps.w_v)):
    show_step(
        mf.step_heatmap(w, dims, hdims, title=f"{name} [D={d}, d_k={d_k}]", x_title="head dim"),
        rf"{name.replace('_', '_{')}}} \in \mathbb{{R}}^{{D \times d_k}}",
        "Learned in a real model; drawn from the seed here.",
        mf.matrix_table(w, dims, hdims) if show_tables else None,
    )

st.header("2 · Queries, keys, values")
for name, m in (("Q", steps.q), ("K", steps.k), ("V", steps.v)):
    show_step(
        mf.step_heatmap(m, tokens, hdims, title=f"{name} = X·W_{name} [T={n}, d_k={d_k}]"),
        rf"{name} = X W_{name}",
        f"Row i of {name} belongs to token i.",
        mf.matrix_table(m, tokens, hdims) if show_tables else None,
    )

st.header("3 · Scores, scaling, mask, softmax, output")
key_axis = dict(x_title="key", y_title="query")
show_step(
    mf.step_heatmap(steps.scores, tokens, tokens, title=f"QKᵀ [T={n}, S={n}]", **key_axis),
    r"S = Q K^\top,\quad S_{ij} = q_i \cdot k_j",
    "How well query i matches key j.",
    mf.matrix_table(steps.scores, tokens, tokens) if show_tables else None,
)
show_step(
    mf.step_heatmap(
        steps.scaled, tokens, tokens, title=f"QKᵀ / (√d_k·τ) [T={n}, S={n}]", **key_axis
    ),
    rf"\frac{{QK^\top}}{{\sqrt{{d_k}}\,\tau}},\quad"
    rf"\sqrt{{{d_k}}}\cdot{tau:g} = {1 / steps.scale:.4g}",
    "Dividing by √d_k keeps the scores' spread about 1 whatever d_k (see the experiment below).",
    mf.matrix_table(steps.scaled, tokens, tokens) if show_tables else None,
)
show_step(
    mf.step_heatmap(steps.masked, tokens, tokens, title=f"masked [T={n}, S={n}]", **key_axis),
    r"\tilde S_{ij} = \begin{cases} S_{ij} & j \le i \\ -\infty & j > i \end{cases}"
    if causal
    else r"\tilde S = S \quad \text{(no mask)}",
    "Masked cells are −∞, so their weight is exactly 0." if causal else "Turn on the causal mask.",
    mf.matrix_table(steps.masked, tokens, tokens) if show_tables else None,
)
show_step(
    mf.step_heatmap(
        steps.weights,
        tokens,
        tokens,
        title=f"softmax weights A [T={n}, S={n}]",
        weights=True,
        **key_axis,
    ),
    r"A_{ij} = \frac{e^{\tilde S_{ij}}}{\sum_s e^{\tilde S_{is}}}",
    "Each row is a probability distribution over the keys: it sums to 1. With random W_Q, "
    "W_K the weights are often nearly uniform; a trained model learns projections that make "
    "them peaked (a lower τ sharpens them here).",
    mf.matrix_table(steps.weights, tokens, tokens) if show_tables else None,
)
show_step(
    mf.step_heatmap(steps.output, tokens, hdims, title=f"output A·V [T={n}, d_k={d_k}]"),
    r"\mathrm{out} = A V,\quad \mathrm{out}_i = \sum_j A_{ij}\, v_j",
    "Each token's new vector: a weighted mix of the value rows.",
    mf.matrix_table(steps.output, tokens, hdims) if show_tables else None,
)

# ---- one cell -----------------------------------------------------------------------------
st.header("4 · One cell, term by term")
lower = [t.lower() for t in tokens]
qi_default = lower.index("it") if "it" in lower else n - 1
kj_default = lower.index("animal") if "animal" in lower else 0
label = lambda t: f"{t}: {tokens[t]}"  # noqa: E731
p1, p2 = st.columns(2)
i = p1.selectbox("Query i", range(n), index=qi_default, format_func=label, key="math_i")
j = p2.selectbox("Key j", range(n), index=kj_default, format_func=label, key="math_j")
cell = cell_breakdown(steps, int(i), int(j))
m1, m2, m3 = st.columns(3)
m1.metric("q_i · k_j", f"{cell.dot:.4f}")
m2.metric("scaled score", f"{cell.scaled:.4f}" if cell.allowed[j] else "−∞ (masked)")
m3.metric("weight a_ij", f"{cell.weight:.4f}")

st.subheader("a) Dot product q_i · k_j")
terms = " + ".join(f"({a:.2f})({b:.2f})" for a, b in zip(cell.q_i[:4], cell.k_j[:4], strict=True))
more = r" + \cdots" if d_k > 4 else ""
st.latex(rf"q_{{{i}}} \cdot k_{{{j}}} = {terms}{more} = {cell.dot:.4f}")
left, right = st.columns([3, 2])
left.plotly_chart(mf.products_figure(cell.products, title="q_i[d] · k_j[d]"), width="stretch")
right.dataframe(mf.dot_product_table(cell.q_i, cell.k_j, cell.products), width="stretch")

st.subheader("b) Divide by √d_k (and τ)")
st.latex(
    rf"s_{{{i},{j}}} = \frac{{{cell.dot:.4f}}}{{\sqrt{{{d_k}}}\cdot {cell.temperature:g}}}"
    rf" = \frac{{{cell.dot:.4f}}}{{{cell.sqrt_dk * cell.temperature:.4f}}} = {cell.scaled:.4f}"
)

st.subheader(f"c) Softmax of row {i}")
if not cell.allowed[j]:
    st.info(
        f"Key {j} comes after query {i}: the causal mask sets its weight to 0.",
        icon=":material/block:",
    )
st.latex(
    rf"a_{{{i},{j}}} = \frac{{e^{{s_{{{i},{j}}} - m}}}}{{\sum_s e^{{s_{{{i},s}} - m}}}}"
    rf" = \frac{{{cell.exps[j]:.4f}}}{{{cell.exp_sum:.4f}}} = {cell.weight:.4f},"
    rf"\quad m = \max_s s_{{{i},s}} = {cell.row_max:.4f}"
)
st.caption("Subtracting the row maximum m changes nothing (it cancels) and avoids overflow.")
left, right = st.columns([3, 2])
left.plotly_chart(
    weights_bar(cell.row_weights, tokens, title=f"weights of row {i}", highlight=j),
    width="stretch",
)
right.dataframe(
    mf.softmax_table(tokens, cell.row_logits, cell.exps, cell.row_weights), width="stretch"
)

st.subheader(f"d) Output row {i} = Σ_j a_ij · v_j")
st.plotly_chart(
    mf.contributions_figure(cell.contributions, cell.output, tokens, title=f"terms of out_{i}"),
    width="stretch",
)
if show_tables:
    st.dataframe(mf.contributions_table(cell.contributions, cell.output, tokens), width="stretch")

# ---- check --------------------------------------------------------------------------------
st.header("5 · Check against JAX's own attention")
diff = reference_difference(steps)
st.metric("max |ours − jax.nn.dot_product_attention|", f"{diff:.2e}")
st.caption(
    "Q, K, V reshaped to [B=1, T, N=1, H=d_k], the same mask, and scale = 1/(√d_k·τ): "
    "the temperature is folded into `scale`."
)

# ---- why √d_k -----------------------------------------------------------------------------
st.header("6 · Why divide by √d_k?")
st.markdown(
    "For each d_k, random queries and 16 keys with unit-variance entries (seed 0): the "
    "spread of q·k, and how peaked the softmax over the 16 keys gets, with and without the scaling."
)
st.plotly_chart(mf.scaling_figure(scaling_result(0)), width="stretch")
st.markdown(
    "**Reading:** unscaled, the variance of q·k grows like d_k, so the softmax saturates "
    "(max weight → 1, entropy → 0, vanishing gradients); divided by √d_k the variance stays "
    "about 1 and the softmax keeps the same spread for every d_k."
)
