"""The copy model on screen: its recorded training run, a fresh run in a worker process, a
typed sequence, and heads knocked out on held-out rows. numpy plus one jitted batch pass;
never streamlit.

    run = recorded_run()                        # models/induction-toy/training_log.json
    run.maps_at(step)                           # [L,N,T,T] on the probe row at that step
    typed_run(model, ids, ablate=[(1, 2)])      # predictions, what copying predicts, maps
    held_out(model, ablate=[(1, 2)])            # CopyReport on rows the model never saw
    knockout_sweep(model)                       # copy accuracy with each head knocked out

`train_task` is the worker's side of "train one now" (attn_jax.bench.worker runs it in a
short-lived process, so the server's memory does not grow).
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import jax
import numpy as np

from attn_jax.lessons.induction import EOS, UNK, copy_rows, report_on_rows
from attn_jax.models.decoder import forward

COPY_MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "induction-toy"
HELD_OUT_SEED = 4242  # the held-out rows of the page (the training log's are seed + 1)
HELD_OUT_ROWS = 128
# XLA's CPU fusion emitters off: the train step compiles in about 200 MB less memory (peak of a
# QUICK run about 350 MB instead of 560 MB; of the full run 440-480 MB instead of 676 MB) and
# runs no slower, with the same figures to 3 decimals (measured here, JAX 0.10.2).
LEAN_XLA_FLAGS = "--xla_cpu_use_fusion_emitters=false"
# "train one now": the worker's environment (XLA_FLAGS is read when its backend starts; two
# malloc arenas keep another ~45 MB of a training process's heap from piling up)
TRAIN_ENV = {"XLA_FLAGS": LEAN_XLA_FLAGS, "MALLOC_ARENA_MAX": "2"}
# "train one now": the visitor's choices are checked here, in the worker too
SEED_RANGE = (0, 2**31 - 1)
LR_RANGE = (1e-4, 3e-2)


# --- the recorded run ---------------------------------------------------------------------
def dense_maps(weights: list) -> np.ndarray:
    """The log's ragged maps ([l][n][t] holds the weights to keys 0..t) -> float32 [L,N,T,T]."""
    n_layer, n_head, t = len(weights), len(weights[0]), len(weights[0][0])
    out = np.zeros((n_layer, n_head, t, t), np.float32)
    for la, layer in enumerate(weights):
        for he, head in enumerate(layer):
            for q, row in enumerate(head):
                out[la, he, q, : len(row)] = row
    return out


def _scores(heads: list[dict], name: str) -> np.ndarray:
    return np.asarray([h.get(name) or np.nan for h in heads], np.float32)


@dataclass(frozen=True)
class RecordedRun:
    """A copy model's training run: held-out figures at every evaluation, maps on the probe.

    Attributes:
      steps [S]; loss [S] (mean over the steps since the last evaluation; NaN at step 0);
      copy_accuracy [S]; induction, induction_next, previous_token [S,L,N] (held-out rows);
      map_steps [M] and maps float16 [M,L,N,T,T] (the probe row at those steps);
      probe_ids [T], probe_start, probe_length (the probe's span); wall_s; final (the log's
      final held-out report, or {}).
    """

    steps: np.ndarray
    loss: np.ndarray
    copy_accuracy: np.ndarray
    induction: np.ndarray
    induction_next: np.ndarray
    previous_token: np.ndarray
    map_steps: np.ndarray
    maps: np.ndarray
    probe_ids: np.ndarray
    probe_start: int
    probe_length: int
    wall_s: float | None
    final: dict

    @classmethod
    def from_log(cls, record: dict) -> RecordedRun:
        """From a training log (training_log.json, or a worker's result: the same keys)."""
        heads, maps, probe = record["heads"], record["maps"], record["probe"]
        return cls(
            steps=np.asarray([h["step"] for h in heads], np.int64),
            loss=np.asarray([np.nan if h["loss"] is None else h["loss"] for h in heads], float),
            copy_accuracy=np.asarray([h["copy_accuracy"] for h in heads], np.float32),
            induction=np.asarray([h["induction"] for h in heads], np.float32),
            induction_next=np.asarray([h["induction_next"] for h in heads], np.float32),
            previous_token=np.asarray([h["previous_token"] for h in heads], np.float32),
            map_steps=np.asarray([m["step"] for m in maps], np.int64),
            maps=np.stack([dense_maps(m["weights"]) for m in maps]).astype(np.float16),
            probe_ids=np.asarray(probe["ids"], np.int32),
            probe_start=int(probe["start"]),
            probe_length=int(probe["length"]),
            wall_s=record.get("wall_s"),
            final=record.get("final") or {},
        )

    @property
    def shape(self) -> tuple[int, int]:
        """(layers, heads)."""
        return self.induction.shape[1], self.induction.shape[2]

    def index_of(self, step: int) -> int:
        """The evaluation at or just before `step`."""
        return max(0, int(np.searchsorted(self.steps, step, side="right")) - 1)

    def maps_at(self, step: int) -> np.ndarray:
        """float32 [L,N,T,T]: the probe's maps at the snapshot at or just before `step`."""
        i = max(0, int(np.searchsorted(self.map_steps, step, side="right")) - 1)
        return self.maps[i].astype(np.float32)

    def heads(self) -> tuple[tuple[int, int], tuple[int, int], int]:
        """(previous-token head, copying head, its key shift) at the end of the run.

        The previous-token head is the best in any layer but the last; the copying head the
        best of the later layers at the textbook key (shift 0, a+j+1) or one place later
        (shift 1, a+j+2), whichever scores higher (a model may copy either way)."""
        prev = self.previous_token[-1].copy()
        prev[-1] = -1.0  # the head a copying head reads from sits in an earlier layer
        p = np.unravel_index(int(np.argmax(prev)), prev.shape)
        ind, nxt = self.induction[-1].copy(), self.induction_next[-1].copy()
        ind[0], nxt[0] = -1.0, -1.0  # copying needs a head before it: layers 1..
        shift = int(nxt.max() > ind.max())
        c = np.unravel_index(int(np.argmax(nxt if shift else ind)), ind.shape)
        return (int(p[0]), int(p[1])), (int(c[0]), int(c[1])), shift

    def cliff(self, threshold: float = 0.5) -> int | None:
        """The first step at which the held-out copy accuracy reaches `threshold`, or None."""
        hit = np.flatnonzero(self.copy_accuracy >= threshold)
        return int(self.steps[hit[0]]) if len(hit) else None


@functools.lru_cache(maxsize=4)
def _read_log(path: str, mtime: float) -> RecordedRun | None:
    return RecordedRun.from_log(json.loads(Path(path).read_text(encoding="utf-8")))


def recorded_run(folder: str | Path = COPY_MODEL_DIR) -> RecordedRun | None:
    """The shipped (or any) copy model's RecordedRun; None when its log is missing."""
    path = Path(folder) / "training_log.json"
    if not path.is_file():
        return None
    return _read_log(str(path), path.stat().st_mtime)


# --- train one now (the worker's side) ----------------------------------------------------
def check_choices(seed, learning_rate) -> tuple[int, float]:
    """A visitor's seed and learning rate, checked (ValueError outside SEED_RANGE, LR_RANGE)."""
    seed, learning_rate = int(seed), float(learning_rate)
    if not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
        raise ValueError(f"the seed must be in {SEED_RANGE[0]}..{SEED_RANGE[1]}")
    if not LR_RANGE[0] <= learning_rate <= LR_RANGE[1]:
        raise ValueError(f"the learning rate must be in {LR_RANGE[0]:g}..{LR_RANGE[1]:g}")
    return seed, learning_rate


def quick_config(seed: int, learning_rate: float):
    """The on-screen run's TrainConfig: induction_training.QUICK with the visitor's choices."""
    from attn_jax.lessons import induction_training as it  # needs optax: the worker only

    seed, learning_rate = check_choices(seed, learning_rate)
    return replace(it.QUICK, seed=seed, learning_rate=learning_rate)


def train_task(seed: int, learning_rate: float, progress) -> dict:
    """Train a fresh copy model (QUICK); returns its log (RecordedRun.from_log reads it).

    progress(fraction, text, data) after each evaluation; data = {"entry": the log's newest
    "heads" entry, "maps": its probe snapshot or None, "probe": the probe row}."""
    from attn_jax.lessons import induction_training as it

    tc = quick_config(seed, learning_rate)
    probe = it.probe_record(it.probe_row(tc))

    def on_eval(entry: dict, snapshot: dict | None) -> None:
        text = f"step {entry['step']:,} of {tc.steps:,}"
        data = {"entry": entry, "maps": snapshot, "probe": probe}
        progress(entry["step"] / tc.steps, text, data)

    params, log = it.train(tc, say=lambda _: None, on_eval=on_eval)
    final = it.final_report(params, tc, n_rows=256, seed=HELD_OUT_SEED)
    return {**log, "final": final, "train_config": asdict(tc)}


# --- a typed sequence ---------------------------------------------------------------------
@dataclass(frozen=True)
class TypedRun:
    """The copy model on one typed sequence (the start token first).

    Attributes:
      tokens [T]; ids [T]; top1 [T] (the predicted next id) and top1_prob [T];
      expected [T]: what copying predicts after position t (the id that followed the latest
        earlier occurrence of ids[t]), -1 where ids[t] has not occurred before;
      scored [T] bool: positions whose actual next symbol is the copy (expected == ids[t+1]);
      attentions [L,N,T,T].
    """

    tokens: list[str]
    ids: np.ndarray
    top1: np.ndarray
    top1_prob: np.ndarray
    expected: np.ndarray
    scored: np.ndarray
    attentions: np.ndarray

    @property
    def copy_accuracy(self) -> float | None:
        """Share of scored positions predicted right; None with no copy in the sequence."""
        if not self.scored.any():
            return None
        return float(np.mean(self.top1[self.scored] == self.expected[self.scored]))

    def sources(self) -> np.ndarray:
        """[T] for each position, the key an induction head should look at (the position after
        the latest earlier occurrence of its symbol), -1 where there is none."""
        out = np.full(len(self.ids), -1, np.int64)
        last: dict[int, int] = {}
        for t, i in enumerate(self.ids.tolist()):
            if i in last and t > 0:
                out[t] = last[i] + 1
            if t > 0:
                last[i] = t
        return out


def symbol_ids(model, text: str) -> tuple[list[int], list[str], bool]:
    """(ids with the start token first, the unknown symbols typed, whether the text was cut
    to the model's context). Symbols are separated by spaces; a run like "K7q" is split."""
    tok = model.tokenizer
    ids, _ = tok.encode(text)
    vocab = tok.token_strings(range(model.config.vocab_size))
    unk = vocab.index(UNK) if UNK in vocab else -1
    bos = vocab.index(EOS) if EOS in vocab else 0
    ids = [i for i in ids if i != bos]
    unknown = sorted({s for s in text.split() if len(s) == 1 and tok.encode(s)[0] == [unk]})
    room = model.config.n_positions - 1
    return [bos, *ids[:room]], unknown, len(ids) > room


def typed_run(model, ids, ablate=()) -> TypedRun:
    """The copy model on `ids` (start token first), with `ablate` heads knocked out."""
    ids = np.asarray(ids, np.int32)
    logits = model.logits_of(ids, ablate=list(ablate))  # [T,V]
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    run = TypedRun(
        tokens=model.tokenizer.token_strings(ids),
        ids=ids,
        top1=probs.argmax(-1),
        top1_prob=probs.max(-1),
        expected=np.full(len(ids), -1, np.int64),
        scored=np.zeros(len(ids), bool),
        attentions=model.attentions_of(ids, ablate=list(ablate)),
    )
    src = run.sources()
    expected = np.where(src >= 0, ids[np.clip(src, 0, len(ids) - 1)], -1)
    following = np.append(ids[1:], -2)
    scored = (expected >= 0) & (expected == following)
    return replace(run, expected=expected, scored=scored)


# --- held-out rows, with heads knocked out ------------------------------------------------
@functools.partial(jax.jit, static_argnames="cfg")
def _batch(params, ids, head_mask, cfg):
    return forward(params, ids, cfg, head_mask)[:2]  # logits [B,T,V], maps [L,B,N,T,T]


def held_out(model, ablate=(), n_rows: int = HELD_OUT_ROWS, seed: int = HELD_OUT_SEED):
    """CopyReport of the copy model on n_rows copy rows of its full context it never trained
    on (random spans of 4..16 at random offsets), with `ablate` heads knocked out."""
    cfg = model.config
    tokens = model.tokenizer.token_strings(range(1, cfg.vocab_size))
    n_symbols = next((i for i, t in enumerate(tokens) if len(t) != 1), len(tokens))
    rows = copy_rows(np.random.default_rng(seed), n_rows, cfg.n_positions, n_symbols)
    logits, atts = _batch(model.params, rows.ids, model.head_mask(list(ablate)), cfg)
    return report_on_rows(np.asarray(logits), np.asarray(atts), rows)


def knockout_sweep(model, n_rows: int = HELD_OUT_ROWS) -> tuple[float, np.ndarray]:
    """(copy accuracy with every head, [L,N] copy accuracy with that one head knocked out)."""
    cfg = model.config
    full = held_out(model, (), n_rows).copy_accuracy
    each = np.zeros((cfg.n_layer, cfg.n_head), np.float32)
    for la in range(cfg.n_layer):
        for he in range(cfg.n_head):
            each[la, he] = held_out(model, [(la, he)], n_rows).copy_accuracy
    return full, each


def chance(model) -> float:
    """Top-1 accuracy of a uniform guess among the model's symbols."""
    tokens = model.tokenizer.token_strings(range(1, model.config.vocab_size))
    return 1.0 / max(1, sum(len(t) == 1 for t in tokens))
