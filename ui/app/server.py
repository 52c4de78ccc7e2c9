"""What the server process does once, before any model loads: malloc tuned for many threads,
no transparent huge pages, the page cache of freshly installed libraries dropped, and one
thread that gives freed memory back to the OS every few seconds.

`prepare_process()` is idempotent (a cached resource): page set-up and the model loaders
call it first, whichever runs first in a new server.
"""

from __future__ import annotations

import threading
import time

import jax
import streamlit as st

from attn_jax.memory import (
    disable_huge_pages,
    drop_cached_libraries,
    rss_mb,
    trim_heap,
    tune_malloc,
)

# Past this resident size the trimmer also drops JAX's caches of traced and compiled
# functions: the lessons compile per sentence length, and those caches never shrink on their
# own. The models keep their compiled length buckets (held by the models, not by JAX).
# At most once a minute, so that a busy server does not spend its time compiling again.
DROP_JIT_CACHES_MB = 500.0
DROP_EVERY_S = 60.0
TRIM_EVERY_S = 5.0
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


@st.cache_resource(show_spinner=False)
def prepare_process() -> threading.Thread:
    """Once per server: tune malloc, turn huge pages off, drop the libraries' page cache, and
    start the heap trimmer (relieve_memory every TRIM_EVERY_S). Returns the trimmer thread."""
    tune_malloc()  # before the models and the first compiles allocate
    disable_huge_pages()
    drop_cached_libraries()

    def loop():
        while True:
            time.sleep(TRIM_EVERY_S)
            relieve_memory()

    thread = threading.Thread(target=loop, name="heap-trimmer", daemon=True)
    thread.start()
    return thread
