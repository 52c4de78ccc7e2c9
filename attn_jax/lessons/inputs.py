"""Inputs for the step-by-step attention page: token vectors X and projections W_Q, W_K, W_V."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np

MAX_TOKENS = 16  # the default sentence has 16 word pieces; more no longer fit the figures
TOY_TOKENS = ("I", "like", "green", "tea")
_TOY_X_SEED = 2024  # the toy token vectors stay fixed; the seed control only redraws W


@dataclass(frozen=True)
class TokenVectors:
    """Token vectors for the page (T tokens, D model dim)."""

    tokens: list[str]  # [T]
    x: np.ndarray  # [T,D] float32
    from_model: bool  # True: the model's embedding layer; False: seeded random vectors
    n_total: int  # tokens before cutting to MAX_TOKENS


def toy_inputs(n_tokens: int = 4, d_model: int = 4) -> TokenVectors:
    """A tiny example small enough to check by hand: integer vectors with entries in {-1, 0, 1}.

    Args:
      n_tokens: T, 1..4. d_model: D >= 1.

    Returns:
      TokenVectors with x [T,D] of small integers (as float32).
    """
    if not (1 <= n_tokens <= len(TOY_TOKENS)) or d_model < 1:
        raise ValueError(f"need 1 <= n_tokens <= {len(TOY_TOKENS)} and d_model >= 1")
    rng = np.random.default_rng(_TOY_X_SEED)
    x = rng.integers(-1, 2, size=(len(TOY_TOKENS), d_model))[:n_tokens]  # [T,D]
    return TokenVectors(list(TOY_TOKENS[:n_tokens]), x.astype(np.float32), False, n_tokens)


def projections(d_model: int, d_k: int, seed: int, *, integer: bool = False):
    """W_Q, W_K, W_V, each [D,H], drawn from a seeded numpy Generator.

    Args:
      d_model: D. d_k: H. seed: Generator seed.
      integer: entries in {-1, 0, 1} (for the hand-checkable toy); otherwise N(0, 1)/√D, so
        that Q, K, V keep about the variance of X.

    Returns:
      (w_q, w_k, w_v), float32 [D,H] each.
    """
    rng = np.random.default_rng(seed)
    if integer:
        ws = rng.integers(-1, 2, size=(3, d_model, d_k)).astype(np.float64)
    else:
        ws = rng.standard_normal((3, d_model, d_k)) / np.sqrt(d_model)
    return tuple(w.astype(np.float32) for w in ws)


def simple_tokens(text: str) -> list[str]:
    """A rough stand-in for the model's tokenizer: lower-cased words and punctuation."""
    return ["[CLS]", *re.findall(r"\w+|[^\w\s]", text.lower()), "[SEP]"]


def random_token_vectors(tokens: list[str], d_model: int = 384) -> np.ndarray:
    """One N(0, 1) vector per token, seeded by the token's text: the same word, the same vector.

    Returns:
      x [T,D] float32.
    """
    rows = [
        np.random.default_rng(zlib.crc32(tok.encode("utf-8"))).standard_normal(d_model)
        for tok in tokens
    ]
    return np.asarray(rows, np.float32).reshape(len(tokens), d_model)  # [T,D]


def sentence_vectors(text: str, encoder=None, max_tokens: int = MAX_TOKENS) -> TokenVectors:
    """Token vectors of `text`: the encoder's embedding layer, or seeded random vectors.

    Args:
      text: the sentence. encoder: an object with `embed(text) -> (tokens, x [T,D])`, or None.
      max_tokens: keep at most this many tokens (the first ones, [CLS] included).

    Returns:
      TokenVectors, cut to `max_tokens` rows.
    """
    if encoder is not None:
        tokens, x = encoder.embed(text)
        tokens, x = list(tokens), np.asarray(x, np.float32)  # [T,D]
    else:
        tokens = simple_tokens(text)
        x = random_token_vectors(tokens)
    return TokenVectors(tokens[:max_tokens], x[:max_tokens], encoder is not None, len(tokens))
