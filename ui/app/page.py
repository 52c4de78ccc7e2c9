"""Page set-up and navigation: every page calls `page_setup` first (page config, the view
from the URL, the shared sidebar). The sidebar links carry the sentence from page to page.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import jax
import streamlit as st

from ui.app import models, url_state
from ui.app.models import INSTALL_HINT, MODEL_NAME
from ui.app.server import prepare_process
from ui.app.text import md_escape
from ui.app.work_queue import TURNS, WAIT_LIMIT_S

COURSE = "Self-Attention · 8/30"
# (file, label, Material icon, one line) in course order; the sidebar draws these links.
HOME = ("app.py", "Home", ":material/home:", "The course page: what self-attention is for.")
CONCEPT_PAGE = "pages/1_concept.py"
MATH_PAGE = "pages/2_math.py"
MULTIHEAD_PAGE = "pages/3_multihead.py"
COMPLEXITY_PAGE = "pages/4_complexity.py"
PAGES = [
    (CONCEPT_PAGE, "Concept", ":material/lightbulb:",
     "What self-attention is, and “it” → “animal” live."),
    (MATH_PAGE, "Math", ":material/calculate:",
     "Q, K, V, QKᵀ/√d_k, softmax and output, with real numbers."),
    (MULTIHEAD_PAGE, "Multi-head", ":material/grid_view:", "Heads in parallel, all 72 heads, GQA."),
    (COMPLEXITY_PAGE, "Complexity", ":material/speed:", "O(n²) measured on your own device."),
]  # fmt: skip
# URL keys that travel with a link from one page to another (Streamlit drops the query
# string on a page switch), and the pages that read them.
CARRIED_KEYS = ("text",)
TAKES_TEXT = {CONCEPT_PAGE, MATH_PAGE, MULTIHEAD_PAGE}
# The pages whose runs take a turn in the server-wide queue: those that run the models on a
# visitor's text. Home and Complexity draw little (Complexity measures in worker processes).
QUEUED = ("concept", "math", "multihead")
FAVICON = str(Path(__file__).parents[1] / "assets" / "favicon.png")


def backend_info() -> dict:
    """JAX backend and devices as plain values."""
    devices = jax.devices()
    return {
        "backend": jax.default_backend(),
        "devices": [f"{d.platform}:{d.id} ({d.device_kind})" for d in devices],
        "jax": jax.__version__,
    }


def carried_params() -> dict[str, str]:
    """The view's values that links to other pages carry along (the sentence), when set."""
    specs = {p.key: p for p in url_state.specs()}
    carried = {}
    for key in CARRIED_KEYS:
        if key in specs and (text := url_state.value(specs[key])) and text != specs[key].default:
            carried[key] = str(text)
    return carried


def navigation() -> None:
    """Home, then the pages in course order, as links that carry the sentence along."""
    carried = carried_params()
    st.page_link(HOME[0], label=HOME[1], icon=HOME[2])
    for path, label, icon, _ in PAGES:
        carry = carried if path in TAKES_TEXT else {}
        st.page_link(path, label=label, icon=icon, query_params=carry or None)


def models_status() -> None:
    """One line per model: loaded (and from where), or how to get it."""
    encoder, error = models.load_encoder()
    if encoder is not None:
        st.success(
            f"Encoder: {MODEL_NAME} ({encoder.source_label})", icon=":material/check_circle:"
        )
    else:
        st.warning(f"Model {MODEL_NAME} not found. {INSTALL_HINT}", icon=":material/warning:")
        if error:
            st.text(error)
    decoder, why = models.load_decoder()
    if decoder is not None:
        st.success(f"Decoder: {decoder.path.name} (trained here)", icon=":material/check_circle:")
    elif why and "TooLarge" in why:
        st.caption(f"Decoder: not loaded. {md_escape(why, 300)}")
    else:
        st.caption("Decoder: not found (models/ holds the shipped checkpoint).")
    if models.has_llama():  # its config only: the model loads when a page first asks for it
        st.success(
            f"Llama-layout decoder: {md_escape(models.llama_dir().name)} (loads when chosen)",
            icon=":material/check_circle:",
        )


def sidebar() -> None:
    """Navigation, course position, JAX backend and devices, model status."""
    with st.sidebar:
        navigation()
        st.divider()
        st.caption(COURSE)
        info = backend_info()
        st.markdown(f"**JAX backend:** `{info['backend']}` · jax {info['jax']}")
        st.caption("Devices: " + ", ".join(info["devices"]))
        models_status()


def page_setup(title: str, icon: str, page: str = "home", params: Sequence = ()) -> list[str]:
    """set_page_config, the view from the URL, the shared sidebar; every page calls this first.

    `icon` is the page's Material icon (":material/…:", as in the sidebar); `params`
    are the page's URL keys (ui.app.url_params). Returns the notices about bad URL values."""
    # the tab icon is a file of ours: a Material icon there would be fetched from a font CDN
    st.set_page_config(page_title=f"{title} · {COURSE}", page_icon=FAVICON, layout="wide")
    prepare_process()
    notices = url_state.view_from_url(page, params)
    sidebar()
    if page in QUEUED:
        wait_for_turn()
    return notices


def wait_for_turn() -> None:
    """Take this run's turn in the server-wide queue (ui.app.work_queue): a visitor waiting
    sees their place; past WAIT_LIMIT_S they are asked to retry, and the page stops there."""
    note = st.empty()

    def show(place: int) -> None:
        note.info(
            f"The server is busy with other visitors: you are number {place} in the queue. "
            "Your page starts in a moment, and what you typed is kept.",
            icon=":material/hourglass_top:",
        )

    if TURNS.acquire(show, timeout_s=WAIT_LIMIT_S):
        note.empty()
        return
    note.warning(
        "The server is too busy right now to start your page. Retry in a moment: what you "
        "typed is kept.",
        icon=":material/hourglass_top:",
    )
    st.button("Retry", key="queue_retry")
    st.stop()
