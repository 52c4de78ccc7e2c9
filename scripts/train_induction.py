"""Train the shipped copy model (models/induction-toy/); the training itself is
attn_jax/lessons/induction_training.py (its TrainConfig defaults are the shipped model).

Writes config.json, model.safetensors, tokenizer.json (Hugging Face GPT-2 layout; a
word-level vocabulary of single symbols) and training_log.json to --out. From the repository
root:
    .venv/bin/python scripts/train_induction.py --out models/induction-toy
(about two minutes on a 2-core CPU); `--quick --out DIR` trains the app's QUICK preset
(500 steps, under a minute).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from dataclasses import asdict, replace
from pathlib import Path

import jax

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from attn_jax.lessons.induction_training import (  # noqa: F401 (the tests read them here)
    QUICK,
    TrainConfig,
    copied_targets,
    copy_tokenizer,
    dense_row,
    final_report,
    sample_batch,
    save,
    train,
    use_lean_xla_flags,
)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("models/induction-toy"))
    parser.add_argument("--steps", type=int, default=None, help="override TrainConfig.steps")
    parser.add_argument("--seed", type=int, default=None, help="override TrainConfig.seed")
    parser.add_argument("--quick", action="store_true", help="the app's QUICK run (500 steps)")
    args = parser.parse_args(argv)
    use_lean_xla_flags()  # before JAX's first computation
    tc = QUICK if args.quick else TrainConfig()
    tc = tc if args.steps is None else replace(tc, steps=args.steps)
    tc = tc if args.seed is None else replace(tc, seed=args.seed)
    print(f"config: {asdict(tc)}", flush=True)
    params, log = train(tc, say=lambda s: print(s, flush=True))
    final = final_report(params, tc)
    extra = {
        "python": platform.python_version(),
        "jax": jax.__version__,
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "command": "python scripts/train_induction.py " + " ".join(argv or sys.argv[1:]),
        "final": final,
    }
    save(args.out, params, tc, log, extra)
    print(
        f"held-out ({final['rows']} rows, seed {final['seed']}): best induction "
        f"{final['best_induction']}, one place later {final['best_induction_next']}, "
        f"best previous-token {final['best_previous_token']}, "
        f"copy accuracy {final['copy_accuracy']}"
    )
    print(f"wrote {args.out}; {log['wall_s']:.0f} s training")


if __name__ == "__main__":
    main()
