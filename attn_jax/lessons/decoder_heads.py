"""Head roles in a causal decoder: induction, previous-token and attention-sink scores.

Induction [Olsson et al. 2022; TransformerLens' head detector]: on random tokens r repeated
twice after a start token, [BOS, r_0..r_{n-1}, r_0..r_{n-1}], the token at position 1+n+j
(second copy) should attend to 2+j, the token after its earlier occurrence:
    induction[l,h] = mean_j A[l,h, 1+n+j, 2+j]
Previous-token: mean_t A[l,h, t, t-1]. Sink [Xiao et al. 2023]: mean_t A[l,h, t, 0] (t >= 1).
All pure numpy on attention maps [L,N,T,T] (or [L,B,N,T,T], averaged over B).
"""

from __future__ import annotations

import numpy as np


def repeated_random_tokens(
    vocab_size: int, n_random: int, n_seqs: int = 4, seed: int = 0, bos_id: int = 0
) -> np.ndarray:
    """[n_seqs, 1+2n] int32: a start token, then n random ids (never bos_id) twice."""
    if n_random < 2 or vocab_size < 3:
        raise ValueError("need n_random >= 2 and a vocabulary of at least 3 tokens")
    rng = np.random.default_rng(seed)
    r = rng.integers(0, vocab_size - 1, size=(n_seqs, n_random))  # [B,n]
    r = r + (r >= bos_id)  # every id but bos_id, equally likely
    bos = np.full((n_seqs, 1), bos_id)
    return np.concatenate([bos, r, r], axis=1).astype(np.int32)


def _mean_over_batch(attentions: np.ndarray) -> np.ndarray:
    att = np.asarray(attentions, np.float32)
    return att.mean(axis=1) if att.ndim == 5 else att  # [L,N,T,T]


def induction_from_attentions(attentions: np.ndarray, n_random: int) -> np.ndarray:
    """Induction score [L,N] from maps of [BOS, r, r] sequences (T = 1+2n)."""
    att = _mean_over_batch(attentions)
    if att.shape[-1] != 1 + 2 * n_random:
        raise ValueError(f"maps are {att.shape[-1]} long, expected 1+2·{n_random}")
    j = np.arange(n_random)
    return att[:, :, 1 + n_random + j, 2 + j].mean(axis=-1)


def previous_token_from_attentions(attentions: np.ndarray) -> np.ndarray:
    """Previous-token score [L,N]: mean weight from t to t-1 over t >= 1."""
    att = _mean_over_batch(attentions)
    t = np.arange(1, att.shape[-1])
    return att[:, :, t, t - 1].mean(axis=-1)


def sink_from_attentions(attentions: np.ndarray) -> np.ndarray:
    """Attention-sink score [L,N]: mean share of weight on the first token, over t >= 1."""
    att = _mean_over_batch(attentions)
    return att[:, :, 1:, 0].mean(axis=-1)


def _repeated_maps(decoder, n_random: int, n_seqs: int, seed: int) -> np.ndarray:
    """[L,B,N,T,T] maps of the decoder on B [BOS, r, r] sequences."""
    bos = decoder.tokenizer.eos_id or 0
    ids = repeated_random_tokens(decoder.config.vocab_size, n_random, n_seqs, seed, bos)
    return np.stack([decoder.attentions_of(row) for row in ids], axis=1)


def induction_scores(decoder, n_random: int = 50, seed: int = 0, n_seqs: int = 4) -> np.ndarray:
    """Each head's induction score [L,N] on random tokens repeated twice (see module doc).

    Args:
      decoder: a loaded Decoder (attn_jax.load_decoder()); 1+2·n_random <= its max_tokens.
      n_random: length of the random span; seed, n_seqs: which and how many sequences.
    """
    if 1 + 2 * n_random > decoder.max_tokens:
        raise ValueError(f"1+2·n_random must fit the decoder's {decoder.max_tokens} tokens")
    return induction_from_attentions(_repeated_maps(decoder, n_random, n_seqs, seed), n_random)


def previous_token_scores(
    decoder, text: str | None = None, n_random: int = 50, seed: int = 0, n_seqs: int = 4
) -> np.ndarray:
    """Previous-token score [L,N] on `text`, or on the induction sequences when None."""
    if text is not None:
        return previous_token_from_attentions(decoder.run(text).attentions)
    return previous_token_from_attentions(_repeated_maps(decoder, n_random, n_seqs, seed))


def sink_scores(decoder, text: str) -> np.ndarray:
    """Attention-sink score [L,N] on `text`: the share of attention on its first token."""
    return sink_from_attentions(decoder.run(text).attentions)


def best_head(scores: np.ndarray) -> tuple[int, int, float]:
    """(layer, head, score) of the highest score in [L,N]."""
    layer, head = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return int(layer), int(head), float(scores[layer, head])
