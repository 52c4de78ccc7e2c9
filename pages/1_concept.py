"""Concept: what self-attention is, and the worked example “it” -> “animal”, live."""

import streamlit as st

from ui import concept_view as cv
from ui import decoder_view as dv
from ui import state
from ui.components import PLOTLY, page_setup, sentence_input
from ui.concept_content import CORE_IDEA, COUNTERFACTUAL, EXAMPLE, architecture_table
from ui.text import md_escape

notices = page_setup("Concept", ":material/lightbulb:", page="concept", params=cv.PARAMS)

st.title("Self-attention: the concept")
st.markdown(
    "In a sentence, what a word means depends on the other words. Self-attention lets every "
    "token look at every other token and pull in what it needs, in one step."
)
state.show_notices(notices)

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
st.plotly_chart(cv.illustrative_figure(), key="illustrative", **PLOTLY)


@st.fragment
def live_section(out, source: str) -> None:
    """Query, head (found or picked), the three views and the counterfactual: one section."""
    view = cv.view_picker()
    model = cv.model_of(source)
    shown = cv.in_view(out, view, model)
    query, layer, head = cv.head_picker(shown)
    with st.expander("Predict first: where will it look?", icon=":material/quiz:"):
        cv.predict_strongest_key(shown, query, layer, head)
    cv.attention_views(shown, query, layer, head, view, source)

    st.header("Change one word: a counterfactual")
    text2 = sentence_input("Second sentence", COUNTERFACTUAL, key=cv.TEXT2.widget)
    other = cv.encode(text2, source)
    if other is not None:
        cv.counterfactual(shown, cv.in_view(other, view, model), query, layer, head)
    state.sync_url()


st.subheader("Live from a real model")
st.markdown(
    "The same sentence through a real trained transformer, run by this app's own JAX "
    "attention: **all-MiniLM-L6-v2**, a pretrained encoder (6 layers × 12 heads; every token "
    "sees every other), or the **decoder** this project trains, a small GPT-2 (each token sees "
    "only the tokens before it, as in an LLM). Edit the sentence, pick the query token, and "
    "let the page find the head that links it to a target, or pick any head yourself."
)
source = cv.model_picker()
text = sentence_input("Sentence", EXAMPLE, key=cv.TEXT.widget)
cv.reset_picks_on_new_text(text + "\x00" + source)
out = cv.encode(text, source)
if out is not None:
    st.caption(dv.TOKENS_NOTE if source == "decoder" else cv.WORD_PIECES_NOTE)
    live_section(out, source)

    st.header("Syntactic and semantic heads")
    st.markdown(
        "Heads are found here by measurement on your sentence, not picked by hand. "
        "The labels are heuristics (Clark et al. 2019 found such heads in BERT)."
    )
    with st.expander("Predict first: which head follows position?", icon=":material/quiz:"):
        cv.predict_previous_token_head(out)
    found = cv.pattern_heads(out)
    for col, ph in zip(st.columns(len(found)), found, strict=True):
        with col:
            st.markdown(f"**{ph.name}** ({ph.kind}) · layer {ph.layer}, head {ph.head}")
            cv.pattern_map(out, ph, source)
            st.caption(md_escape(ph.reading))
    if len(found) == 1:
        st.caption("No pronoun in this sentence, so no pronoun → antecedent head to show.")
    if source == "decoder":
        st.header("Inside a language model")
        cv.llm_sections(text)
state.sync_url()
