"""The Home page's sections: what the course page teaches, the pages, the models, and where
the app runs (JAX backend and devices)."""

from __future__ import annotations

import streamlit as st

from ui.app.models import (
    MODEL_NAME,
    get_copy_model,
    get_decoder,
    get_encoder,
    llama_config,
    llama_dir,
)
from ui.app.page import PAGES, backend_info


def what_you_will_learn() -> None:
    st.subheader("What you will learn")
    st.markdown(
        "- **Why** attention: a direct link between any two tokens, unlike RNNs and CNNs.\n"
        "- **How**: queries, keys and values; scores QKᵀ/√d_k; softmax; a weighted sum of "
        "values.\n"
        "- **Many heads**: heads in parallel find different patterns; grouped-query attention.\n"
        "- **The cost**: time and memory grow with n², measured on your own device."
    )


def the_pages() -> None:
    st.subheader("The pages")
    for col, (path, label, icon, blurb) in zip(st.columns(len(PAGES)), PAGES, strict=True):
        with col:
            st.page_link(path, label=label, icon=icon)
            st.caption(blurb)


def the_models() -> None:
    """The models this server has loaded (or not), with their sizes."""
    st.subheader("The models")
    encoder, decoder = get_encoder(), get_decoder()
    models = [
        {
            "model": MODEL_NAME,
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
    raw = llama_config()
    if raw is not None:
        kv = raw.get("num_key_value_heads", raw["num_attention_heads"])
        models.append(
            {
                "model": llama_dir().name,
                "kind": "decoder (Llama layout): RoPE, grouped-query heads, RMSNorm, SwiGLU",
                "size": f"{raw['num_hidden_layers']} layers × {raw['num_attention_heads']} "
                f"query heads ({kv} K/V heads), d_model {raw['hidden_size']}",
                "from": "trained by this project on the Python documentation",
                "status": "loads when a page asks for it",
            }
        )
    copy = get_copy_model()
    if copy is not None:
        cfg = copy.config
        models.append(
            {
                "model": copy.path.name,
                "kind": "copy model (GPT-2 layout): grows an induction head",
                "size": f"{cfg.n_layer} layers × {cfg.n_head} heads, d_model {cfg.n_embd}",
                "from": "trained by this project on copied random symbols",
                "status": "loaded",
            }
        )
    st.dataframe(models, hide_index=True, width="stretch")


def where_this_runs() -> None:
    st.subheader("Where this runs")
    info = backend_info()
    c1, c2, c3 = st.columns(3)
    c1.metric("JAX backend", info["backend"])
    c2.metric("Devices", len(info["devices"]))
    c3.metric("Model", "loaded" if get_encoder() is not None else "missing (toy mode)")
    st.caption("Devices: " + ", ".join(info["devices"]) + f" · jax {info['jax']}")
