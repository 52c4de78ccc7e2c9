"""Home page of the Self-Attention portal (page 8 of 30 of an LLM course)."""

import streamlit as st

from ui.app.page import COURSE, page_setup
from ui.views import home

page_setup("Home", ":material/home:")

st.caption(COURSE)
st.title("Self-Attention, live")
st.markdown(
    "Self-attention lets every token of a sentence look at every other token and decide how "
    "much each one matters to it. On this course page you will see it happen: every matrix "
    "here is computed live by JAX, much of it by real trained transformers running through "
    "the same attention function the Math page teaches."
)
home.what_you_will_learn()
home.the_pages()
home.the_models()
home.where_this_runs()
