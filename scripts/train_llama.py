"""Train the shipped tiny Llama (models/tiny-llama-pydoc/) on Python's own documentation.

The sibling of train_decoder.py (the tiny GPT-2): the same corpus, held-out split, tokenizer
(models/tiny-gpt2-pydoc/tokenizer.json, copied), batches (text rows, 30 % long repeats, the
short rows of repeats), optimizer, schedule and seed, all reused from it; only the model
differs: RoPE instead of learned positions, RMSNorm, a SwiGLU MLP, 4 query heads sharing 2
K/V heads, tied embeddings, with d_ff chosen so the parameter count is about the GPT-2's.

Writes the checkpoint in the Hugging Face Llama layout (config.json model_type "llama",
model.safetensors with `model.layers.N.self_attn.q_proj.weight` … names) plus
training_log.json (losses; held-out loss; induction and previous-token scores per head) to
--out, also at every held-out evaluation, so an interrupted run leaves its last checkpoint.
    taskset -c 1 nice -n 5 .venv/bin/python scripts/train_llama.py --out models/tiny-llama-pydoc
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import train_decoder as td  # noqa: E402

from attn_jax.lessons.decoder_heads import (  # noqa: E402
    induction_from_attentions,
    previous_token_from_attentions,
    repeated_random_tokens,
)
from attn_jax.models.layer_stack import stack_layers  # noqa: E402
from attn_jax.models.llama import forward  # noqa: E402
from attn_jax.models.llama_files import LlamaConfig, write_llama_checkpoint  # noqa: E402

TOKENIZER = ROOT / "models" / "tiny-gpt2-pydoc" / "tokenizer.json"
N_KV_HEAD = 2
D_FF = 384  # 3·D·F = 2·D·4D + D² (GPT-2's MLP plus the attention K/V saves): same size


def model_config(tc: td.TrainConfig) -> LlamaConfig:
    return LlamaConfig(
        n_layer=tc.n_layer,
        n_head=tc.n_head,
        n_embd=tc.n_embd,
        n_kv_head=N_KV_HEAD,
        head_dim=tc.n_embd // tc.n_head,
        d_ff=D_FF,
        n_positions=tc.block_size,
        vocab_size=tc.vocab_size,
        layer_norm_epsilon=1e-5,
        rope_theta=10000.0,
        tie_word_embeddings=True,
    )


def init_params(cfg: LlamaConfig, key, qk_std: float) -> dict:
    """N(0, 0.02); W_O and W_down scaled by 1/sqrt(2L); W_Q, W_K at qk_std (as the GPT-2's)."""
    d, f, h = cfg.n_embd, cfg.d_ff, cfg.head_dim
    nq, nkv = cfg.n_head * h, cfg.kv_heads * h
    keys = iter(jax.random.split(key, 1 + 5 * cfg.n_layer))

    def normal(shape, std=0.02):
        return std * jax.random.normal(next(keys), shape, jnp.float32)

    resid = 0.02 / math.sqrt(2 * cfg.n_layer)
    scale = jnp.concatenate([jnp.full(nq + nkv, qk_std / 0.02), jnp.ones(nkv)])  # Q | K | V
    layers = [
        {
            "ln_1": jnp.ones(d),
            "w_qkv": normal((d, nq + 2 * nkv)) * scale,
            "b_qkv": jnp.zeros(nq + 2 * nkv),
            "w_o": normal((nq, d), resid),
            "ln_2": jnp.ones(d),
            "w_gate": normal((d, f)),
            "w_up": normal((d, f)),
            "w_down": normal((f, d), resid),
        }
        for _ in range(cfg.n_layer)
    ]
    return {"wte": normal((cfg.vocab_size, d)), "ln_f": jnp.ones(d), "layers": stack_layers(layers)}


def trainable(params):
    """The biases stay zero (Llama has none): their gradient is cut."""
    layers = {**params["layers"], "b_qkv": jax.lax.stop_gradient(params["layers"]["b_qkv"])}
    return {**params, "layers": layers}


def loss_fn(params, x, y, cfg):
    logits = forward(trainable(params), x, cfg)[0]  # [B,T,V]
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def summed_loss(params, x, y, real, cfg):
    logits = forward(params, x, cfg)[0]
    rows = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(axis=1)  # [B]
    return jnp.sum(jnp.where(jnp.arange(x.shape[0]) < real, rows, 0.0))


def make_step(cfg, optimizer):
    def both(params, x, y, xs, ys):
        long, short = loss_fn(params, x, y, cfg), loss_fn(params, xs, ys, cfg)
        return long + short, (long, short)

    @jax.jit
    def step(params, opt_state, x, y, xs, ys):
        (_, losses), grads = jax.value_and_grad(both, has_aux=True)(params, x, y, xs, ys)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, losses

    return step


def head_probe(params, cfg, tc, eos, attentions) -> tuple[np.ndarray, np.ndarray]:
    """Induction and previous-token scores [L,N] on random tokens repeated twice (4 rows)."""
    ids = repeated_random_tokens(cfg.vocab_size, tc.induction_n, 4, seed=0, bos_id=eos)
    maps = np.asarray(attentions(params, ids))  # [L,N,T,T], mean over the rows
    return induction_from_attentions(maps, tc.induction_n), previous_token_from_attentions(maps)


def train(tc, train_ids, val_ids, eos, save, stop_after=None, say=print):
    """Train from scratch with train_decoder's batches; `save(params, log)` at each eval."""
    last = tc.steps if stop_after is None else min(stop_after, tc.steps)
    cfg = model_config(tc)
    optimizer, schedule = td.make_optimizer(tc)
    params = init_params(cfg, jax.random.PRNGKey(tc.seed), tc.qk_init_std)
    opt_state = optimizer.init(params)
    step_fn = make_step(cfg, optimizer)
    eval_loss = jax.jit(lambda p, x, y, real: summed_loss(p, x, y, real, cfg))
    attentions = jax.jit(lambda p, ids: forward(p, ids, cfg)[1].mean(axis=1))  # [L,N,T,T]
    rng = np.random.default_rng(tc.seed)
    log = {"train": [], "val": [], "induction": [], "previous_token": []}
    start, window = time.perf_counter(), []
    for step in range(tc.steps + 1):
        if step % tc.induction_every == 0 or step == last:
            ind, prev = head_probe(params, cfg, tc, eos, attentions)
            log["induction"].append({"step": step, "scores": np.round(ind, 4).tolist()})
            log["previous_token"].append({"step": step, "scores": np.round(prev, 4).tolist()})
            say(f"step {step:5d}  best induction {ind.max():.3f}  previous-token {prev.max():.3f}")
        if step % tc.val_every == 0 or step == last:
            val = td.evaluate(params, val_ids, tc, eval_loss)
            log["val"].append({"step": step, "val_loss": round(val, 4)})
            log["wall_s"] = round(time.perf_counter() - start, 1)
            say(f"step {step:5d}  val loss {val:.4f}  ({log['wall_s']:.0f} s)")
            save(params, log)
        if step == last:
            break
        x, y = td.sample_batch(rng, train_ids, tc, eos, step)
        xs, ys = td.sample_short_batch(rng, tc, eos)
        params, opt_state, losses = step_fn(params, opt_state, x, y, xs, ys)
        window.append(losses)
        if (step + 1) % tc.log_every == 0:
            text, short = (float(np.mean(a)) for a in np.asarray(jax.device_get(window)).T)
            lr = float(schedule(step))
            log["train"].append({"step": step + 1, "loss": round(text, 4), "lr": lr,
                                 "short_loss": round(short, 4)})  # fmt: skip
            say(f"step {step + 1:5d}  train loss {text:.4f}  short rows {short:.4f}  lr {lr:.2e}")
            window = []
    return params, log


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "tiny-llama-pydoc")
    parser.add_argument("--steps", type=int, default=None, help="override TrainConfig.steps")
    parser.add_argument("--stop-after", type=int, default=None, help="end early, same schedule")
    args = parser.parse_args(argv)
    tc = td.TrainConfig() if args.steps is None else replace(td.TrainConfig(), steps=args.steps)
    from tokenizers import Tokenizer

    t0 = time.perf_counter()
    train_docs, val_docs = td.split_documents(td.corpus_documents())
    tokenizer = Tokenizer.from_file(str(TOKENIZER))
    eos = tokenizer.token_to_id(td.EOS)
    train_ids = td.encode_documents(tokenizer, train_docs)
    val_ids = td.encode_documents(tokenizer, val_docs)
    say = lambda line: print(line, flush=True)  # noqa: E731
    say(f"corpus: {len(train_docs)} + {len(val_docs)} documents, {len(train_ids)} + "
        f"{len(val_ids)} tokens ({time.perf_counter() - t0:.0f} s)")  # fmt: skip
    cfg = model_config(tc)
    extra = {
        "model_config": asdict(cfg),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "corpus": {"train_documents": len(train_docs), "val_documents": len(val_docs),
                   "train_tokens": len(train_ids), "val_tokens": len(val_ids)},
        "command": "python scripts/train_llama.py " + " ".join(argv or sys.argv[1:]),
    }  # fmt: skip

    def save(params, log):
        host = jax.device_get(params)
        write_llama_checkpoint(args.out, host, cfg, tokenizer.to_str(), eos)
        final = log["val"][-1]["val_loss"]
        record = {"train_config": asdict(tc), **extra, **log, "final": {
            "step": log["val"][-1]["step"], "val_loss": final,
            "val_perplexity": round(math.exp(final), 2)}}  # fmt: skip
        text = json.dumps(record, indent=1) + "\n"
        (args.out / "training_log.json").write_text(text, encoding="utf-8")

    n_params = sum(a.size for a in jax.tree.leaves(init_params(cfg, jax.random.PRNGKey(0), 0.1)))
    say(f"model: {cfg}; {n_params - cfg.n_layer * (cfg.n_head + 2 * cfg.kv_heads) * cfg.head_dim} "
        "parameters (without the zero biases)")  # fmt: skip
    _, log = train(tc, train_ids, val_ids, eos, save, args.stop_after, say)
    final = log["val"][-1]["val_loss"]
    say(
        f"wrote {args.out}; held-out loss {final:.4f}, perplexity {math.exp(final):.2f}; "
        f"{log['wall_s']:.0f} s training, {time.perf_counter() - t0:.0f} s in all"
    )


if __name__ == "__main__":
    main()
