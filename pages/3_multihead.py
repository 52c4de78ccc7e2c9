"""Multi-head: heads side by side, all of the model's heads at a glance, three views of a map
(raw, value-weighted, rollout), head statistics, grouped-query attention on the real model."""

import streamlit as st

from ui.app import url_state
from ui.app.models import INSTALL_HINT, get_encoder
from ui.app.page import page_setup
from ui.views import gqa
from ui.views import multihead as mh

notices = page_setup("Multi-head", ":material/grid_view:", page="multihead", params=mh.PARAMS)

st.title("Multi-head attention")
st.markdown(
    "One attention head computes one weighting of the tokens. A transformer runs **N heads in "
    "parallel**, each on its own slice of the model dimension (d_k = d_model / N), then "
    "concatenates their outputs and mixes them with W_O. Different heads learn to look for "
    "different things."
)
url_state.show_notices(notices)
encoder = get_encoder()
if encoder is None:
    st.info(f"**Toy mode**: the pretrained model is not available. {INSTALL_HINT}")

mh.toy_section()
text = mh.all_heads()
mh.real_models_table()
gqa.gqa_section(encoder is not None and bool(text), text)
gqa.kv_cache_section()
url_state.sync_url()
