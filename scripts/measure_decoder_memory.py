"""Peak memory (RSS) of loading a decoder and running it, each in a fresh subprocess.

For README.md's "Bring your own decoder": the shipped tiny-llama-pydoc and random Llama
checkpoints of larger sizes (written to a scratch folder first, in their own process).
Prints, per model: float32 weight bytes, peak RSS after `import attn_jax`, after
load_decoder + one run of a ~100-token text (one 128-token bucket compiled), and after
warm_up() of every bucket.
    .venv/bin/python scripts/measure_decoder_memory.py [--scratch /tmp/decoder_sizes]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RANDOM = {  # name: (layers, d_model, query heads, kv heads, d_ff, vocab)
    "llama-8x512-v32000": (8, 512, 8, 4, 1408, 32000),
    "llama-12x768-v32000": (12, 768, 12, 4, 2048, 32000),
}

WRITE = """
import sys, numpy as np
sys.path.insert(0, {root!r})
from pathlib import Path
from attn_jax.models.layer_stack import stack_layers
from attn_jax.models.llama_files import LlamaConfig, write_llama_checkpoint
L, D, N, K, F, V = {sizes}
cfg = LlamaConfig(n_layer=L, n_head=N, n_embd=D, n_kv_head=K, head_dim=D // N, d_ff=F,
                  n_positions=256, vocab_size=V)
rng = np.random.default_rng(0)
r = lambda *s: (0.02 * rng.standard_normal(s)).astype(np.float32)
H = D // N
layers = [dict(ln_1=np.ones(D, np.float32), ln_2=np.ones(D, np.float32),
               w_qkv=r(D, (N + 2 * K) * H), b_qkv=np.zeros((N + 2 * K) * H, np.float32),
               w_o=r(N * H, D), w_gate=r(D, F), w_up=r(D, F), w_down=r(F, D))
          for _ in range(L)]
params = dict(wte=r(V, D), ln_f=np.ones(D, np.float32), layers=stack_layers(layers))
tok = Path({root!r}, "models", "tiny-gpt2-pydoc", "tokenizer.json").read_text()
write_llama_checkpoint(Path({out!r}), params, cfg, tok)
"""

MEASURE = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB
import attn_jax
from attn_jax.models import sizes
row = {{"import_mib": peak()}}
from pathlib import Path
row["weights_mb"] = sizes.float32_bytes(Path({path!r}, "model.safetensors")) / 1e6
t = time.perf_counter()
d = attn_jax.load_decoder({path!r})
d.run("Attention lets every token look at the tokens before it. " * 8)
row["load_run_mib"], row["load_run_s"] = peak(), time.perf_counter() - t
d.warm_up()
row["warm_all_mib"], row["buckets"] = peak(), list(d.buckets)
print(json.dumps(row))
"""


def measure(path: Path) -> dict:
    code = MEASURE.format(root=str(ROOT), path=str(path))
    env = {**os.environ, "ATTN_DECODER_MAX_MB": "100000"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/decoder_sizes"))
    args = parser.parse_args()
    folders = {"tiny-llama-pydoc": ROOT / "models" / "tiny-llama-pydoc"}
    for name, spec in RANDOM.items():
        out = args.scratch / name
        if not (out / "model.safetensors").is_file():
            code = WRITE.format(root=str(ROOT), sizes=spec, out=str(out))
            subprocess.run([sys.executable, "-c", code], check=True)
        folders[name] = out
    for name, folder in folders.items():
        print(name, json.dumps({k: round(v, 1) if isinstance(v, float) else v
                                for k, v in measure(folder).items()}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
