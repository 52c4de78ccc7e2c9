"""Math: softmax(QKᵀ/√d_k)·V step by step, on the trained model's heads or on toy weights;
click any attention cell to see its arithmetic."""

import streamlit as st

from ui.app import url_state
from ui.app.page import page_setup
from ui.views import math as mv

arrived = mv.arrived_by_link()  # before page_setup reads the URL into the widgets
notices = page_setup("Math", ":material/calculate:", page="math", params=mv.params())
url_state.show_notices(notices)

st.title("The math of self-attention, step by step")
st.markdown(
    "Each token asks a question (query), every token offers a label (key) and a content "
    "(value); the answer is a weighted mix of values. Every number below is computed live by "
    "JAX, and on the real model every one of them is the model's own."
)
st.latex(r"\mathrm{Attention}(Q,K,V)=\mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right)V")

view = mv.input_picker()
mv.cell_explorer(view, arrived)
mv.why_sqrt_dk()
mv.sync_url()
