"""The copy task and its held-out checks: induction, previous-token and copy accuracy.

A copy row of T tokens is a start token, a random prefix, a random span of m symbols, the
same span again, then random symbols to the end:

    [BOS, p_1..p_k, s_0..s_{m-1}, s_0..s_{m-1}, r ...]     span at a = 1+k, copy at a+m

Only copying predicts the second span. The span's offset a and length m are drawn per row, so
a head that attends to a fixed position cannot pass; a head that looks back to the symbol
after the earlier occurrence of the current one (induction, Olsson et al. 2022) can:

    induction[l,h] = mean over rows and j in 0..m-2 of A[l,h, a+m+j, a+j+1]
    copy accuracy  = share of argmax predictions at a+m+j equal to s_{j+1}, j in 0..m-2

(the first copied symbol cannot be foreseen, so scoring starts at the second). The
previous-token score is mean_t A[l,h, t, t-1] on the same rows. Pure numpy, plus one jitted
forward pass in `evaluate_params`; never streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attn_jax.lessons.decoder_heads import previous_token_from_attentions

MIN_SPAN = 4
MAX_SPAN = 16
# The copy model's vocabulary: id 0 <|endoftext|> (the start token), ids 1.. these symbols,
# then <unk> for anything else typed.
SYMBOLS = tuple("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
EOS, UNK = "<|endoftext|>", "<unk>"


@dataclass(frozen=True)
class CopyRows:
    """A batch of copy rows: ids int32 [B,T]; span starts a [B] and lengths m [B]."""

    ids: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray


def max_span_for(n_ctx: int, max_span: int = MAX_SPAN) -> int:
    """The longest span a row of n_ctx tokens holds twice after its start token (<= T/2)."""
    return min(max_span, (n_ctx - 1) // 2)


def copy_rows(
    rng: np.random.Generator,
    n_rows: int,
    n_ctx: int,
    n_symbols: int,
    min_span: int = MIN_SPAN,
    max_span: int = MAX_SPAN,
    bos_id: int = 0,
    first_symbol: int = 1,
) -> CopyRows:
    """n_rows copy rows of n_ctx tokens; symbols are ids first_symbol..first_symbol+n_symbols-1.

    Span lengths m are uniform in min_span..min(max_span, (n_ctx-1)//2), the prefix length
    uniform in 0..n_ctx-1-2m (so the copy may end anywhere up to the last token).
    """
    top = max_span_for(n_ctx, max_span)
    if top < min_span:
        raise ValueError(f"a row of {n_ctx} tokens cannot hold a span of {min_span} twice")
    m = rng.integers(min_span, top + 1, size=n_rows)  # [B]
    a = 1 + rng.integers(0, n_ctx - 2 * m)  # [B]: prefix of 0..n_ctx-1-2m symbols
    ids = first_symbol + rng.integers(0, n_symbols, size=(n_rows, n_ctx))  # [B,T]
    ids[:, 0] = bos_id
    pos = np.arange(n_ctx)[None, :]  # [1,T]
    in_copy = (pos >= (a + m)[:, None]) & (pos < (a + 2 * m)[:, None])  # [B,T]
    source = np.clip(pos - m[:, None], 0, n_ctx - 1)  # [B,T]: the span symbol it repeats
    ids = np.where(in_copy, np.take_along_axis(ids, source, axis=1), ids)
    return CopyRows(ids.astype(np.int32), a.astype(np.int32), m.astype(np.int32))


def _scored(rows: CopyRows, shift: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, query, key) index triples: query a+m+j, key a+j+1+shift, for j in 0..m-2."""
    b, q, k = [], [], []
    for i, (a, m) in enumerate(zip(rows.starts.tolist(), rows.lengths.tolist(), strict=True)):
        j = np.arange(m - 1)
        b.append(np.full(m - 1, i))
        q.append(a + m + j)
        k.append(np.clip(a + j + 1 + shift, 0, a + m + j))  # a key the query can see
    return np.concatenate(b), np.concatenate(q), np.concatenate(k)


def induction_on_rows(attentions: np.ndarray, rows: CopyRows, shift: int = 0) -> np.ndarray:
    """Induction score [L,N] from maps [L,B,N,T,T] of the rows (see the module docstring).

    Each row weighs equally: its scored positions are averaged first. shift moves the key
    (a+j+1+shift): a head may copy from one place later, reading a previous-token head's
    output there, and then scores near 0 at shift 0 but high at shift 1.
    """
    att = np.asarray(attentions, np.float32)
    b, q, k = _scored(rows, shift)
    picked = att[:, b, :, q, k]  # [P,L,N]: advanced indices first
    per_row = np.zeros((att.shape[1], *picked.shape[1:]), np.float64)  # [B,L,N]
    np.add.at(per_row, b, picked)
    per_row /= (rows.lengths - 1)[:, None, None]
    return per_row.mean(axis=0).astype(np.float32)


def previous_token_on_rows(attentions: np.ndarray) -> np.ndarray:
    """Previous-token score [L,N] from maps [L,B,N,T,T]: mean weight from t to t-1."""
    return previous_token_from_attentions(attentions)


def copy_accuracy(logits: np.ndarray, rows: CopyRows) -> float:
    """Top-1 accuracy on the copied symbols from the second on, logits [B,T,V] (pooled)."""
    b, q, _ = _scored(rows)
    predicted = np.asarray(logits)[b, q].argmax(axis=-1)  # [P]
    return float(np.mean(predicted == rows.ids[b, q + 1]))


@dataclass(frozen=True)
class CopyReport:
    """Held-out figures of a model on copy rows."""

    induction: np.ndarray  # float32 [L,N]
    induction_next: np.ndarray  # float32 [L,N]: the same, keys one later (shift 1)
    previous_token: np.ndarray  # float32 [L,N]
    copy_accuracy: float
    n_rows: int
    n_ctx: int

    def best_induction(self) -> tuple[int, int, float]:
        """(layer, head, score) of the best induction head."""
        layer, head = np.unravel_index(int(np.argmax(self.induction)), self.induction.shape)
        return int(layer), int(head), float(self.induction[layer, head])

    def best_previous_token(self) -> tuple[int, int, float]:
        """(layer, head, score) of the best previous-token head."""
        s = self.previous_token
        layer, head = np.unravel_index(int(np.argmax(s)), s.shape)
        return int(layer), int(head), float(s[layer, head])


def report_on_rows(logits: np.ndarray, attentions: np.ndarray, rows: CopyRows) -> CopyReport:
    """CopyReport from logits [B,T,V] and maps [L,B,N,T,T] of the rows."""
    return CopyReport(
        induction=induction_on_rows(attentions, rows),
        induction_next=induction_on_rows(attentions, rows, shift=1),
        previous_token=previous_token_on_rows(attentions),
        copy_accuracy=copy_accuracy(logits, rows),
        n_rows=int(rows.ids.shape[0]),
        n_ctx=int(rows.ids.shape[1]),
    )


def evaluate_params(
    params, cfg, n_symbols: int, n_rows: int = 256, seed: int = 2024, batch: int = 128
) -> CopyReport:
    """A GPT-2-layout model (params, DecoderConfig) on n_rows fresh copy rows of its context.

    Symbols are ids 1..n_symbols and the start token id 0, as in the shipped copy model.
    """
    import jax

    from attn_jax.models.decoder import forward

    rows = copy_rows(np.random.default_rng(seed), n_rows, cfg.n_positions, n_symbols)
    run = jax.jit(lambda p, ids: forward(p, ids, cfg)[:2])
    outs = [run(params, rows.ids[i : i + batch]) for i in range(0, n_rows, batch)]
    logits = np.concatenate([np.asarray(o[0]) for o in outs])  # [B,T,V]
    atts = np.concatenate([np.asarray(o[1]) for o in outs], axis=1)  # [L,B,N,T,T]
    return report_on_rows(logits, atts, rows)


def evaluate_decoder(decoder, n_rows: int = 256, seed: int = 2024) -> CopyReport:
    """A loaded copy model (attn_jax.load_decoder) on n_rows fresh copy rows of its context.

    Its symbols are the ids 1..n whose tokens are one character (the vocabulary above).
    """
    tokens = decoder.tokenizer.token_strings(range(1, decoder.config.vocab_size))
    n_symbols = next((i for i, t in enumerate(tokens) if len(t) != 1), len(tokens))
    return evaluate_params(decoder.params, decoder.config, n_symbols, n_rows, seed)
