"""Golden attentions and logits of the shipped decoder from Hugging Face's GPT-2, for
tests/attn_jax/models/test_decoder.py.

Loads models/tiny-gpt2-pydoc/ with transformers' GPT2LMHeadModel (eager attention), runs a
few texts and stores, per text: the token ids, attention maps [L,N,T,T] (for the long text
only its last 4 query rows, [L,N,4,T]), logits at every position for a fixed sample of 256
vocabulary ids [T,256], and the full logits [V] at the last position, in
tests/data/decoder_reference.npz (float32, well under 1 MB).

torch and transformers stay out of the app's requirements: install them in a separate venv,
    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.13.0 transformers safetensors tokenizers numpy
and run, from the repository root,
    /tmp/refvenv/bin/python scripts/make_decoder_reference.py [MODEL_DIR] [--out PATH]
"""

from __future__ import annotations

import argparse
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


def reference(model_dir: Path) -> dict[str, np.ndarray]:
    """Ids, attention maps and logits from the eager reference implementation."""
    import torch
    from tokenizers import Tokenizer
    from transformers import GPT2LMHeadModel

    model = GPT2LMHeadModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    vocab = model.config.vocab_size
    sample = np.random.default_rng(0).choice(vocab, N_VOCAB_SAMPLE, replace=False)
    arrays = {"vocab_sample": np.sort(sample).astype(np.int32)}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", type=Path, default=Path("models/tiny-gpt2-pydoc"))
    parser.add_argument("--out", type=Path, default=Path("tests/data/decoder_reference.npz"))
    args = parser.parse_args()
    arrays = reference(args.model_dir)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")
    for i, text in enumerate(TEXTS):
        print(len(arrays[f"ids_{i}"]), repr(text[:40]), arrays[f"att_{i}"].shape)


if __name__ == "__main__":
    main()
