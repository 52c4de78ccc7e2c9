"""The Concept page's sections: the core idea, RNN vs CNN vs self-attention, the worked
example (illustrative, then live), the head picker, the three views of one head, the
counterfactual, the found syntactic and semantic heads, and the decoder's tabs.

URL keys: text, text2 (the two sentences), source (encoder | decoder), query, key (token
positions, 0-based, [CLS] = 0 for the encoder),
mode (find | pick), layer, head (0-based), chart (row | heatmap | lines),
view (raw | value-weighted | rollout), llm (the decoder's tab: next | sinks | induction |
training | cache), ablate (heads knocked out of the decoder's predictions, "0.1,2.3").
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from attn_jax.lessons import concept_quiz, explore
from ui.app import url_params as up
from ui.app import url_state
from ui.app.charts import chart
from ui.app.content import COUNTERFACTUAL, EXAMPLE, MAX_CHARS
from ui.app.inputs import sentence_input
from ui.app.models import (
    DECODERS,
    INSTALL_HINT,
    installed,
    load_error,
    model_of,
    run_of,
)
from ui.app.text import md_escape, plotly_text, token_labels
from ui.figures import base as figures
from ui.views import beyond as bv
from ui.views import copy_model as cm
from ui.views import decoder as dv
from ui.views.cell_link import attention_heatmap_with_click
from ui.views.quiz import predict_then_reveal

TEXT = up.text("text", EXAMPLE, MAX_CHARS, state_key="concept_text")
TEXT2 = up.text("text2", COUNTERFACTUAL, MAX_CHARS, state_key="concept_text2")
QUERY = up.integer("query", None, 0, 511, state_key="concept_query")
TARGET = up.integer("key", None, 0, 511, state_key="concept_key")
MODES = {"find": "Find the head for a target token", "pick": "Pick layer and head"}
MODE = up.choice("mode", "find", list(MODES), state_key="concept_mode")
LAYER = up.integer("layer", None, 0, 63, state_key="concept_layer")
HEAD = up.integer("head", None, 0, 63, state_key="concept_head")
CHARTS = {"row": "Row of the query", "heatmap": "Full heatmap", "lines": "Lines between tokens"}
CHART = up.choice("chart", "row", list(CHARTS), state_key="concept_chart")
VIEW = bv.view_param("concept_view")
MODELS = {
    "encoder": "Encoder: all-MiniLM-L6-v2",
    "decoder": "Decoder: a small GPT-2 trained here",
    "llama": "Decoder: a small Llama (RoPE, GQA) trained here",
}
SOURCE = up.choice("source", "encoder", list(MODELS), state_key="concept_source")
LLM_TABS = {
    "next": "Next-token predictions",
    "sinks": "Attention sinks",
    "induction": "Induction heads",
    "training": "Training",
    "cache": "KV cache",
    "window": "Sliding window",
}
LLM = up.choice("llm", "next", list(LLM_TABS), state_key="concept_llm")
PARAMS = [TEXT, TEXT2, SOURCE, QUERY, TARGET, MODE, LAYER, HEAD, CHART, VIEW, LLM, dv.ABLATE]
PARAMS += [dv.WINDOW]
PARAMS += cm.PARAMS  # the copy model's section
PICKS = (QUERY, TARGET, LAYER, HEAD)
# The course's illustrative row for "it" (not a model's output): word -> weight; the course
# gives no number for "it" itself (NaN: drawn as no bar, labelled "–").
ILLUSTRATIVE_ROW = {
    "The": 0.01,
    "animal": 0.85,
    "didn't": 0.05,
    "cross": 0.01,
    "the": 0.01,
    "street": 0.01,
    "because": 0.02,
    "it": float("nan"),
    "was": 0.01,
    "too": 0.01,
    "tired": 0.02,
}

CORE_IDEA = [
    (
        "1 · Score",
        "Each token asks a question (its query) and compares it with every other token's "
        "label (its key): one score per pair of positions.",
    ),
    (
        "2 · Mix",
        "Softmax turns a token's scores into weights that sum to 1, and the token's new vector "
        "is the weighted sum of all the tokens' values.",
    ),
    (
        "3 · Connect",
        "Any two tokens are one step apart, however far apart they sit: “it” can reach "
        "“animal” directly, with no chain of steps in between.",
    ),
]


def architecture_table() -> pd.DataFrame:
    """RNN vs CNN vs self-attention (n tokens, d model dim, k kernel size)."""
    return pd.DataFrame(
        {
            "per-layer cost": ["O(n·d²)", "O(k·n·d²)", "O(n²·d)"],
            "sequential steps": ["O(n)", "O(1)", "O(1)"],
            "max path length between two tokens": [
                "O(n)",
                "O(n/k) (contiguous), O(log_k n) (dilated)",
                "O(1)",
            ],
            "limitation": [
                "steps run one after another (slow to train); far-apart information fades",
                "sees only a window per layer; needs many layers for long-range links",
                "cost and memory grow with n²; no built-in notion of order (needs positions)",
            ],
        },
        index=pd.Index(["RNN", "CNN", "Self-attention"], name="layer type"),
    )


WORD_PIECES_NOTE = (
    "Tokens are the model's word pieces: “didn't” becomes “didn”, “'”, “t”, and a piece that "
    "continues a word starts with ##. [CLS] and [SEP] are the markers the model adds at the "
    "start and the end. A repeated token is numbered: the, the₂."
)


def core_idea() -> None:
    """The core idea in three steps, side by side."""
    st.header("The core idea in three steps")
    for col, (title, text) in zip(st.columns(3), CORE_IDEA, strict=True):
        with col.container(border=True):
            st.markdown(f"**{title}**")
            st.write(text)


def architectures() -> None:
    """RNN vs CNN vs self-attention: cost, steps, path length, limits."""
    st.header("RNN vs CNN vs self-attention")
    st.table(architecture_table())
    st.caption("n tokens, d model dimension, k kernel size (Vaswani et al. 2017, Table 1).")


def illustrative_example() -> None:
    """The worked example with the course's made-up numbers."""
    st.header("Worked example: what does “it” refer to?")
    st.markdown(f"> {EXAMPLE}")
    st.markdown(
        "First the course's **illustrative** numbers (made up for teaching, not a model's):"
    )
    chart(illustrative_figure(), key="illustrative")


@st.cache_resource
def illustrative_figure():
    """The course's row for “it” (does not depend on the visitor's input: built once)."""
    return figures.weights_bar(
        list(ILLUSTRATIVE_ROW.values()),
        list(ILLUSTRATIVE_ROW),
        title="Illustrative row of “it”<br>(course numbers, not measured)",
        highlight=1,
    )


def model_picker() -> str:
    """Encoder or one of the decoders (a decoder only when its checkpoint is there)."""
    offered = available_models()
    if st.session_state.get(SOURCE.widget) not in offered:
        st.session_state[SOURCE.widget] = "encoder"
    source = st.radio(
        "Model", offered, format_func=MODELS.get, key=SOURCE.widget, horizontal=True,
        persist_state="page",
        help=None if len(offered) == len(MODELS) else "Some checkpoints (models/) were not found.",
    )  # fmt: skip
    return source


def available_models() -> list[str]:
    """The sources whose checkpoints are there (the Llama one is not loaded to find out)."""
    return [s for s in MODELS if s == "encoder" or installed(s)]


def output_of(text: str, source: str):
    """The shared output of `source` for `text` (a decoder's tokens made readable); None when
    there is no model. Fragments call this with the text, rather than holding an output:
    Streamlit keeps a fragment's arguments for as long as the session lives."""
    out = run_of(source, text) if text else None
    return dv.readable(out) if source in DECODERS and out is not None else out


def encode(text: str, source: str = "encoder"):
    """The model's output for `text`, with notices; None when there is nothing to show."""
    if not text:
        return None
    out = output_of(text, source)
    if out is None and source in DECODERS:
        why = md_escape(load_error(source) or "its checkpoint is missing", 300)
        st.warning(f"{MODELS[source]}: could not be loaded. {why}", icon=":material/warning:")
    elif out is None:
        st.warning(f"The live view needs the model. {INSTALL_HINT}", icon=":material/warning:")
    elif out.truncated:
        st.info(f"The text was cut to the model's limit of {len(out.tokens)} tokens.")
    return out


def reset_picks_on_new_text(text: str) -> None:
    """A new sentence starts from the page's own picks (positions of the old one mean nothing)."""
    last = st.session_state.get("_concept_last_text")
    if last is not None and last != text:
        for p in PICKS:
            st.session_state[p.widget] = None
    st.session_state["_concept_last_text"] = text


def _valid_position(p: up.Param, n: int, default: int) -> None:
    """Session value of a token-position key in range, else `default` (with a notice)."""
    value = st.session_state.get(p.widget)
    if value is not None and not 0 <= value < n:
        st.warning(up.ignored(p.key, "is past the sentence's end"), icon=":material/link_off:")
        value = None
    st.session_state[p.widget] = default if value is None else value


def head_picker(out) -> tuple[int, int, int]:
    """Query token, and a head found for a target token or picked by hand. Returns (q, L, H)."""
    tokens, maps = out.tokens, out.attentions
    labels = token_labels(tokens)
    positions = list(range(len(tokens)))
    _valid_position(QUERY, len(tokens), explore.default_query(tokens))
    c1, c2 = st.columns(2)
    query = c1.selectbox(
        "Query token (who is looking)",
        positions,
        format_func=lambda i: labels[i],
        key=QUERY.widget,
        persist_state="page",
    )
    mode = c2.radio(
        "Head",
        list(MODES),
        format_func=MODES.get,
        key=MODE.widget,
        horizontal=True,
        persist_state="page",
    )
    if mode == "find":
        _valid_position(TARGET, len(tokens), explore.default_target(maps, tokens, query))
        target = st.selectbox(
            "Target token (who should be looked at)",
            positions,
            format_func=lambda i: labels[i],
            key=TARGET.widget,
            persist_state="page",
        )
        hits = explore.heads_linking(maps, query, target)
        layer, head = hits[0].layer, hits[0].head
        st.session_state[LAYER.widget], st.session_state[HEAD.widget] = layer, head
        st.markdown(
            f"Strongest link from **{md_escape(labels[query])}** to "
            f"**{md_escape(labels[target])}**: layer {layer}, head {head}, weight "
            f"{hits[0].weight:.2f}. Next: "
            + ", ".join(f"L{h.layer}·H{h.head} ({h.weight:.2f})" for h in hits[1:])
        )
        return query, layer, head
    for p, hi, default in ((LAYER, maps.shape[0], 5), (HEAD, maps.shape[1], 11)):
        value = st.session_state.get(p.widget)
        st.session_state[p.widget] = min(default, hi - 1) if value is None else min(value, hi - 1)
    c3, c4 = st.columns(2)
    layer = c3.slider("Layer", 0, maps.shape[0] - 1, key=LAYER.widget, persist_state="page")
    head = c4.slider("Head", 0, maps.shape[1] - 1, key=HEAD.widget, persist_state="page")
    return query, layer, head


def in_view(out, view: str, model):
    """`out` with its maps as `view` shows them (raw weights, value-weighted or rollout)."""
    if view == "raw":
        return out
    return dataclasses.replace(out, attentions=bv.maps_for_view(out, view, model))


def attention_views(
    out, query: int, layer: int, head: int, view: str = "raw", source: str = "encoder"
) -> None:
    """One of: the query's row as bars, the full heatmap, lines between tokens (only the
    chosen one is built). Raw heatmaps open a clicked cell's arithmetic on the Math page."""
    weights = out.attentions[layer, head]
    labels = token_labels(out.tokens)
    name = f"layer {layer}, head {head}"
    chosen, tabs = url_state.url_tabs(CHART, CHARTS)
    with tabs[chosen]:
        if chosen == "row":
            title = f"Row of “{plotly_text(labels[query])}”, {name}"
            fig = figures.weights_bar(weights[query], out.tokens, title=title)
        elif chosen == "heatmap" and view == "raw":
            attention_heatmap_with_click(
                weights, out.tokens, text=out.text, layer=layer, head=head,
                key="main_heatmap", title=f"All rows, {name}", source=source,
            )  # fmt: skip
            return
        elif chosen == "heatmap":
            fig = figures.heatmap(weights, out.tokens, out.tokens, title=f"All rows, {name}")
        else:
            fig = figures.token_lines(weights, out.tokens, query=query, title=name)
        chart(fig, key=f"main_{chosen}")


def counterfactual(out, other, query: int, layer: int, head: int) -> None:
    """The same head on the second sentence, side by side, with a hedged reading."""
    q_word = out.tokens[query]
    other_q = explore.find_token(other.tokens, q_word)
    other_q = explore.default_query(other.tokens) if other_q is None else other_q
    left, right = st.columns(2)
    for col, o, q, tag in ((left, out, query, "a"), (right, other, other_q, "b")):
        with col:
            st.text(f"“{o.text}”")
            fig = figures.weights_bar(
                o.attentions[layer, head, q],
                o.tokens,
                title=f"“{plotly_text(token_labels(o.tokens)[q])}”, layer {layer}, head {head}",
            )
            chart(fig, key=f"cf_{tag}")
    words = ("animal", "street")
    reading = explore.counterfactual_reading(
        explore.weights_on(out.attentions[layer, head, query], out.tokens, words),
        explore.weights_on(other.attentions[layer, head, other_q], other.tokens, words),
        f"L{layer}·H{head}",
        out.tokens[query],
    )
    st.info(md_escape(reading), icon=":material/search:")


def pattern_heads(out):
    """A previous-token head and, when there is a pronoun, a pronoun -> antecedent head."""
    return explore.pattern_heads(out.attentions, out.tokens)


def view_picker() -> str:
    """Raw weights / value-weighted / rollout, with what the chosen one measures."""
    view = bv.view_toggle(VIEW.widget, label="What the maps show")
    bv.explain(view)
    return view


def predict_strongest_key(out, query: int, layer: int, head: int) -> None:
    """Predict, then reveal: where the query looks most in this head."""
    labels = token_labels(out.tokens)
    question = concept_quiz.strongest_key_question(
        out.attentions[layer, head, query], labels, query, f"layer {layer}, head {head}"
    )
    predict_then_reveal(question, key="concept_quiz_key")


def predict_previous_token_head(out) -> None:
    """Predict, then reveal: which of two heads is a previous-token head."""
    question = concept_quiz.previous_token_question(out.attentions, out.tokens)
    if question is not None:
        predict_then_reveal(question, key="concept_quiz_prev")


def pattern_map(out, ph, source: str = "encoder") -> None:
    """One found head's map; a click opens the cell on the Math page."""
    attention_heatmap_with_click(
        out.attentions[ph.layer, ph.head], out.tokens, text=out.text, layer=ph.layer,
        head=ph.head, key=f"pattern_{ph.layer}_{ph.head}", title=f"L{ph.layer}·H{ph.head}",
        source=source,
    )  # fmt: skip


def llm_sections(text: str, source: str = "decoder") -> None:
    """The decoder's own lessons, one tab at a time (only the open one is computed)."""
    decoder, out = model_of(source), run_of(source, text)
    chosen, tabs = url_state.url_tabs(LLM, LLM_TABS)
    with tabs[chosen]:
        if chosen == "next":
            dv.next_tokens(decoder, dv.readable(out), source)
        elif chosen == "sinks":
            dv.sinks(dv.readable(out))
        elif chosen == "induction":
            dv.induction(decoder, source)
        elif chosen == "training":
            dv.training(decoder)
        elif chosen == "window":
            dv.sliding_window(decoder, dv.readable(out), source)
        else:
            dv.kv_cache(decoder, text, source)


def live_intro() -> tuple[str, object | None]:
    """The model switch and the sentence; returns (source, the model's output or None)."""
    st.subheader("Live from a real model")
    st.markdown(
        "The same sentence through a real trained transformer, run by this app's own JAX "
        "attention: **all-MiniLM-L6-v2**, a pretrained encoder (6 layers × 12 heads; every token "
        "sees every other), or the **decoder** this project trains, a small GPT-2 (each token "
        "sees only the tokens before it, as in an LLM). Edit the sentence, pick the query token, "
        "and let the page find the head that links it to a target, or pick any head yourself."
    )
    source = model_picker()
    text = sentence_input("Sentence", EXAMPLE, key=TEXT.widget)
    reset_picks_on_new_text(text + "\x00" + source)
    out = encode(text, source)
    if out is not None:
        st.caption(dv.TOKENS_NOTE if source in DECODERS else WORD_PIECES_NOTE)
    return source, out


@st.fragment
def live_section(text: str, source: str) -> None:
    """Query, head (found or picked), the three views and the counterfactual: one section."""
    out = output_of(text, source)
    view = view_picker()
    shown = in_view(out, view, model_of(source))
    query, layer, head = head_picker(shown)
    with st.expander("Predict first: where will it look?", icon=":material/quiz:"):
        predict_strongest_key(shown, query, layer, head)
    attention_views(shown, query, layer, head, view, source)

    st.header("Change one word: a counterfactual")
    text2 = sentence_input("Second sentence", COUNTERFACTUAL, key=TEXT2.widget)
    other = encode(text2, source)
    if other is not None:
        counterfactual(shown, in_view(other, view, model_of(source)), query, layer, head)
    url_state.sync_url()


def found_heads(out, source: str) -> None:
    """Syntactic and semantic heads found by measurement on the visitor's sentence."""
    st.header("Syntactic and semantic heads")
    st.markdown(
        "Heads are found here by measurement on your sentence, not picked by hand. "
        "The labels are heuristics (Clark et al. 2019 found such heads in BERT)."
    )
    with st.expander("Predict first: which head follows position?", icon=":material/quiz:"):
        predict_previous_token_head(out)
    found = pattern_heads(out)
    for col, ph in zip(st.columns(len(found)), found, strict=True):
        with col:
            st.markdown(f"**{ph.name}** ({ph.kind}) · layer {ph.layer}, head {ph.head}")
            pattern_map(out, ph, source)
            st.caption(md_escape(ph.reading))
    if len(found) == 1:
        st.caption("No pronoun in this sentence, so no pronoun → antecedent head to show.")


def inside_a_language_model(text: str, source: str = "decoder") -> None:
    """The decoder's own lessons (only with a decoder chosen)."""
    st.header("Inside a language model")
    llm_sections(text, source)
