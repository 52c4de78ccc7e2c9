"""Fixtures every test folder shares: the real models, loaded once per test session (their
compiled length buckets are reused by every module), and skipped with a reason when a model
is not installed. Array helpers are in tests/helpers.py, the page runner in tests/apptest.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# One persistent XLA compilation cache for every process of a test run (the pytest workers
# and the app servers they start): a model's length buckets, compiled by one process, load in
# milliseconds in the next. Set before JAX is imported; a server whose memory is measured
# turns it off (harness.NO_COMPILE_CACHE), since a server in production compiles.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(Path(__file__).parents[1] / ".jax_cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

import attn_jax  # after the cache settings


@pytest.fixture(scope="session")
def encoder() -> attn_jax.Encoder:
    """all-MiniLM-L6-v2 (skips the test when its files are not installed)."""
    try:
        return attn_jax.load_model()
    except attn_jax.ModelNotFoundError:
        pytest.skip("all-MiniLM-L6-v2 is not installed")


@pytest.fixture(scope="session")
def decoder() -> attn_jax.Decoder:
    """The shipped GPT-2-layout decoder (skips the test when its checkpoint is missing)."""
    try:
        return attn_jax.load_decoder()
    except attn_jax.ModelNotFoundError:
        pytest.skip("the decoder's checkpoint is missing")


# The longest tests first, so that no worker of `pytest -n` is left running one of them at the
# end while the others are idle (the load test alone takes minutes).
SLOWEST_FIRST = ("tests/browser/test_load.py", "tests/browser/")


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        path = item.nodeid
        return next((i for i, p in enumerate(SLOWEST_FIRST) if path.startswith(p)), 99)

    items.sort(key=rank)  # stable: the order inside each group is kept
