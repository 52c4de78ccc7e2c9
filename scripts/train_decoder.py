"""Train the shipped tiny GPT-2 (models/tiny-gpt2-pydoc/) on Python's own documentation.

In the style of nanoGPT's train.py: one script, the config at the top, a fixed seed, a loss
log. The corpus is read from this interpreter's standard library, so it is the same anywhere
the same Python runs (PSF licence): the pydoc topics (`pydoc_data.topics`, the reference
manual's sections as text) and the docstrings of the stdlib's modules, classes and functions
(tests and idlelib left out). Every 20th document is held out for validation.

A fraction of the training rows are synthetic: a random token span repeated until the row is
full, so the model meets many "… A B … A → B" repeats, and every step adds a batch of short
rows of such repeats (the time for an induction head to form grows with the context it learns
in). W_Q and W_K start wider than GPT-2's 0.02, so that the attention does not stay flat.

Writes config.json, model.safetensors, tokenizer.json (Hugging Face GPT-2 layout) and
training_log.json (losses, held-out loss, per-head induction scores every INDUCTION_EVERY
steps) to --out. Run from the repository root, e.g.
    nice -n 5 .venv/bin/python scripts/train_decoder.py --out models/tiny-gpt2-pydoc
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import platform
import sys
import sysconfig
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from attn_jax.lessons.decoder_heads import (
    induction_from_attentions,
    repeated_random_tokens,
)
from attn_jax.models.decoder import forward
from attn_jax.models.gpt2_files import (
    DecoderConfig,
    gpt2_from_params,
    write_gpt2_checkpoint,
)
from attn_jax.models.init import init_params


# --- config -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainConfig:
    seed: int = 1337
    vocab_size: int = 4096
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 128  # training context = n_positions
    batch_size: int = 16
    steps: int = 2400
    learning_rate: float = 3e-3
    min_lr: float = 3e-4
    warmup_steps: int = 100
    weight_decay: float = 0.1
    beta2: float = 0.95
    grad_clip: float = 1.0
    synthetic_fraction: float = 0.3  # rows of a random span repeated (for induction heads)
    synthetic_only_steps: int = 0  # a first phase on repeats alone (0: none)
    short_block: int = 32  # every step also trains on short rows of repeats ...
    short_batch: int = 32  # ... this many of them (0: none)
    short_only_steps: int = 0  # a first phase on the short rows alone (0: none)
    qk_init_std: float = 0.1  # initial std of W_Q and W_K (GPT-2: 0.02)
    val_every: int = 200
    induction_every: int = 100
    induction_n: int = 50  # random span length of the induction probe
    log_every: int = 10

    def model(self) -> DecoderConfig:
        return DecoderConfig(
            n_layer=self.n_layer,
            n_head=self.n_head,
            n_embd=self.n_embd,
            n_positions=self.block_size,
            vocab_size=self.vocab_size,
        )


EOS = "<|endoftext|>"
VAL_EVERY_NTH_DOC = 20


# --- corpus and tokenizer -----------------------------------------------------------------
def stdlib_docstrings() -> list[str]:
    """One document per stdlib module: its module, class and function docstrings."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    docs = []
    for path in sorted(lib.rglob("*.py")):
        rel = path.relative_to(lib).parts
        if {"test", "tests", "idlelib", "site-packages"} & set(rel):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        parts = [ast.get_docstring(n) for n in ast.walk(tree) if isinstance(n, kinds)]
        text = "\n\n".join(p for p in parts if p)
        if text:
            docs.append(text)
    return docs


def corpus_documents() -> list[str]:
    """The pydoc topics (sorted by name), then the stdlib docstrings (sorted by path)."""
    from pydoc_data.topics import topics

    return [topics[k] for k in sorted(topics)] + stdlib_docstrings()


def split_documents(docs: list[str]) -> tuple[list[str], list[str]]:
    """(train, validation): every VAL_EVERY_NTH_DOC-th document is held out."""
    val = [d for i, d in enumerate(docs) if i % VAL_EVERY_NTH_DOC == VAL_EVERY_NTH_DOC - 1]
    train = [d for i, d in enumerate(docs) if i % VAL_EVERY_NTH_DOC != VAL_EVERY_NTH_DOC - 1]
    return train, val


def train_tokenizer(texts: list[str], vocab_size: int):
    """A byte-level BPE (GPT-2's pre-tokenizer and decoder) with <|endoftext|> as id 0."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def encode_documents(tok, docs: list[str]) -> np.ndarray:
    """All documents as one int32 stream, each followed by <|endoftext|>."""
    eos = tok.token_to_id(EOS)
    ids = [i for enc in tok.encode_batch(docs, add_special_tokens=False) for i in [*enc.ids, eos]]
    return np.asarray(ids, np.int32)


# --- model, loss, optimizer ---------------------------------------------------------------
def loss_fn(params, x, y, cfg: DecoderConfig):
    """Mean next-token cross-entropy (nats) of ids x [B,T] against targets y [B,T]."""
    logits = forward(params, x, cfg)[0]  # [B,T,V]
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def summed_loss(params, x, y, real, cfg: DecoderConfig):
    """Sum over the first `real` rows of x [B,T] of each row's mean cross-entropy."""
    logits = forward(params, x, cfg)[0]  # [B,T,V]
    rows = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(axis=1)  # [B]
    return jnp.sum(jnp.where(jnp.arange(x.shape[0]) < real, rows, 0.0))


def make_optimizer(tc: TrainConfig):
    """AdamW with linear warmup and cosine decay to min_lr; weight decay on matrices only."""
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, tc.learning_rate, tc.warmup_steps, max(tc.steps, tc.warmup_steps + 1), tc.min_lr
    )
    decay_mask = lambda p: jax.tree.map(lambda a: a.ndim == 2, p)  # noqa: E731
    adamw = optax.adamw(
        schedule, b1=0.9, b2=tc.beta2, weight_decay=tc.weight_decay, mask=decay_mask
    )
    return optax.chain(optax.clip_by_global_norm(tc.grad_clip), adamw), schedule


def make_train_step(cfg: DecoderConfig, optimizer):
    """Two jitted AdamW steps: on the loss of the text batch (x, y) plus that of the short rows
    (xs, ys), and on the short rows alone (x, y unused; the text loss is NaN).

    Each returns (params, opt_state, (text loss, short-row loss))."""

    def both(params, x, y, xs, ys):
        long = loss_fn(params, x, y, cfg)
        short = loss_fn(params, xs, ys, cfg) if xs.shape[0] else jnp.zeros(())
        return long + short, (long, short)

    def short_only(params, x, y, xs, ys):
        short = loss_fn(params, xs, ys, cfg)
        return short, (jnp.full((), jnp.nan), short)

    def make(loss):
        @jax.jit
        def step(params, opt_state, x, y, xs, ys):
            (_, losses), grads = jax.value_and_grad(loss, has_aux=True)(params, x, y, xs, ys)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, losses

        return step

    return make(both), make(short_only)


# --- batches and evaluation ---------------------------------------------------------------
def synthetic_row(
    rng: np.random.Generator, tc: TrainConfig, eos: int, length: int | None = None
) -> np.ndarray:
    """[T+1] ids: <|endoftext|>, then a random span (min(8, T/4)..T/2 tokens) repeated to
    fill the row; T = length or tc.block_size."""
    t = tc.block_size if length is None else length
    m = int(rng.integers(min(8, t // 4), t // 2 + 1))
    span = rng.integers(1, tc.vocab_size, size=m)
    reps = -(-t // m)
    return np.concatenate([[eos], np.tile(span, reps)])[: t + 1].astype(np.int32)


def sample_short_batch(rng: np.random.Generator, tc: TrainConfig, eos: int = 0):
    """(xs, ys) [short_batch, short_block]: synthetic repeats only.

    The time until an induction head forms grows about with the square of the context it
    learns in (arXiv:2511.01033); short rows give every step that cheap, strong signal, while
    the text rows teach the language and the previous-token heads at every position."""
    rows = [synthetic_row(rng, tc, eos, tc.short_block) for _ in range(tc.short_batch)]
    rows = np.stack(rows) if rows else np.zeros((0, tc.short_block + 1), np.int32)
    return rows[:, :-1], rows[:, 1:]


def sample_batch(
    rng: np.random.Generator, data: np.ndarray, tc: TrainConfig, eos: int = 0, step: int = 0
):
    """(x, y) [B,T]: random windows of the stream, some rows replaced by synthetic repeats
    (every row during the first tc.synthetic_only_steps steps)."""
    starts = rng.integers(0, len(data) - tc.block_size - 1, size=tc.batch_size)
    rows = np.stack([data[s : s + tc.block_size + 1] for s in starts])  # [B,T+1]
    fraction = 1.0 if step < tc.synthetic_only_steps else tc.synthetic_fraction
    for b in np.flatnonzero(rng.random(tc.batch_size) < fraction):
        rows[b] = synthetic_row(rng, tc, eos)
    return rows[:, :-1], rows[:, 1:]


def evaluate(params, data: np.ndarray, tc: TrainConfig, eval_loss) -> float:
    """Mean loss over the stream cut into consecutive blocks (the whole stream, once).

    The last batch is padded with repeats of the first block and weighted out, so one shape
    is compiled."""
    t, b = tc.block_size, tc.batch_size
    n = (len(data) - 1) // t
    x = data[: n * t].reshape(n, t)
    y = data[1 : n * t + 1].reshape(n, t)
    total = 0.0
    for i in range(0, n, b):
        xb, yb, real = x[i : i + b], y[i : i + b], min(b, n - i)
        pad = np.zeros(b - real, np.int64)
        total += float(
            eval_loss(params, np.concatenate([xb, x[pad]]), np.concatenate([yb, y[pad]]), real)
        )
    return total / n


def induction_probe(params, cfg: DecoderConfig, tc: TrainConfig, eos: int, attentions):
    """Each head's induction score [L,N] on random tokens repeated twice (4 sequences)."""
    ids = repeated_random_tokens(cfg.vocab_size, tc.induction_n, 4, seed=0, bos_id=eos)
    return induction_from_attentions(np.asarray(attentions(params, ids)), tc.induction_n)


# --- training -----------------------------------------------------------------------------
def train(tc: TrainConfig, train_ids, val_ids, eos: int = 0, say=print, stop_after=None):
    """Train from scratch; returns (params, log) with losses and induction scores by step.

    stop_after: end at this step with the schedule unchanged (to check a run against a log).
    """
    last = tc.steps if stop_after is None else min(stop_after, tc.steps)
    cfg = tc.model()
    optimizer, schedule = make_optimizer(tc)
    params = init_params(cfg, jax.random.PRNGKey(tc.seed), tc.qk_init_std)
    opt_state = optimizer.init(params)
    step_both, step_short = make_train_step(cfg, optimizer)
    eval_loss = jax.jit(lambda p, x, y, real: summed_loss(p, x, y, real, cfg))
    attentions = jax.jit(lambda p, ids: forward(p, ids, cfg)[1].mean(axis=1))  # [L,N,T,T]
    rng = np.random.default_rng(tc.seed)
    log = {"train": [], "val": [], "induction": []}
    start, window = time.perf_counter(), []
    for step in range(tc.steps + 1):
        if step % tc.val_every == 0 or step == last:
            val = evaluate(params, val_ids, tc, eval_loss)
            log["val"].append({"step": step, "val_loss": round(val, 4)})
            say(f"step {step:5d}  val loss {val:.4f}  ({time.perf_counter() - start:.0f} s)")
        if step % tc.induction_every == 0 or step == last:
            scores = induction_probe(params, cfg, tc, eos, attentions)
            log["induction"].append({"step": step, "scores": np.round(scores, 4).tolist()})
            say(f"step {step:5d}  best induction score {scores.max():.3f}")
        if step == last:
            break
        x, y = sample_batch(rng, train_ids, tc, eos, step)
        xs, ys = sample_short_batch(rng, tc, eos)
        step_fn = step_short if step < tc.short_only_steps else step_both
        params, opt_state, losses = step_fn(params, opt_state, x, y, xs, ys)
        window.append(losses)
        if (step + 1) % tc.log_every == 0:
            text, short = np.asarray(jax.device_get(window)).T
            mean = float(np.mean(text[~np.isnan(text)])) if (~np.isnan(text)).any() else np.nan
            short = float(np.mean(short))
            lr = float(schedule(step))
            row = {"step": step + 1, "loss": None if np.isnan(mean) else round(mean, 4), "lr": lr}
            log["train"].append({**row, "short_loss": round(short, 4)} if tc.short_batch else row)
            say(f"step {step + 1:5d}  train loss {mean:.4f}  short rows {short:.4f}  lr {lr:.2e}")
            window = []
    log["wall_s"] = round(time.perf_counter() - start, 1)
    return params, log


def save(out: Path, params, tc: TrainConfig, tokenizer, log: dict, extra: dict) -> None:
    """The checkpoint in the Hugging Face GPT-2 layout, plus training_log.json."""
    weights = gpt2_from_params(jax.device_get(params))
    write_gpt2_checkpoint(out, weights, tc.model(), tokenizer.to_str(), tokenizer.token_to_id(EOS))
    record = {"train_config": asdict(tc), **extra, **log}
    (out / "training_log.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("models/tiny-gpt2-pydoc"))
    parser.add_argument("--steps", type=int, default=None, help="override TrainConfig.steps")
    parser.add_argument("--stop-after", type=int, default=None, help="end early, same schedule")
    args = parser.parse_args(argv)
    tc = TrainConfig() if args.steps is None else replace(TrainConfig(), steps=args.steps)
    t0 = time.perf_counter()
    train_docs, val_docs = split_documents(corpus_documents())
    tokenizer = train_tokenizer(train_docs, tc.vocab_size)
    eos = tokenizer.token_to_id(EOS)
    train_ids, val_ids = (
        encode_documents(tokenizer, train_docs),
        encode_documents(tokenizer, val_docs),
    )
    print(
        f"corpus: {len(train_docs)} + {len(val_docs)} documents, "
        f"{len(train_ids)} + {len(val_ids)} tokens ({time.perf_counter() - t0:.0f} s)"
    )
    params, log = train(tc, train_ids, val_ids, eos, stop_after=args.stop_after)
    final_val = log["val"][-1]["val_loss"]
    extra = {
        "python": platform.python_version(),
        "jax": jax.__version__,
        "corpus": {
            "train_documents": len(train_docs),
            "val_documents": len(val_docs),
            "train_tokens": len(train_ids),
            "val_tokens": len(val_ids),
        },
        "final": {"val_loss": final_val, "val_perplexity": round(math.exp(final_val), 2)},
        "command": "python scripts/train_decoder.py " + " ".join(argv or sys.argv[1:]),
    }
    save(args.out, params, tc, tokenizer, log, extra)
    print(
        f"wrote {args.out}; held-out loss {final_val:.4f}, perplexity {math.exp(final_val):.2f}; "
        f"{log['wall_s']:.0f} s training, {time.perf_counter() - t0:.0f} s in all"
    )


if __name__ == "__main__":
    main()
