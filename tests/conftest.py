"""Fixtures every test folder shares: the real models, loaded once per test session (their
compiled length buckets are reused by every module), and skipped with a reason when a model
is not installed. Array helpers are in tests/helpers.py, the page runner in tests/apptest.py."""

from __future__ import annotations

import pytest

import attn_jax


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
