"""GPT-2 checkpoints in the Hugging Face layout: finding, reading, writing, tokenizing.

A folder holds config.json ("model_type": "gpt2"), model.safetensors (GPT-2's names,
Conv1D layout: `h.0.attn.c_attn.weight` is [D,3D], used as x·W) and tokenizer.json (byte-level
BPE). Names may carry the `transformer.` prefix (save_pretrained) or not (the hub's gpt2).

Sources, in order: an explicit folder, ATTN_DECODER_DIR, the folder shipped in the repository
(models/tiny-gpt2-pydoc/ at the root, beside the attn_jax package).

Holds: DecoderConfig, resolve_decoder_dir, read_decoder_config, read_gpt2_weights (through
`files.read_safetensors`), write_gpt2_checkpoint, params_from_gpt2 / gpt2_from_params (GPT-2
names <-> our params pytree) and BPETokenizer.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from attn_jax.models.block import HeadSizes
from attn_jax.models.files import ModelNotFoundError, read_safetensors
from attn_jax.models.layer_stack import host_layer, n_layers, stack_layers

FILES = ("config.json", "tokenizer.json", "model.safetensors")
ENV_DIR = "ATTN_DECODER_DIR"
SHIPPED_NAME = "tiny-gpt2-pydoc"
SHIPPED_DIR = Path(__file__).resolve().parents[2] / "models" / SHIPPED_NAME
HINT = (
    f"Pass a folder, or set {ENV_DIR} to one, holding {', '.join(FILES)} of a GPT-2, Llama "
    "or Mistral checkpoint (e.g. gpt2 or distilgpt2 from the Hugging Face Hub), or train the "
    "shipped model with `python scripts/train_decoder.py`."
)


@dataclass(frozen=True)
class DecoderConfig(HeadSizes):
    """The decoder's sizes, read from (and written to) a GPT-2 config.json.

    head_dim (D/N), kv_heads (= N: GPT-2 is multi-head) and d_ff are properties; the fields
    are exactly config.json's (see to_hf_dict), and ModelConfig uses the same names.
    """

    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    n_positions: int = 256
    vocab_size: int = 4096
    n_inner: int | None = None  # MLP width; None = 4·D as in GPT-2
    layer_norm_epsilon: float = 1e-5
    # what the Llama layouts' LlamaConfig has as fields (class constants: not in config.json)
    layout: ClassVar[str] = "gpt2"
    rope_theta: ClassVar[float | None] = None  # learned positions, no RoPE
    sliding_window: ClassVar[int | None] = None

    @property
    def d_ff(self) -> int:
        """F, the MLP width."""
        return self.n_inner or 4 * self.n_embd

    @classmethod
    def from_dict(cls, cfg: dict) -> DecoderConfig:
        if cfg.get("model_type", "gpt2") != "gpt2":
            raise ValueError(f"not a GPT-2 config: model_type {cfg.get('model_type')!r}")
        act = cfg.get("activation_function", "gelu_new")
        if act not in ("gelu_new", "gelu_pytorch_tanh"):
            raise ValueError(f"only GPT-2's tanh GELU is implemented, config has {act!r}")
        if int(cfg["n_embd"]) % int(cfg["n_head"]):
            raise ValueError("n_embd must be a multiple of n_head")
        return cls(
            n_layer=int(cfg["n_layer"]),
            n_head=int(cfg["n_head"]),
            n_embd=int(cfg["n_embd"]),
            n_positions=int(cfg["n_positions"]),
            vocab_size=int(cfg["vocab_size"]),
            n_inner=cfg.get("n_inner"),
            layer_norm_epsilon=float(cfg.get("layer_norm_epsilon", 1e-5)),
        )

    def to_hf_dict(self, eos_token_id: int = 0) -> dict:
        """A config.json that transformers' GPT2LMHeadModel reads as this architecture."""
        return {
            "architectures": ["GPT2LMHeadModel"],
            "model_type": "gpt2",
            "activation_function": "gelu_new",
            **asdict(self),
            "n_ctx": self.n_positions,
            "attn_pdrop": 0.0,
            "embd_pdrop": 0.0,
            "resid_pdrop": 0.0,
            "initializer_range": 0.02,
            "scale_attn_weights": True,
            "tie_word_embeddings": True,
            "bos_token_id": eos_token_id,
            "eos_token_id": eos_token_id,
        }


def _missing(folder: Path) -> list[str]:
    return [name for name in FILES if not (folder / name).is_file()]


def resolve_decoder_dir(source: str | os.PathLike | None = None) -> Path:
    """The folder to load: `source`, else ATTN_DECODER_DIR, else the shipped one.

    Raises ModelNotFoundError (saying what is missing and how to get a model) otherwise.
    """
    if source is not None:
        path, origin = Path(source).expanduser(), "The decoder folder"
    elif os.environ.get(ENV_DIR):
        path, origin = Path(os.environ[ENV_DIR]).expanduser(), ENV_DIR
    else:
        path, origin = SHIPPED_DIR, "The shipped decoder folder"
    missing = _missing(path)
    if missing:
        raise ModelNotFoundError(f"{origin} {str(path)!r} lacks {', '.join(missing)}. {HINT}")
    return path


def read_decoder_config(folder: Path) -> DecoderConfig:
    return DecoderConfig.from_dict(json.loads((folder / "config.json").read_text("utf-8")))


def _is_buffer(name: str) -> bool:
    """Old checkpoints store the causal mask as `h.i.attn.bias` / `attn.masked_bias`; the tied
    `lm_head.weight`, when present, is the token embedding and is not needed."""
    return name.endswith((".attn.bias", ".attn.masked_bias")) or name == "lm_head.weight"


def read_gpt2_weights(folder: Path) -> dict[str, np.ndarray]:
    """model.safetensors as float32 numpy, names without `transformer.`; buffers dropped."""
    return read_safetensors(folder / "model.safetensors", "transformer.", _is_buffer)


def write_gpt2_checkpoint(
    folder: Path,
    weights: dict[str, np.ndarray],
    config: DecoderConfig,
    tokenizer_json: str,
    eos_token_id: int = 0,
) -> None:
    """Write config.json, model.safetensors (`transformer.` names) and tokenizer.json."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    cfg = config.to_hf_dict(eos_token_id)
    (folder / "config.json").write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
    tensors = {f"transformer.{k}": np.ascontiguousarray(v, np.float32) for k, v in weights.items()}
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")


_LAYER_NAMES = {  # our name -> GPT-2's (under h.{i}.)
    "w_qkv": "attn.c_attn.weight",
    "b_qkv": "attn.c_attn.bias",
    "w_o": "attn.c_proj.weight",
    "b_o": "attn.c_proj.bias",
    "w_fc": "mlp.c_fc.weight",
    "b_fc": "mlp.c_fc.bias",
    "w_proj": "mlp.c_proj.weight",
    "b_proj": "mlp.c_proj.bias",
}


def params_from_gpt2(w: dict[str, np.ndarray]) -> dict:
    """GPT-2 names (without `transformer.`) -> our params pytree (numpy; Conv1D is x·W)."""
    n_layer = 1 + max(int(k.split(".")[1]) for k in w if k.startswith("h."))

    def layer(i: int) -> dict:
        p = f"h.{i}."
        out = {ours: w[p + theirs] for ours, theirs in _LAYER_NAMES.items()}
        out["ln_1"] = (w[p + "ln_1.weight"], w[p + "ln_1.bias"])
        out["ln_2"] = (w[p + "ln_2.weight"], w[p + "ln_2.bias"])
        return out

    return {
        "wte": w["wte.weight"],
        "wpe": w["wpe.weight"],
        "ln_f": (w["ln_f.weight"], w["ln_f.bias"]),
        "layers": stack_layers([layer(i) for i in range(n_layer)]),  # [L,...] each
    }


def gpt2_from_params(params: dict) -> dict[str, np.ndarray]:
    """Our params pytree -> GPT-2 names (without `transformer.`), as float32 numpy."""
    put = functools.partial(np.asarray, dtype=np.float32)
    out = {"wte.weight": put(params["wte"]), "wpe.weight": put(params["wpe"])}
    out["ln_f.weight"], out["ln_f.bias"] = map(put, params["ln_f"])
    for i in range(n_layers(params["layers"])):
        layer = host_layer(params["layers"], i)
        for ours, theirs in _LAYER_NAMES.items():
            out[f"h.{i}.{theirs}"] = put(layer[ours])
        for ln in ("ln_1", "ln_2"):
            out[f"h.{i}.{ln}.weight"], out[f"h.{i}.{ln}.bias"] = map(put, layer[ln])
    return out


class BPETokenizer:
    """tokenizer.json through `tokenizers` (byte-level BPE as GPT-2's, or a Llama-style BPE
    with byte fallback): ids and readable token strings.

    eos_id: the end-of-text id (default: that of `<|endoftext|>`, None if there is none)."""

    def __init__(self, path: Path, max_tokens: int, eos_id: int | None = None):
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(path))
        tok.no_truncation()  # truncation and padding mutate shared state: cut by hand
        tok.no_padding()
        self._tok = tok
        self.max_tokens = max_tokens
        self.vocab_size = tok.get_vocab_size()
        self.eos_id = tok.token_to_id("<|endoftext|>") if eos_id is None else int(eos_id)

    def encode(self, text: str) -> tuple[list[int], bool]:
        """(ids, truncated): no special tokens added; lone surrogates become "?"."""
        if not isinstance(text, str):
            raise TypeError(f"text must be str, got {type(text).__name__}")
        text = text.encode("utf-8", "replace").decode("utf-8")
        ids = self._tok.encode(text, add_special_tokens=False).ids
        return ids[: self.max_tokens], len(ids) > self.max_tokens

    def token_strings(self, ids) -> list[str]:
        """Each id decoded on its own (" the", "\\n"); a split UTF-8 character shows as "�".

        A SentencePiece-style token ("▁the", Llama 2's metaspace) keeps its leading space,
        which the decoder's Strip step would drop from a token decoded on its own."""
        return [self._token_string(int(i)) for i in ids]

    def _token_string(self, i: int) -> str:
        text = self._tok.decode([i], skip_special_tokens=False)
        piece = self._tok.id_to_token(i) or ""
        return " " + text if piece.startswith("▁") and not text.startswith(" ") else text
