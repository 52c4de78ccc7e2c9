"""Complexity: the O(n²) cost of attention, measured, and the ways past it (sliding windows,
the KV cache's decode step, the sequence split over devices)."""

import streamlit as st

from ui.app import url_state
from ui.app.page import page_setup
from ui.views import complexity as cv

notices = page_setup("Complexity", ":material/speed:", page="complexity", params=cv.params())
url_state.show_notices(notices)

st.title("The cost of attention, measured")
st.caption(
    "The page uses whatever `jax.devices()` offers: with `jax[cuda12]` or `jax[tpu]` "
    "installed a GPU or TPU appears in the list by itself (only CPU has been tried here)."
)
cv.tabs()
url_state.sync_url()
