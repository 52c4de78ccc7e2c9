"""The copy model's training data and log format: the tokenizer, training rows (copy rows at
random offsets, dense rows of copy after copy), the fixed probe row, and the rounding and
ragged maps training_log.json keeps. numpy and tokenizers; no optax, never streamlit.

Functions that take `tc` read a TrainConfig (attn_jax.lessons.induction_training).
"""

from __future__ import annotations

import numpy as np

from attn_jax.lessons.induction import EOS, SYMBOLS, UNK, CopyRows, copy_rows


# --- tokenizer ----------------------------------------------------------------------------
def copy_tokenizer(n_symbols: int):
    """Word level: <|endoftext|> = 0, one id per symbol, <unk> last; "K 7 q R" -> 4 ids.

    Whitespace separates symbols, and a run like "K7q" is split into its characters too."""
    from tokenizers import AddedToken, Regex, Tokenizer, models, pre_tokenizers

    symbols = SYMBOLS[:n_symbols]
    vocab = {EOS: 0, **{s: i + 1 for i, s in enumerate(symbols)}, UNK: n_symbols + 1}
    tok = Tokenizer(models.WordLevel(vocab, unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex("."), "isolated")]
    )
    tok.add_special_tokens([AddedToken(EOS, special=True)])
    return tok


# --- training rows ------------------------------------------------------------------------
def copied_targets(rows: CopyRows, n_tokens: int) -> np.ndarray:
    """[B,n_tokens] 1.0 where input position q predicts a copied symbol from the second on."""
    q = np.arange(n_tokens)[None, :]
    a, m = rows.starts[:, None], rows.lengths[:, None]
    return ((q >= a + m) & (q <= a + 2 * m - 2)).astype(np.float32)


def dense_row(rng: np.random.Generator, n_tokens: int, n_symbols: int, min_span: int = 4):
    """(ids [n_tokens], copied [n_tokens-1]): BOS, then (0..3 random symbols, a span of 4..16,
    its copy) again and again, cut at n_tokens; copied marks the predictable targets."""
    ids, copied = [0], []
    while len(ids) < n_tokens:
        prefix = rng.integers(1, n_symbols + 1, size=int(rng.integers(0, 4)))
        span = rng.integers(1, n_symbols + 1, size=int(rng.integers(min_span, 17)))
        ids += [*prefix, *span, *span]
        copied += [0.0] * (len(prefix) + len(span) + 1) + [1.0] * (len(span) - 1)
    return np.asarray(ids[:n_tokens], np.int32), np.asarray(copied[: n_tokens - 1])


def sample_batch(rng: np.random.Generator, tc, step: int):
    """(x, y, weight) [B,T] and the position offset: rows of T+1 copy tokens cut into inputs
    and next-token targets, a dense_fraction of them dense rows."""
    t = tc.row_tokens(step)
    rows = copy_rows(rng, tc.batch_size, t + 1, tc.n_symbols, tc.train_min_span)
    ids, weight = rows.ids, copied_targets(rows, t)
    for b in np.flatnonzero(rng.random(tc.batch_size) < tc.dense_fraction):
        ids[b], weight[b] = dense_row(rng, t + 1, tc.n_symbols, tc.train_min_span)
    weight = weight if tc.copy_loss_only else np.ones((tc.batch_size, t))
    offset = int(rng.integers(0, tc.n_ctx - t + 1)) if tc.random_offsets else 0
    return ids[:, :-1], ids[:, 1:], weight.astype(np.float32), offset


# --- the log ------------------------------------------------------------------------------
def r3(a) -> list:
    """Floats rounded to 3 decimals, as nested lists (keeps training_log.json small)."""
    return np.round(np.asarray(a, np.float64), 3).tolist()


def probe_row(tc) -> CopyRows:
    """The fixed probe: one row of probe_len tokens (at most n_ctx) with a span of probe_span."""
    rng = np.random.default_rng(tc.seed + 2)
    n = min(tc.probe_len, tc.n_ctx)
    return copy_rows(rng, 1, n, tc.n_symbols, tc.probe_span, tc.probe_span)


def probe_record(probe: CopyRows) -> dict:
    """The probe row as the log keeps it: its ids, span start and span length."""
    ids = probe.ids[0].tolist()
    return {"ids": ids, "start": int(probe.starts[0]), "length": int(probe.lengths[0])}


def map_steps(tc) -> set[int]:
    """n_maps evaluation steps spread evenly from 0 to the last step."""
    grid = np.linspace(0, tc.steps, tc.n_maps) / tc.eval_every
    return {round(g) * tc.eval_every for g in grid} | {tc.steps}


def lower_triangle(weights: np.ndarray) -> list:
    """[L,N,T,T] causal maps -> ragged lists: [l][n][t] holds the weights to keys 0..t."""
    return [
        [[r3(head[t, : t + 1]) for t in range(head.shape[0])] for head in layer]
        for layer in weights
    ]
