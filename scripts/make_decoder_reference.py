"""Golden attentions and logits of the shipped decoder from Hugging Face's GPT-2, for
tests/attn_jax/models/test_decoder.py and test_decoder_ablate.py.

Loads models/tiny-gpt2-pydoc/ with transformers' GPT2LMHeadModel (eager attention), runs a
few texts and stores, per text: the token ids, attention maps [L,N,T,T] (for the long text
only its last 4 query rows, [L,N,4,T]), logits at every position for a fixed sample of 256
vocabulary ids [T,256], and the full logits [V] at the last position, in
tests/data/decoder_reference.npz (float32, well under 1 MB).

Head knock-out, in tests/data/decoder_ablate_reference.npz (float32, about 100 KB): for one
short text and a few sets of (layer, head) pairs (one head in layer 0, two heads in different
layers, a whole layer), the attention maps [L,N,T,T], the sampled logits [T,256] and the last
position's logits [V] with those heads' slices of the input to `attn.c_proj` set to zero by a
forward pre-hook (transformers 5 ignores `head_mask`). Its meta records the checkpoint's
SHA-256, so a retrained model's stale reference is named as such.

torch and transformers stay out of the app's requirements: install them in a separate venv,
    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.13.0 transformers safetensors tokenizers numpy
and run, from the repository root,
    /tmp/refvenv/bin/python scripts/make_decoder_reference.py [MODEL_DIR] [--out PATH]
        [--ablate-out PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

LONG = (
    "Attention lets every token look at the tokens before it, weighting each one by how well "
    "its key matches the query. A decoder sees only the past: the weights above the diagonal "
    "are zero. "
)
TEXTS = [
    "The list.append method adds an item to the end of the list.",
    "def f(x):\n    return x + 1\n\nprint(f(41))",
    "Café naïve 東京 🙂!",
    "x",
    LONG * 2,  # about 100 tokens: the last bucket of a 128-token context
]
LONG_ROWS = 4
N_VOCAB_SAMPLE = 256
ABLATE_TEXT = TEXTS[0]


def ablate_sets(n_layer: int, n_head: int) -> list[list[tuple[int, int]]]:
    """One head in layer 0; two heads in different layers; every head of a middle layer."""
    return [
        [(0, 1 % n_head)],
        [(1 % n_layer, n_head - 2), (n_layer - 1, 0)],
        [(n_layer // 2, h) for h in range(n_head)],
    ]


def _load(model_dir: Path):
    from tokenizers import Tokenizer
    from transformers import GPT2LMHeadModel

    model = GPT2LMHeadModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    return model, Tokenizer.from_file(str(model_dir / "tokenizer.json"))


def _vocab_sample(vocab: int) -> np.ndarray:
    sample = np.random.default_rng(0).choice(vocab, N_VOCAB_SAMPLE, replace=False)
    return np.sort(sample).astype(np.int32)


def reference(model_dir: Path) -> dict[str, np.ndarray]:
    """Ids, attention maps and logits from the eager reference implementation."""
    import torch

    model, tok = _load(model_dir)
    arrays = {"vocab_sample": _vocab_sample(model.config.vocab_size)}
    for i, text in enumerate(TEXTS):
        ids = tok.encode(text, add_special_tokens=False).ids
        with torch.no_grad():
            out = model(torch.tensor([ids]), output_attentions=True)
        att = torch.stack(out.attentions)[:, 0].numpy().astype(np.float32)  # [L,N,T,T]
        logits = out.logits[0].numpy().astype(np.float32)  # [T,V]
        arrays[f"ids_{i}"] = np.asarray(ids, np.int32)
        arrays[f"att_{i}"] = att[:, :, -LONG_ROWS:] if text is TEXTS[-1] else att
        arrays[f"logits_{i}"] = logits[:, arrays["vocab_sample"]]
        arrays[f"last_logits_{i}"] = logits[-1]
    arrays["meta"] = np.array(json.dumps({"texts": TEXTS, "long_rows": LONG_ROWS}))
    return arrays


def _knock_out(model, pairs) -> list:
    """Forward pre-hooks zeroing each pair's head slice of `attn.c_proj`'s input; handles."""
    h = model.config.n_embd // model.config.n_head
    by_layer: dict[int, list[int]] = {}
    for layer, head in pairs:
        by_layer.setdefault(layer, []).append(head)

    def hook_for(heads):
        def hook(module, args):
            x = args[0].clone()  # [B,T,D], head n at n·H:(n+1)·H (the merged heads)
            for n in heads:
                x[..., n * h : (n + 1) * h] = 0.0
            return (x, *args[1:])

        return hook

    handles = []
    for layer, heads in by_layer.items():
        c_proj = model.transformer.h[layer].attn.c_proj  # Conv1D on the merged heads [B,T,D]
        handles.append(c_proj.register_forward_pre_hook(hook_for(heads)))
    return handles


def ablate_reference(model_dir: Path) -> dict[str, np.ndarray]:
    """Attentions and logits of ABLATE_TEXT with sets of heads knocked out (pre-hooks)."""
    import torch

    model, tok = _load(model_dir)
    cfg = model.config
    sample = _vocab_sample(cfg.vocab_size)
    ids = tok.encode(ABLATE_TEXT, add_special_tokens=False).ids
    sets = ablate_sets(cfg.n_layer, cfg.n_head)
    arrays = {"ids": np.asarray(ids, np.int32), "vocab_sample": sample}
    for i, pairs in enumerate([[], *sets]):
        handles = _knock_out(model, pairs)
        try:
            with torch.no_grad():
                out = model(torch.tensor([ids]), output_attentions=True)
        finally:
            for handle in handles:
                handle.remove()
        logits = out.logits[0].numpy().astype(np.float32)  # [T,V]
        arrays[f"pairs_{i}"] = np.asarray(pairs, np.int32).reshape(-1, 2)
        arrays[f"att_{i}"] = torch.stack(out.attentions)[:, 0].numpy().astype(np.float32)
        arrays[f"logits_{i}"] = logits[:, sample]
        arrays[f"last_logits_{i}"] = logits[-1]
    for i in range(1, len(sets) + 1):  # the hooks took effect, and only downstream
        assert np.abs(arrays[f"logits_{i}"] - arrays["logits_0"]).max() > 1e-2, sets[i - 1]
        first = int(arrays[f"pairs_{i}"][:, 0].min())
        assert np.array_equal(arrays[f"att_{i}"][: first + 1], arrays["att_0"][: first + 1])
    digest = hashlib.sha256((model_dir / "model.safetensors").read_bytes()).hexdigest()
    meta = {"text": ABLATE_TEXT, "n_sets": len(sets) + 1, "model_sha256": digest}
    arrays["meta"] = np.array(json.dumps(meta))
    return arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", type=Path, default=Path("models/tiny-gpt2-pydoc"))
    parser.add_argument("--out", type=Path, default=Path("tests/data/decoder_reference.npz"))
    parser.add_argument(
        "--ablate-out", type=Path, default=Path("tests/data/decoder_ablate_reference.npz")
    )
    args = parser.parse_args()
    arrays = reference(args.model_dir)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")
    for i, text in enumerate(TEXTS):
        print(len(arrays[f"ids_{i}"]), repr(text[:40]), arrays[f"att_{i}"].shape)
    ablated = ablate_reference(args.model_dir)
    args.ablate_out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.ablate_out, **ablated)
    print(f"wrote {args.ablate_out} ({args.ablate_out.stat().st_size / 1024:.0f} KB)")
    for i in range(1, json.loads(str(ablated["meta"]))["n_sets"]):
        print("knocked out", ablated[f"pairs_{i}"].tolist())


if __name__ == "__main__":
    main()
