"""Home page of the Self-Attention portal (page 8 of 30 of an LLM course)."""

import streamlit as st

from ui.components import COURSE, PAGES, backend_info, get_decoder, get_encoder, page_setup

page_setup("Home", ":material/home:")

st.caption(COURSE)
st.title("Self-Attention, live")
st.markdown(
    "Self-attention lets every token of a sentence look at every other token and decide how "
    "much each one matters to it. On this course page you will see it happen: every matrix "
    "here is computed live by JAX, much of it by real trained transformers running through "
    "the same attention function the Math page teaches."
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

st.subheader("The models")
encoder, decoder = get_encoder(), get_decoder()
models = [
    {
        "model": "all-MiniLM-L6-v2",
        "kind": "encoder (BERT): every token sees every token",
        "size": "6 layers × 12 heads, d_model 384",
        "from": "pretrained (sentence-transformers), Apache-2.0",
        "status": "loaded" if encoder is not None else "missing",
    }
]
if decoder is not None:
    cfg = decoder.config
    models.append(
        {
            "model": decoder.path.name,
            "kind": "decoder (GPT-2): each token sees only earlier tokens",
            "size": f"{cfg.n_layer} layers × {cfg.n_head} heads, d_model {cfg.n_embd}",
            "from": "trained by this project on the Python documentation",
            "status": "loaded",
        }
    )
st.dataframe(models, hide_index=True, width="stretch")

st.subheader("Where this runs")
info = backend_info()
c1, c2, c3 = st.columns(3)
c1.metric("JAX backend", info["backend"])
c2.metric("Devices", len(info["devices"]))
c3.metric("Model", "loaded" if encoder is not None else "missing (toy mode)")
st.caption("Devices: " + ", ".join(info["devices"]) + f" · jax {info['jax']}")
