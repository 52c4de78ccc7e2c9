"""Training of the copy model (models/induction-toy/): induction heads that form in minutes.

A tiny GPT-2 (pre-LN, learned positions, the project's own JAX forward pass) learns rows of
random symbols in which a random span (4..16 symbols, at most half the row) follows a random
prefix and is then copied (attn_jax.lessons.induction). Only copying predicts the second
span, and the span's offset and length vary from row to row, so a positional shortcut cannot
pass: the model needs a previous-token head and a head in layer 1 that reads it.

What makes the textbook circuit form (models/induction-toy/README.md has the runs): the model
is attention-only (its MLP weights stay exactly 0, so the GPT-2 layout still loads) and its
residual is split in halves (train_masks): tokens in the first, positions and layer 0's
output in the second, and layer 1 reads its values from the first half only. Layer 1 can then
copy only a token it attends to, so it must attend to a+j+1, the symbol after the earlier
occurrence, and find it through layer 0's previous-token head (K-composition). Without the
split every run here copied from a+j+2 instead, matching through a head two back and reading
through a previous-token head. The training rows also hold spans from 2 symbols, half of
them dense (copy after copy), and the loss is on the copied symbols alone.

In the style of nanoGPT's train.py: the config at the top, a fixed seed, a log. Every
eval_every steps the log records the loss and every head's induction and previous-token
score (and the copy accuracy) on held-out rows of the full context drawn with another seed;
at n_maps steps spread over the run, every head's attention map on one fixed probe row.
scripts/train_induction.py is the command line; the app's "train one now" runs
`train(replace(QUICK, ...))` in a worker process. Needs optax; never streamlit.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from attn_jax.lessons.induction import EOS, copy_rows, evaluate_params, report_on_rows
from attn_jax.lessons.induction_data import (  # noqa: F401 (the script and tests read them here)
    copied_targets,
    copy_tokenizer,
    dense_row,
    lower_triangle,
    map_steps,
    probe_record,
    probe_row,
    r3,
    sample_batch,
)
from attn_jax.lessons.induction_live import LEAN_XLA_FLAGS
from attn_jax.models.decoder import forward
from attn_jax.models.gpt2_files import (
    DecoderConfig,
    gpt2_from_params,
    write_gpt2_checkpoint,
)
from attn_jax.models.init import init_params, sinusoidal_positions  # GPT-2 init


# --- config -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainConfig:
    seed: int = 1234
    n_symbols: int = 62  # the first n of SYMBOLS: digits, A-Z, a-z
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    n_inner: int = 64  # GPT-2's layout has an MLP in every block (here zero: attention_only)
    n_ctx: int = 33  # context = n_positions; spans up to 16 (at most half of it)
    batch_size: int = 64
    steps: int = 3000
    learning_rate: float = 3e-3
    min_lr: float = 3e-4
    warmup_steps: int = 100
    grad_clip: float = 1.0
    qk_init_std: float = 0.1  # initial std of W_Q and W_K (GPT-2: 0.02); see train_decoder
    # length curriculum: (until this step, rows of this many tokens), then rows of n_ctx
    curriculum: tuple[tuple[int, int], ...] = ()
    copy_loss_only: bool = True  # the loss on the predictable (copied) symbols alone
    dense_fraction: float = 0.5  # share of training rows holding copy after copy (dense_row)
    random_offsets: bool = True  # curriculum rows placed at a random position offset
    train_min_span: int = 2  # shortest training span (held-out rows: 4)
    attention_only: bool = True  # MLP weights at exactly 0 and frozen (the layout keeps them)
    split_residual: bool = True  # tokens apart from positions and layer 0's output: train_masks
    eval_every: int = 25
    eval_rows: int = 128
    n_maps: int = 24  # probe-row attention snapshots, spread evenly over the run
    probe_len: int = 20
    probe_span: int = 7
    print_every: int = 250

    def model(self) -> DecoderConfig:
        return DecoderConfig(
            n_layer=self.n_layer,
            n_head=self.n_head,
            n_embd=self.n_embd,
            n_positions=self.n_ctx,
            vocab_size=self.n_symbols + 2,  # <|endoftext|>, the symbols, <unk>
            n_inner=self.n_inner,
        )

    def row_tokens(self, step: int) -> int:
        """Row length (input tokens) at this step of the curriculum."""
        return next((t for until, t in self.curriculum if step < until), self.n_ctx)


def use_lean_xla_flags() -> None:
    """Add LEAN_XLA_FLAGS to the XLA_FLAGS variable; it takes effect only if JAX has not yet
    computed anything in this process (XLA reads the variable when its CPU backend starts)."""
    flags = os.environ.get("XLA_FLAGS", "")
    if LEAN_XLA_FLAGS not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {LEAN_XLA_FLAGS}".strip()


# The app's "train one now": the same model, context and probe row, 500 steps, evals on 64
# rows (models/induction-toy/README.md has its time, memory and figures over seeds).
QUICK = TrainConfig(steps=500, eval_rows=64, n_maps=20, print_every=100)


# --- loss and optimizer -------------------------------------------------------------------
def make_optimizer(tc: TrainConfig):
    """Adam with linear warmup and cosine decay to min_lr, gradients clipped."""
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, tc.learning_rate, tc.warmup_steps, max(tc.steps, tc.warmup_steps + 1), tc.min_lr
    )
    return optax.chain(optax.clip_by_global_norm(tc.grad_clip), optax.adam(schedule)), schedule


MLP_NAMES = ("w_fc", "b_fc", "w_proj", "b_proj")


def train_masks(tc: TrainConfig) -> dict | None:
    """0/1 masks (the params' tree) of the weight entries training uses; None: all of them.

    attention_only: the MLP's weights are 0 (GELU(0)·0 + 0 adds nothing). split_residual:
    tokens (wte) in the first half of the residual, positions (wpe) and layer 0's output
    (w_o, b_o) in the second, and later layers read their values (W_V rows) from the first."""
    if not (tc.attention_only or tc.split_residual):
        return None
    cfg = tc.model()
    d, h = cfg.n_embd, cfg.n_embd // 2
    shapes = jax.eval_shape(lambda: init_params(cfg, jax.random.PRNGKey(0)))
    masks = jax.tree.map(lambda a: np.ones(a.shape, np.float32), shapes)
    layers = masks["layers"]  # stacked [L,...]
    if tc.attention_only:
        for name in MLP_NAMES:
            layers[name][:] = 0.0
    if tc.split_residual:
        masks["wte"][:, h:] = 0.0
        masks["wpe"][:, :h] = 0.0
        layers["w_o"][0, :, :h] = 0.0
        layers["b_o"][0, :h] = 0.0
        layers["w_qkv"][1:, h:, 2 * d :] = 0.0  # [L,D,3D]: V columns, second-half rows
    return jax.tree.map(jnp.asarray, masks)


def masked(tree, masks):
    """tree * masks leaf by leaf (masks None: the tree unchanged)."""
    return tree if masks is None else jax.tree.map(jnp.multiply, tree, masks)


def initial_params(tc: TrainConfig) -> dict:
    """GPT-2's init (attn_jax.models.init) times train_masks; with split_residual the
    sinusoidal positions start in the second half (every frequency in D/2 dims)."""
    cfg = tc.model()
    params = init_params(cfg, jax.random.PRNGKey(tc.seed), tc.qk_init_std)
    if tc.split_residual:
        h = cfg.n_embd // 2
        wpe = sinusoidal_positions(cfg.n_positions, cfg.n_embd - h)  # [P,D-h]
        params["wpe"] = jnp.pad(wpe, ((0, 0), (h, 0)))  # [P,D]
    return masked(params, train_masks(tc))


def make_train_step(cfg: DecoderConfig, optimizer, masks=None):
    """A jitted Adam step on (x, y, weight) [B,T]: the weighted mean cross-entropy.

    Gradients are multiplied by masks (train_masks): Adam moves a 0 entry by exactly 0."""

    def loss_fn(params, x, y, weight, offset):
        # the row sits at positions offset..offset+T-1 (forward reads wpe[:T])
        wpe = jax.lax.dynamic_slice_in_dim(params["wpe"], offset, x.shape[1])
        logits = forward({**params, "wpe": wpe}, x, cfg)[0]  # [B,T,V]
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, y)  # [B,T]
        return jnp.sum(ce * weight) / jnp.sum(weight)

    @jax.jit
    def step(params, opt_state, x, y, weight, offset):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y, weight, offset)
        grads = masked(grads, masks)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return step


# --- training -----------------------------------------------------------------------------
def train(tc: TrainConfig, say=print, on_eval: Callable[[dict, dict | None], None] | None = None):
    """Train from scratch; returns (params, log).

    on_eval(entry, maps) is called after each evaluation with the log's new "heads" entry
    and its "maps" entry (None at steps without a probe snapshot)."""
    cfg = tc.model()
    optimizer, schedule = make_optimizer(tc)
    params = jax.jit(lambda: initial_params(tc))()  # one compile, not dozens of small ops
    opt_state = optimizer.init(params)
    step_fn = make_train_step(cfg, optimizer, train_masks(tc))
    run = jax.jit(lambda p, ids: forward(p, ids, cfg)[:2])  # logits [B,T,V], maps [L,B,N,T,T]
    held_out = copy_rows(np.random.default_rng(tc.seed + 1), tc.eval_rows, tc.n_ctx, tc.n_symbols)
    probe = probe_row(tc)
    n_probe = probe.ids.shape[1]
    # the probe rides in the held-out batch, right-padded: causal maps of its n_probe tokens
    # do not see the padding, and one compiled pass serves both
    eval_ids = np.concatenate([held_out.ids, np.pad(probe.ids, ((0, 0), (0, tc.n_ctx - n_probe)))])
    snapshots = map_steps(tc)
    lr_at = jax.jit(schedule)  # one compiled call, not a dozen small ops at each log
    rng = np.random.default_rng(tc.seed)
    log = {"heads": [], "maps": [], "probe": probe_record(probe)}
    start, losses = time.perf_counter(), []
    for step in range(tc.steps + 1):
        if step % tc.eval_every == 0 or step == tc.steps:
            logits, atts = (np.asarray(a) for a in run(params, eval_ids))  # [B+1,..]
            rep = report_on_rows(logits[:-1], atts[:, :-1], held_out)
            loss = float(np.mean(losses)) if losses else None
            log["heads"].append(
                {
                    "step": step,
                    "loss": None if loss is None else round(loss, 3),
                    "lr": float(f"{float(lr_at(step)):.3g}"),
                    "row_tokens": tc.row_tokens(step),
                    "induction": r3(rep.induction),
                    "induction_next": r3(rep.induction_next),
                    "previous_token": r3(rep.previous_token),
                    "copy_accuracy": round(rep.copy_accuracy, 3),
                }
            )
            losses = []
            snapshot = None
            if step in snapshots:
                maps = atts[:, -1, :, :n_probe, :n_probe]  # [L,N,T,T]
                snapshot = {"step": step, "weights": lower_triangle(maps)}
                log["maps"].append(snapshot)
            if on_eval is not None:
                on_eval(log["heads"][-1], snapshot)
            if step % tc.print_every == 0 or step == tc.steps:
                lay, head, best = rep.best_induction()
                say(
                    f"step {step:5d}  loss {'-' if loss is None else f'{loss:.3f}'}  "
                    f"induction {best:.3f} (L{lay}H{head}), one later "
                    f"{rep.induction_next.max():.3f}  "
                    f"previous-token {rep.best_previous_token()[2]:.3f}  "
                    f"copy acc {rep.copy_accuracy:.3f}  rows {tc.row_tokens(step)}  "
                    f"({time.perf_counter() - start:.0f} s)"
                )
        if step == tc.steps:
            break
        x, y, weight, offset = sample_batch(rng, tc, step)
        params, opt_state, loss = step_fn(params, opt_state, x, y, weight, offset)
        losses.append(loss)
    log["wall_s"] = round(time.perf_counter() - start, 1)
    return params, log


def save(out: Path, params, tc: TrainConfig, log: dict, extra: dict) -> None:
    """The checkpoint in the Hugging Face GPT-2 layout, plus training_log.json."""
    tok = copy_tokenizer(tc.n_symbols)
    weights = gpt2_from_params(jax.device_get(params))
    write_gpt2_checkpoint(out, weights, tc.model(), tok.to_str(pretty=True), tok.token_to_id(EOS))
    record = {"train_config": asdict(tc), **extra, **log}
    text = json.dumps(record, separators=(",", ":"))
    (out / "training_log.json").write_text(text + "\n", encoding="utf-8")


def final_report(params, tc: TrainConfig, n_rows: int = 512, seed: int = 2024) -> dict:
    """Held-out figures on fresh rows of the full context (another seed than the log's)."""
    rep = evaluate_params(params, tc.model(), tc.n_symbols, n_rows, seed)
    (il, ih, ind), (pl, ph, prev) = rep.best_induction(), rep.best_previous_token()
    return {
        "rows": n_rows,
        "seed": seed,
        "best_induction": {"layer": il, "head": ih, "score": round(ind, 3)},
        "best_previous_token": {"layer": pl, "head": ph, "score": round(prev, 3)},
        "best_induction_next": round(float(rep.induction_next.max()), 3),
        "copy_accuracy": round(rep.copy_accuracy, 3),
        "induction": r3(rep.induction),
        "induction_next": r3(rep.induction_next),
        "previous_token": r3(rep.previous_token),
    }
