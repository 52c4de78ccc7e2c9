"""Concept: what self-attention is, and the worked example “it” -> “animal”, live."""

import streamlit as st

from attn_jax.lessons import explore
from ui import figures
from ui.components import INSTALL_HINT, page_setup, run_model, sentence_input
from ui.concept_content import (
    CORE_IDEA,
    COUNTERFACTUAL,
    EXAMPLE,
    ILLUSTRATIVE_ROW,
    architecture_table,
)

page_setup("Concept", ":material/lightbulb:")

st.title("Self-attention: the concept")
st.markdown(
    "In a sentence, what a word means depends on the other words. Self-attention lets every "
    "token look at every other token and pull in what it needs, in one step."
)

st.header("The core idea in three steps")
for col, (title, text) in zip(st.columns(3), CORE_IDEA, strict=True):
    with col.container(border=True):
        st.markdown(f"**{title}**")
        st.write(text)

st.header("RNN vs CNN vs self-attention")
st.table(architecture_table())
st.caption("n tokens, d model dimension, k kernel size (Vaswani et al. 2017, Table 1).")

st.header("Worked example: what does “it” refer to?")
st.markdown(f"> {EXAMPLE}")
st.markdown("First the course's **illustrative** numbers (made up for teaching, not a model's):")
st.plotly_chart(
    figures.weights_bar(
        list(ILLUSTRATIVE_ROW.values()),
        list(ILLUSTRATIVE_ROW),
        title="Illustrative: the row of “it” (course numbers, not measured)",
        highlight=1,
    ),
    width="stretch",
    key="illustrative",
)


def head_picker(out, key: str):
    """Query token, and a head found for a target token or picked by hand. Returns (q, L, H)."""
    tokens = out.tokens
    positions = list(range(len(tokens)))
    label = dict(enumerate(tokens))
    c1, c2 = st.columns(2)
    query = c1.selectbox(
        "Query token (who is looking)",
        positions,
        index=explore.default_query(tokens),
        format_func=lambda i: f"{i}: {label[i]}",
        key=f"{key}_query_{hash(tuple(tokens))}",
    )
    mode = c2.radio(
        "Head",
        ["Find the head for a target token", "Pick layer and head"],
        key=f"{key}_mode",
        horizontal=True,
    )
    if mode.startswith("Find"):
        target = st.selectbox(
            "Target token (who should be looked at)",
            positions,
            index=explore.default_target(out.attentions, tokens, query),
            format_func=lambda i: f"{i}: {label[i]}",
            key=f"{key}_target_{hash(tuple(tokens))}",
        )
        hits = explore.heads_linking(out.attentions, query, target)
        layer, head = hits[0].layer, hits[0].head
        st.markdown(
            f"Strongest link from **{label[query]}** to **{label[target]}**: layer {layer}, "
            f"head {head}, weight {hits[0].weight:.2f}. Next: "
            + ", ".join(f"L{h.layer}·H{h.head} ({h.weight:.2f})" for h in hits[1:])
        )
    else:
        c3, c4 = st.columns(2)
        layer = c3.slider("Layer", 0, out.attentions.shape[0] - 1, 5, key=f"{key}_layer")
        head = c4.slider("Head", 0, out.attentions.shape[1] - 1, 11, key=f"{key}_head")
    return query, layer, head


def attention_views(out, query: int, layer: int, head: int, key: str) -> None:
    """Bar chart of the query's row, the full heatmap, and lines between tokens."""
    weights = out.attentions[layer, head]
    name = f"layer {layer}, head {head}"
    bar, heat, lines = st.tabs(["Row of the query", "Full heatmap", "Lines between tokens"])
    with bar:
        fig = figures.weights_bar(
            weights[query], out.tokens, title=f"Row of “{out.tokens[query]}”, {name}"
        )
        st.plotly_chart(fig, width="stretch", key=f"{key}_bar")
    with heat:
        fig = figures.heatmap(weights, out.tokens, out.tokens, title=f"All rows, {name}")
        st.plotly_chart(fig, width="stretch", key=f"{key}_heat")
    with lines:
        fig = figures.token_lines(weights, out.tokens, query=query, title=name)
        st.plotly_chart(fig, width="stretch", key=f"{key}_lines")


def encode(text: str):
    """The model's output for `text`, with notices; None when there is nothing to show."""
    if not text:
        return None
    out = run_model(text)
    if out is None:
        st.warning(f"The live view needs the model. {INSTALL_HINT}", icon=":material/warning:")
    elif out.truncated:
        st.info(f"The text was cut to the model's limit of {len(out.tokens)} word pieces.")
    return out


st.subheader("Live from all-MiniLM-L6-v2")
st.markdown(
    "The same sentence through a real pretrained transformer (6 layers × 12 heads), run by "
    "this app's own JAX attention. Edit the sentence, pick the query token, and let the page "
    "find the head that links it to a target, or pick any head yourself."
)
text = sentence_input("Sentence", EXAMPLE, key="concept_text")
out = encode(text)
if out is not None:
    query, layer, head = head_picker(out, "main")
    attention_views(out, query, layer, head, "main")

    st.header("Change one word: a counterfactual")
    other_text = sentence_input("Second sentence", COUNTERFACTUAL, key="concept_text_b")
    other = encode(other_text)
    if other is not None:
        q_word = out.tokens[query]
        other_q = explore.find_token(other.tokens, q_word)
        other_q = explore.default_query(other.tokens) if other_q is None else other_q
        left, right = st.columns(2)
        for col, o, q, tag in ((left, out, query, "a"), (right, other, other_q, "b")):
            with col:
                st.caption(f"“{o.text}”")
                fig = figures.weights_bar(
                    o.attentions[layer, head, q],
                    o.tokens,
                    title=f"“{o.tokens[q]}”, layer {layer}, head {head}",
                )
                st.plotly_chart(fig, width="stretch", key=f"cf_{tag}")
        words = ("animal", "street")
        st.info(
            explore.counterfactual_reading(
                explore.weights_on(out.attentions[layer, head, query], out.tokens, words),
                explore.weights_on(other.attentions[layer, head, other_q], other.tokens, words),
                f"L{layer}·H{head}",
                out.tokens[query],
            ),
            icon=":material/search:",
        )

    st.header("Syntactic and semantic heads")
    st.markdown(
        "Heads are found here by measurement on your sentence, not picked by hand. "
        "The labels are heuristics (Clark et al. 2019 found such heads in BERT)."
    )
    found = explore.pattern_heads(out.attentions, out.tokens)
    for col, ph in zip(st.columns(len(found)), found, strict=True):
        with col:
            st.markdown(f"**{ph.name}** ({ph.kind}) · layer {ph.layer}, head {ph.head}")
            fig = figures.heatmap(
                out.attentions[ph.layer, ph.head],
                out.tokens,
                out.tokens,
                title=f"L{ph.layer}·H{ph.head}",
                show_values=False,
            )
            st.plotly_chart(fig, width="stretch", key=f"pattern_{ph.layer}_{ph.head}")
            st.caption(ph.reading)
    if len(found) == 1:
        st.caption("No pronoun in this sentence, so no pronoun → antecedent head to show.")
