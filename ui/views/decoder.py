"""The causal decoder's tabs (on the Concept page): what an LLM's attention does
that an encoder's cannot show. Every number is measured on the shipped model: next-token
predictions, attention sinks, induction heads and their phase change in training, and the
KV cache checked against a full run.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import streamlit as st

from attn_jax.lessons import decoder_heads as dh
from attn_jax.lessons import decoder_lessons as dl
from attn_jax.lessons import sliding_window as sw
from ui.app import url_params as up
from ui.app.charts import chart
from ui.app.models import model_of, run_of
from ui.app.text import md_escape, plotly_text, token_labels
from ui.figures import base as figures
from ui.figures import decoder as dfig

MAX_KNOCKED_OUT = 16
# URL key `ablate`: the heads knocked out of the next-token predictions, "0.1,2.3" (layer.head)
ABLATE = up.pairs("ablate", (), (48, 32), MAX_KNOCKED_OUT, state_key="concept_ablate")
WINDOWS = (2, 4, 8, 16, 32, 64)
# URL key `window`: the sliding window (keys a query sees) on the Llama-layout decoder
WINDOW = up.choice("window", 4, WINDOWS, state_key="concept_window")
TOKENS_NOTE = (
    "The decoder reads byte-level BPE tokens (as GPT-2 does): a token often starts with the "
    "space before a word, and a rare word is split into several tokens. No [CLS]/[SEP]: the "
    "first token is just the first piece of the text."
)


def readable(out):
    """The decoder's tokens without their leading spaces (so “ animal” matches “animal”)."""
    return dataclasses.replace(out, tokens=[t.strip() or "␣" for t in out.tokens])


def next_tokens(decoder, out, source: str = "decoder") -> None:
    """Each token's top-5 next-token prediction: what the causal model is trained to do; and
    the same with heads knocked out."""
    st.subheader("What comes next: the model's predictions")
    st.markdown(
        "A causal language model is trained to predict the next token from the ones before "
        "it, and only from those: its attention is masked above the diagonal (see the "
        "triangle in the heatmap above). Each row: the model's five most likely next tokens "
        "after reading up to that token."
    )
    st.dataframe(pd.DataFrame(dl.next_token_table(decoder, out)), hide_index=True)
    knock_out(decoder, out, source)


@st.cache_data(show_spinner="Running the decoder without those heads …", max_entries=16)
def _knocked_out(text: str, heads: tuple[tuple[int, int], ...], path: str, source: str):
    """(the output for `text` with `heads` zeroed before W_O, the mean probability it gives the
    original top-1 next tokens); the path keys the model."""
    decoder = model_of(source)
    heads = [tuple(h) for h in heads]
    ablated = readable(decoder.run(text, ablate=heads))
    return ablated, dl.top1_probability(decoder, run_of(source, text), heads)  # cached run


def knock_out(decoder, out, source: str = "decoder") -> None:
    """Pick heads to knock out (their outputs zeroed before W_O) and see the predictions move."""
    cfg = decoder.config
    options = [(la, he) for la in range(cfg.n_layer) for he in range(cfg.n_head)]
    chosen = st.session_state.get(ABLATE.widget) or []
    kept = [tuple(p) for p in chosen if tuple(p) in options]
    if len(kept) != len(chosen):
        st.info(
            f"Knocked-out heads this model does not have ({cfg.n_layer} layers × {cfg.n_head} "
            "heads) were dropped.",
            icon=":material/block:",
        )
    st.session_state[ABLATE.widget] = kept
    heads = st.multiselect(
        "Knock out heads (their outputs are zeroed before W_O)",
        options,
        format_func=lambda p: f"L{p[0]} H{p[1]}",
        max_selections=MAX_KNOCKED_OUT,
        key=ABLATE.widget,
        persist_state="page",
    )
    if not heads:
        st.caption("Pick one or more heads to see what the predictions lose without them.")
        return
    ablated, after = _knocked_out(
        out.text, tuple(tuple(h) for h in heads), str(decoder.path), source
    )
    changed = int((ablated.top_next_ids[:, 0] != out.top_next_ids[:, 0]).sum())
    before = float(out.top_next_probs[:, 0].mean())
    c1, c2 = st.columns(2)
    c1.metric("top-1 prediction changed", f"{changed} of {len(out.tokens)} positions")
    c2.metric(
        "probability of the original top-1",
        f"{after:.1%}",
        f"{(after - before) * 100:+.1f} points (was {before:.1%})",
        delta_color="off",
        help="Mean over the positions of the probability the model gives the token that was "
        "its first choice with every head.",
    )
    st.dataframe(
        pd.DataFrame(dl.next_token_table(decoder, ablated)), hide_index=True, key="knocked_out"
    )


@st.cache_data(show_spinner="Measuring induction heads …", max_entries=2)
def _induction(path: str, source: str = "decoder") -> tuple:
    """(scores [L,N], one repeated sequence's maps [L,N,T,T], its ids); keyed on the model."""
    decoder = model_of(source)
    ids = dh.repeated_random_tokens(decoder.config.vocab_size, 50, 4, seed=0)
    maps = decoder.attentions_of(ids[0])  # [L,N,T,T] of one repeated sequence
    return dh.induction_scores(decoder, n_random=50, seed=0), maps, ids[0]


def sinks(out) -> None:
    """Share of attention on the first token, per head, on the visitor's text."""
    st.subheader("Attention sinks")
    scores = dh.sink_from_attentions(out.attentions)
    layer, head, value = dh.best_head(scores)
    st.markdown(
        f"Trained LLMs park much of their attention on the first token whatever it says "
        f"(Xiao et al. 2023). On your text, L{layer}·H{head} puts {value:.0%} of its weight "
        f"on the first token, “{md_escape(token_labels(out.tokens)[0])}”, on average over the "
        "later tokens."
    )
    fig = dfig.head_scores(scores, title="Share of attention on the first token", value_name="sink")
    chart(fig, key="decoder_sinks")


def induction(decoder, source: str = "decoder") -> None:
    """Induction scores per head on random tokens repeated twice, with the best head's map."""
    st.subheader("Induction heads")
    scores, maps, ids = _induction(str(decoder.path), source)
    layer, head, value = dh.best_head(scores)
    st.markdown(
        "Give the model 50 random tokens, then the same 50 again. At the second copy, an "
        "**induction head** looks at the token that came *after* the current token's first "
        "occurrence, so the model can copy it (Olsson et al. 2022). The score: the mean weight "
        f"on that token. Here the strongest is L{layer}·H{head}, at {value:.2f}."
        + (
            ""
            if value >= 0.5
            else " That is far from an induction head (about 0.5 and up): this small model's "
            "short training run has not formed one yet, so the stripe below is missing."
        )
    )
    left, right = st.columns(2)
    with left:
        fig = dfig.head_scores(scores, title="Induction score per head", value_name="induction")
        chart(fig, key="decoder_induction")
    with right:
        labels = [plotly_text(t) for t in token_labels(decoder.tokenizer.token_strings(ids))]
        fig = figures.heatmap(
            maps[layer, head], labels, labels, title=f"L{layer}·H{head} on the repeated tokens",
            show_values=False,
        )  # fmt: skip
        chart(fig, key="decoder_induction_map")
        st.caption("The off-diagonal stripe: each token of the second copy looks one step past "
                   "its twin in the first copy.")  # fmt: skip


def training(decoder) -> None:
    """Loss and the best induction score over training: the phase change."""
    curves = dl.training_curves(decoder.path)
    if curves is None or not len(curves.steps):
        return
    st.subheader("How the induction heads formed in training")
    step = curves.phase_change(0.5)
    ran = (
        f"The model was trained here for {curves.steps[-1]} steps ({curves.wall_s / 60:.0f} "
        "minutes on a 2-core CPU). "
    )
    if step is not None:
        told = (
            f"Its induction heads appeared abruptly, around step {step}, while the loss kept "
            "falling smoothly: a “phase change” (Olsson et al. 2022)."
        )
    else:
        told = (
            f"In this short run no head reached an induction score of 0.5 (the best: "
            f"{curves.best_induction().max():.2f}). In larger models trained longer, induction "
            "heads appear abruptly, a “phase change” in the score below (Olsson et al. 2022)."
        )
    st.markdown(ran + told)
    chart(dfig.training_curves(curves), key="decoder_training")


@st.cache_data(show_spinner="Generating with a KV cache …", max_entries=16)
def _cache_check(text: str, path: str, source: str = "decoder") -> dl.CacheCheck:
    """The KV-cache check for one text and model (the path keys the model)."""
    return dl.kv_cache_check(model_of(source), text, n_new=8)


def kv_cache(decoder, text: str, source: str = "decoder") -> None:
    """Token-by-token generation with cached K, V equals the full run; the cache's size."""
    st.subheader("The KV cache of this model")
    check = _cache_check(text, str(decoder.path), source)
    st.markdown(
        "Because attention is causal, the keys and values of earlier tokens never change: "
        "generation keeps them in a **KV cache** and computes only the new token's query, "
        "key and value at each step. Here the model continues your text by 8 tokens, once "
        "with the cache and once by rerunning every token: the logits are the same."
    )
    c1, c2, c3 = st.columns(3)
    c1.metric("max |cached − full| logit", f"{check.max_abs_diff:.1e}")
    c2.metric("cache size", f"{check.cache_bytes / 1024:.0f} KiB")
    c3.metric("per token", f"{check.bytes_per_token:,} B")
    st.text("Continuation: " + "".join(check.new_tokens))
    cfg = decoder.config
    st.caption(
        f"2 (K and V) × {cfg.n_layer} layers × {cfg.kv_heads} K/V heads × {cfg.head_dim} dims × 4 "
        f"bytes = {check.bytes_per_token:,} B per token, for {check.prompt_tokens} + "
        f"{len(check.new_tokens)} tokens."
    )


@st.cache_resource(max_entries=2, show_spinner="Compiling the model with a sliding window …")
def _windowed(path: str, window: int, source: str):
    """The decoder with a sliding window (the same weights; its own compiled passes)."""
    return sw.windowed(model_of(source), window)


@st.cache_data(max_entries=16, show_spinner=False)
def _window_run(text: str, window: int, path: str, source: str):
    return readable(_windowed(path, window, source).run(text))


def sliding_window(decoder, out, source: str) -> None:
    """Mistral's sliding window on the real model: what a query still sees, and the cost."""
    st.subheader("A sliding window, as in Mistral")
    if decoder.config.layout == "gpt2":
        st.info(
            "Choose the Llama-layout decoder above: this GPT-2 has no windowed pass (Mistral "
            "7B, a Llama-layout model, attends to the last 4,096 tokens only).",
            icon=":material/info:",
        )
        return
    window = st.select_slider(
        "Window W (keys each query sees, itself included)", WINDOWS, key=WINDOW.widget,
        persist_state="page",
    )  # fmt: skip
    shown = _window_run(out.text, window, str(decoder.path), source)
    effect = sw.window_effect(out, shown)
    cost = sw.window_cost(len(out.tokens), window)
    moved = np.unravel_index(int(np.argmax(effect["js"])), effect["js"].shape)
    layer, head = int(moved[0]), int(moved[1])
    st.markdown(
        f"Query i now sees only keys i − {window - 1} … i. The same trained weights run with "
        "that mask (no retraining); below, the head whose map moved most on your text, "
        f"L{layer}·H{head}, without and with the window."
    )
    labels = [plotly_text(t) for t in token_labels(out.tokens)]
    left, right = st.columns(2)
    with left:
        title = f"L{layer}·H{head}, full causal"
        fig = figures.heatmap(out.attentions[layer, head], labels, labels, title=title)
        chart(fig, key="decoder_window_full")
    with right:
        title = f"L{layer}·H{head}, window {window}"
        fig = figures.heatmap(shown.attentions[layer, head], labels, labels, title=title)
        chart(fig, key="decoder_window")
    c1, c2, c3 = st.columns(3)
    c1.metric(
        "query-key scores computed", f"{cost['cells_window']:,}",
        f"{cost['cells_window'] / cost['cells_full'] - 1:.0%} (full: {cost['cells_full']:,})",
        delta_color="off",
    )  # fmt: skip
    cfg = decoder.config
    per_token = 2 * cfg.n_layer * cfg.kv_heads * cfg.head_dim * 4
    c2.metric(
        "KV cache kept", f"{cost['cache_tokens']} tokens",
        help=f"{cost['cache_tokens'] * per_token / 1024:.0f} KiB here: at most W tokens, "
        f"{per_token:,} B each",
    )  # fmt: skip
    c3.metric("top-1 next token changed", f"{effect['top1_changed']} of {len(out.tokens)}")
    st.caption(
        f"Per token the score work is at most W = {window} keys instead of growing with the "
        "text, and the KV cache holds W tokens, not the whole context. Stacked layers still "
        f"carry information further back: {cfg.n_layer} layers reach up to "
        f"{cfg.n_layer * (window - 1)} tokens back. This model was trained without a window, "
        "so its predictions change; Mistral was trained with one."
    )
