"""Home page of the Self-Attention portal (page 8 of 30 of an LLM course)."""

import streamlit as st

from ui.components import COURSE, PAGES, backend_info, get_encoder, page_setup

page_setup("Home", ":material/home:")

st.caption(COURSE)
st.title("Self-Attention, live")
st.markdown(
    "Self-attention lets every token of a sentence look at every other token and decide how "
    "much each one matters to it. On this course page you will see it happen: every matrix "
    "here is computed live by JAX, much of it by a real pretrained transformer "
    "(all-MiniLM-L6-v2, 6 layers × 12 heads) running through the same attention function "
    "the Math page teaches."
)

st.subheader("What you will learn")
st.markdown(
    "- **Why** attention: a direct link between any two tokens, unlike RNNs and CNNs.\n"
    "- **How**: queries, keys and values; scores QKᵀ/√d_k; softmax; a weighted sum of values.\n"
    "- **Many heads**: heads in parallel find different patterns; grouped-query attention.\n"
    "- **The cost**: time and memory grow with n², measured on your own device."
)

st.subheader("The pages")
cols = st.columns(len(PAGES))
for col, (path, label, icon, blurb) in zip(cols, PAGES, strict=True):
    with col:
        st.page_link(path, label=label, icon=icon)
        st.caption(blurb)

st.subheader("Where this runs")
info = backend_info()
c1, c2, c3 = st.columns(3)
c1.metric("JAX backend", info["backend"])
c2.metric("Devices", len(info["devices"]))
c3.metric("Model", "loaded" if get_encoder() is not None else "missing (toy mode)")
st.caption("Devices: " + ", ".join(info["devices"]) + f" · jax {info['jax']}")
