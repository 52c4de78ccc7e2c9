"""Small random Llama and Mistral checkpoints and their golden outputs from Hugging Face's
LlamaForCausalLM / MistralForCausalLM, for tests/attn_jax/models/test_llama.py.

Writes, under tests/data/ (float32; each checkpoint about 0.3-0.5 MB):
  llama-tiny/    2 layers, 4 query heads sharing 2 K/V heads, head_dim 16, hidden 64, SwiGLU
                 128, rope_theta 10000, tied embeddings
  mistral-tiny/  the same but head_dim 24 (N·H = 96 != hidden 64), rope_theta 1000, untied
                 embeddings, sliding_window 8 (shorter than the texts)
  each with config.json and model.safetensors (save_pretrained) and tokenizer.json: a
  Llama-style BPE with byte fallback (SentencePiece's "▁" spaces, <0xNN> byte tokens), trained
  here with `tokenizers` on a few sentences;
  llama_reference.npz  per checkpoint and text: ids, attentions [L,N,T,T], logits [T,V]; and
                 one knock-out (heads zeroed by a forward pre-hook on `self_attn.o_proj`,
                 since transformers 5 ignores head_mask): its attentions and logits.

With --shipped, instead: loads models/tiny-llama-pydoc/ with AutoModelForCausalLM (checking
that no weight is missing or unexpected) and writes tests/data/tiny_llama_reference.npz: per
text the ids, attentions [L,N,T,T], logits at a fixed sample of 256 vocabulary ids [T,256] and
the last position's full logits [V], plus the loading report and the checkpoint's SHA-256.

torch and transformers stay out of the app's requirements: run it from a separate venv,
    python3 -m venv /tmp/hfvenv && /tmp/hfvenv/bin/pip install torch transformers
    /tmp/hfvenv/bin/python scripts/make_llama_reference.py [--shipped]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "tests" / "data"
TEXTS = [
    "The list.append method adds an item to the end of the list.",
    "def f(x):\n    return x + 1  # Café 東京",
    "Attention lets every token look at the tokens before it, weighting each",
]
CORPUS = [
    "Return a new list containing all items from the iterable in ascending order.",
    "The with statement is used to wrap the execution of a block with methods defined by a "
    "context manager. def function(argument): return value",
    "Attention weights each key by how well it matches the query; a decoder sees the past.",
] * 4
ABLATE = [(0, 1), (1, 3)]
CHECKPOINTS = {
    "llama-tiny": dict(model_type="llama", head_dim=16, rope_theta=10000.0, tie=True),
    "mistral-tiny": dict(model_type="mistral", head_dim=24, rope_theta=1000.0, tie=False),
}
VOCAB = 400


def llama_style_tokenizer():
    """A BPE with byte fallback and SentencePiece's metaspace, as Llama 2's tokenizer.json."""
    from tokenizers import Tokenizer, decoders, models, normalizers, trainers

    tok = Tokenizer(models.BPE(byte_fallback=True, unk_token="<unk>", fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence(
        [
            decoders.Replace("▁", " "),
            decoders.ByteFallback(),
            decoders.Fuse(),
            decoders.Strip(" ", 1, 0),
        ]
    )
    special = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=special, show_progress=False)
    tok.train_from_iterator(CORPUS, trainer=trainer)
    return tok


def make_model(name: str, spec: dict, vocab: int):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    cfg = AutoConfig.for_model(
        spec["model_type"],
        vocab_size=vocab,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=spec["head_dim"],
        max_position_embeddings=64,
        rms_norm_eps=1e-5,
        rope_theta=spec["rope_theta"],
        tie_word_embeddings=spec["tie"],
        bos_token_id=1,
        eos_token_id=2,
        **({"sliding_window": 8} if spec["model_type"] == "mistral" else {}),
    )
    torch.manual_seed(0 if spec["tie"] else 1)
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager").float().eval()
    with torch.no_grad():  # wider than the 0.02 init, so the attention maps are not flat
        for p_name, p in model.named_parameters():
            if p_name.endswith(("q_proj.weight", "k_proj.weight")):
                p.normal_(0.0, 0.25)
            elif "norm" in p_name:
                p.uniform_(0.5, 1.5)
    return model


def _hooks(model, pairs):
    h = model.config.head_dim
    handles = []
    for layer, head in pairs:

        def hook(module, args, head=head):
            x = args[0].clone()  # [B,T,N·H], head n at n·H:(n+1)·H
            x[..., head * h : (head + 1) * h] = 0.0
            return (x, *args[1:])

        o_proj = model.model.layers[layer].self_attn.o_proj
        handles.append(o_proj.register_forward_pre_hook(hook))
    return handles


def run(model, ids, pairs=()):
    import torch

    handles = _hooks(model, pairs)
    try:
        with torch.no_grad():
            out = model(torch.tensor([ids]), output_attentions=True)
    finally:
        for handle in handles:
            handle.remove()
    att = torch.stack(out.attentions)[:, 0].numpy().astype(np.float32)  # [L,N,T,T]
    return att, out.logits[0].numpy().astype(np.float32)  # [T,V]


SHIPPED = OUT.parents[1] / "models" / "tiny-llama-pydoc"
SHIPPED_TEXTS = [
    "The list.append method adds an item to the end of the list.",
    "def f(x):\n    return x + 1\n\nprint(f(41))",
    "Return a new sorted list from the items in iterable. Café 東京",
]


def shipped_reference() -> None:
    """The shipped model through transformers: loading report, attentions, sampled logits."""
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM

    model, info = AutoModelForCausalLM.from_pretrained(
        str(SHIPPED), attn_implementation="eager", output_loading_info=True
    )
    model = model.float().eval()
    report = {k: sorted(map(str, v)) for k, v in info.items() if k != "error_msgs"}
    assert not report["missing_keys"] and not report["unexpected_keys"], report
    tok = Tokenizer.from_file(str(SHIPPED / "tokenizer.json"))
    sample = np.sort(np.random.default_rng(0).choice(model.config.vocab_size, 256, False))
    arrays = {"vocab_sample": sample.astype(np.int32)}
    for i, text in enumerate(SHIPPED_TEXTS):
        ids = tok.encode(text, add_special_tokens=False).ids
        att, logits = run(model, ids)
        arrays[f"ids_{i}"], arrays[f"att_{i}"] = np.asarray(ids, np.int32), att
        arrays[f"logits_{i}"], arrays[f"last_logits_{i}"] = logits[:, sample], logits[-1]
        print(len(ids), "tokens", repr(text[:30]))
    digest = hashlib.sha256((SHIPPED / "model.safetensors").read_bytes()).hexdigest()
    meta = {"texts": SHIPPED_TEXTS, "loading": report, "model_sha256": digest}
    arrays["meta"] = np.array(json.dumps(meta))
    path = OUT / "tiny_llama_reference.npz"
    np.savez_compressed(path, **arrays)
    print(f"loading report {report}; wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipped", action="store_true", help="the shipped model's reference")
    if parser.parse_args().shipped:
        shipped_reference()
        return
    tok = llama_style_tokenizer()
    arrays = {}
    for name, spec in CHECKPOINTS.items():
        folder = OUT / name
        shutil.rmtree(folder, ignore_errors=True)
        model = make_model(name, spec, tok.get_vocab_size())
        model.save_pretrained(str(folder), safe_serialization=True)
        (folder / "generation_config.json").unlink(missing_ok=True)
        tok.save(str(folder / "tokenizer.json"))
        for i, text in enumerate(TEXTS):
            ids = tok.encode(text, add_special_tokens=False).ids
            att, logits = run(model, ids)
            arrays[f"{name}/ids_{i}"] = np.asarray(ids, np.int32)
            arrays[f"{name}/att_{i}"], arrays[f"{name}/logits_{i}"] = att, logits
            print(name, len(ids), "tokens", repr(text[:30]))
        att, logits = run(model, arrays[f"{name}/ids_0"], ABLATE)
        assert np.abs(logits - arrays[f"{name}/logits_0"]).max() > 1e-2  # the hooks took effect
        arrays[f"{name}/ablate_att"], arrays[f"{name}/ablate_logits"] = att, logits
        size = (folder / "model.safetensors").stat().st_size
        print(f"wrote {folder} ({size / 1024:.0f} KB)")
    arrays["meta"] = np.array(json.dumps({"texts": TEXTS, "ablate": ABLATE}))
    path = OUT / "llama_reference.npz"
    np.savez_compressed(path, **arrays)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
