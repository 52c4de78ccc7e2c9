"""What the Concept page shows of the causal decoder: next-token predictions, the training
log (loss and the induction heads' phase change), and the KV cache checked against a full run.

Pure numpy/JAX on a loaded `attn_jax.Decoder`; never imports streamlit or plotly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attn_jax.models.kv_cache_decode import cache_bytes, generate


def next_token_table(decoder, out, k: int = 5) -> list[dict]:
    """One row per position: the token and its k most likely next tokens with probabilities."""
    rows = []
    for t, (ids, probs) in enumerate(zip(out.top_next_ids, out.top_next_probs, strict=True)):
        preds = decoder.predictions_at(ids[:k], probs[:k])
        row = {"position": t, "token": out.tokens[t]}
        row.update({f"next {r + 1}": f"{p.token!r} {p.prob:.1%}" for r, p in enumerate(preds)})
        rows.append(row)
    return rows


def top1_probability(decoder, out, heads) -> float:
    """The mean, over positions, of the probability the model gives the original top-1 next
    token (out's, with every head) once `heads` are zeroed before W_O. Compare it with
    out.top_next_probs[:, 0].mean(): equal when the heads do not matter to the predictions."""
    if not len(out.input_ids):
        return float("nan")
    logits = np.asarray(decoder.logits_of(out.input_ids, ablate=heads), np.float64)  # [T,V]
    logits -= logits.max(axis=-1, keepdims=True)
    probs = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    top1 = out.top_next_ids[:, 0]
    return float(probs[np.arange(len(top1)), top1].mean())


@dataclass(frozen=True)
class TrainingCurves:
    """The shipped training log as arrays."""

    steps: np.ndarray  # [S] training steps with a logged loss
    loss: np.ndarray  # [S]
    val_steps: np.ndarray  # [V]
    val_loss: np.ndarray  # [V]
    probe_steps: np.ndarray  # [P] steps with an induction probe
    induction: np.ndarray  # [P,L,N] each head's induction score at that step
    wall_s: float
    short_loss: np.ndarray | None = None  # [S] loss on the short rows of repeats, if logged

    def best_induction(self) -> np.ndarray:
        """[P] the best head's induction score at each probe."""
        return self.induction.reshape(len(self.probe_steps), -1).max(axis=1)

    def phase_change(self, threshold: float = 0.5) -> int | None:
        """The first probed step at which some head's induction score reaches `threshold`."""
        hit = np.flatnonzero(self.best_induction() >= threshold)
        return int(self.probe_steps[hit[0]]) if hit.size else None


def training_curves(folder: str | Path) -> TrainingCurves | None:
    """training_log.json of a decoder folder as arrays; None when the folder has no log."""
    path = Path(folder) / "training_log.json"
    if not path.is_file():
        return None
    log = json.loads(path.read_text(encoding="utf-8"))
    train, val, ind = log.get("train", []), log.get("val", []), log.get("induction", [])
    return TrainingCurves(
        steps=np.array([r["step"] for r in train], np.int64),
        loss=np.array([r["loss"] for r in train], np.float64),
        val_steps=np.array([r["step"] for r in val], np.int64),
        val_loss=np.array([r["val_loss"] for r in val], np.float64),
        probe_steps=np.array([r["step"] for r in ind], np.int64),
        induction=np.array([r["scores"] for r in ind], np.float64).reshape(len(ind), *_ln(ind)),
        wall_s=float(log.get("wall_s", float("nan"))),
        short_loss=(
            np.array([r.get("short_loss") for r in train], np.float64)
            if train and "short_loss" in train[0]
            else None
        ),
    )


def _ln(ind: list[dict]) -> tuple[int, int]:
    return np.shape(ind[0]["scores"]) if ind else (0, 0)


@dataclass(frozen=True)
class CacheCheck:
    """Token-by-token generation with a KV cache against one full run of the same tokens."""

    prompt_tokens: int
    new_tokens: list[str]
    max_abs_diff: float  # max |cached logits - full-run logits| over the generated steps
    cache_bytes: int  # K and V of every layer for prompt + new tokens, float32
    bytes_per_token: int


def kv_cache_check(decoder, text: str, n_new: int = 8) -> CacheCheck:
    """Greedy continuation with the cache; the same positions' logits from a full run."""
    prompt, _ = decoder.tokenizer.encode(text)
    n_new = max(0, min(n_new, decoder.config.n_positions - len(prompt)))
    ids, step_logits, _ = generate(decoder, text, n_new)
    full = decoder.logits_of(ids)  # [T+n_new, V], one pass over every token
    t = len(prompt)
    diff = np.abs(full[t - 1 : t - 1 + n_new] - step_logits) if n_new else np.zeros(1)
    return CacheCheck(
        prompt_tokens=t,
        new_tokens=decoder.tokenizer.token_strings(ids[t:]),
        max_abs_diff=float(diff.max()),
        cache_bytes=cache_bytes(decoder.config, len(ids)),
        bytes_per_token=cache_bytes(decoder.config, 1),
    )
