"""Concept: what self-attention is, and the worked example “it” -> “animal”, live."""

import streamlit as st

from ui.app import url_state
from ui.app.models import DECODERS
from ui.app.page import page_setup
from ui.views import concept as cv
from ui.views import copy_model as cm

notices = page_setup("Concept", ":material/lightbulb:", page="concept", params=cv.PARAMS)

st.title("Self-attention: the concept")
st.markdown(
    "In a sentence, what a word means depends on the other words. Self-attention lets every "
    "token look at every other token and pull in what it needs, in one step."
)
url_state.show_notices(notices)

cv.core_idea()
cv.architectures()
cv.illustrative_example()

source, out = cv.live_intro()
if out is not None:
    cv.live_section(out.text, source)
    cv.found_heads(out, source)
    if source in DECODERS:
        cv.inside_a_language_model(out.text, source)
cm.section()
url_state.sync_url()
