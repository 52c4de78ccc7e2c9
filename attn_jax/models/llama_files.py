"""Llama- and Mistral-layout checkpoints (Hugging Face): config, reading and writing weights.

A folder holds config.json ("model_type": "llama" or "mistral"), model.safetensors (names
`model.layers.0.self_attn.q_proj.weight` …, torch's Linear layout [out, in], used as x·Wᵀ)
and tokenizer.json. What is read: RMSNorm, RoPE with `rope_theta` (plain RoPE only: a
`rope_scaling` / `rope_parameters` type other than "default" is refused), a SwiGLU MLP,
grouped-query attention (`num_key_value_heads` K <= N), `head_dim`, tied or untied
embeddings, and, for Mistral, `sliding_window` (null: none).

Our params pytree (x·W layout, like the GPT-2 decoder's; the fused Q|K|V of `block`):
    wte [V,D], ln_f (gain [D]), lm_head [V,D] (only when untied), layers (stacked [L,...]):
    ln_1, ln_2 (gain [D]); w_qkv [D,(N+2K)·H] (columns Q | K | V), b_qkv zeros [(N+2K)·H];
    w_o [N·H,D]; w_gate, w_up [D,F]; w_down [F,D].
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attn_jax.models.files import read_safetensors
from attn_jax.models.layer_stack import host_layer, n_layers

LAYOUTS = ("llama", "mistral")


@dataclass(frozen=True)
class LlamaConfig:
    """A Llama/Mistral decoder's sizes, with the GPT-2 decoder's field names (n_layer, n_head,
    n_embd, head_dim, kv_heads, d_ff, n_positions, vocab_size, layer_norm_epsilon)."""

    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    n_kv_head: int = 2  # K, the key/value heads (`num_key_value_heads`)
    head_dim: int = 32  # H; Llama's default D/N, any value in newer configs
    d_ff: int = 384  # F, SwiGLU width (`intermediate_size`)
    n_positions: int = 128  # `max_position_embeddings`
    vocab_size: int = 4096
    layer_norm_epsilon: float = 1e-5  # RMSNorm's eps (`rms_norm_eps`)
    rope_theta: float = 10000.0
    sliding_window: int | None = None  # Mistral: query i sees keys i-W+1 .. i
    tie_word_embeddings: bool = True
    layout: str = "llama"  # "llama" or "mistral"

    @property
    def kv_heads(self) -> int:
        """K, the number of key/value heads; query head n reads K/V head n // (N/K)."""
        return self.n_kv_head

    @property
    def window(self) -> tuple[int, int] | None:
        """The kernel's `local_window_size` (left, right) for the sliding window, or None."""
        return None if self.sliding_window is None else (self.sliding_window - 1, 0)

    @classmethod
    def from_dict(cls, cfg: dict) -> LlamaConfig:
        layout = cfg.get("model_type")
        if layout not in LAYOUTS:
            raise ValueError(f"not a Llama or Mistral config: model_type {layout!r}")
        _refuse_unsupported(cfg)
        n_head = int(cfg["num_attention_heads"])
        n_embd = int(cfg["hidden_size"])
        n_kv = int(cfg.get("num_key_value_heads") or n_head)
        if n_kv < 1 or n_head % n_kv:
            raise ValueError(f"num_key_value_heads ({n_kv}) must divide num_attention_heads")
        window = cfg.get("sliding_window") if layout == "mistral" else None
        return cls(
            n_layer=int(cfg["num_hidden_layers"]),
            n_head=n_head,
            n_embd=n_embd,
            n_kv_head=n_kv,
            head_dim=int(cfg.get("head_dim") or n_embd // n_head),
            d_ff=int(cfg["intermediate_size"]),
            n_positions=int(cfg.get("max_position_embeddings", 2048)),
            vocab_size=int(cfg["vocab_size"]),
            layer_norm_epsilon=float(cfg.get("rms_norm_eps", 1e-6)),
            rope_theta=float(_rope(cfg).get("rope_theta", cfg.get("rope_theta", 10000.0))),
            sliding_window=None if window is None else int(window),
            tie_word_embeddings=bool(cfg.get("tie_word_embeddings", False)),
            layout=layout,
        )

    def to_hf_dict(self, eos_token_id: int = 0) -> dict:
        """A config.json that transformers' LlamaForCausalLM (MistralForCausalLM) reads."""
        name = {"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM"}[self.layout]
        out = {
            "architectures": [name],
            "model_type": self.layout,
            "hidden_act": "silu",
            "num_hidden_layers": self.n_layer,
            "num_attention_heads": self.n_head,
            "num_key_value_heads": self.n_kv_head,
            "hidden_size": self.n_embd,
            "head_dim": self.head_dim,
            "intermediate_size": self.d_ff,
            "max_position_embeddings": self.n_positions,
            "vocab_size": self.vocab_size,
            "rms_norm_eps": self.layer_norm_epsilon,
            "rope_theta": self.rope_theta,
            "rope_scaling": None,
            "attention_bias": False,
            "attention_dropout": 0.0,
            "mlp_bias": False,
            "tie_word_embeddings": self.tie_word_embeddings,
            "initializer_range": 0.02,
            "bos_token_id": eos_token_id,
            "eos_token_id": eos_token_id,
            "torch_dtype": "float32",
        }
        if self.layout == "mistral":
            out["sliding_window"] = self.sliding_window
        return out


def _rope(cfg: dict) -> dict:
    """The RoPE settings: transformers 5's `rope_parameters`, else the older `rope_scaling`."""
    return cfg.get("rope_parameters") or cfg.get("rope_scaling") or {}


def _refuse_unsupported(cfg: dict) -> None:
    """ValueError naming what this implementation does not run."""
    rope_type = _rope(cfg).get("rope_type", _rope(cfg).get("type", "default"))
    if rope_type not in (None, "default"):
        raise ValueError(
            f"rope scaling {rope_type!r} is not implemented: only plain RoPE (rope_type "
            "'default', angles m·rope_theta^(-2i/H)) is supported"
        )
    act = cfg.get("hidden_act", "silu")
    if act != "silu":
        raise ValueError(f"only the SwiGLU MLP (hidden_act 'silu') is implemented, not {act!r}")
    for flag in ("attention_bias", "mlp_bias"):
        if cfg.get(flag):
            raise ValueError(f"{flag}: true is not implemented (Llama and Mistral have none)")
    if int(cfg["hidden_size"]) % int(cfg["num_attention_heads"]) and not cfg.get("head_dim"):
        raise ValueError("hidden_size must be a multiple of num_attention_heads")


def read_llama_config(folder: Path) -> LlamaConfig:
    return LlamaConfig.from_dict(json.loads((folder / "config.json").read_text("utf-8")))


_LAYER_NAMES = {  # our name -> theirs (under model.layers.{i}.), torch Linear [out, in]
    "w_o": "self_attn.o_proj.weight",
    "w_gate": "mlp.gate_proj.weight",
    "w_up": "mlp.up_proj.weight",
    "w_down": "mlp.down_proj.weight",
}
_QKV = ("self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight")


def read_llama_weights(folder: Path) -> dict[str, np.ndarray]:
    """model.safetensors as float32 numpy, names without `model.` (lm_head.weight kept)."""
    return read_safetensors(folder / "model.safetensors", "model.", lambda n: "rotary" in n)


def params_from_llama(w: dict[str, np.ndarray], cfg: LlamaConfig) -> dict:
    """Llama names (without `model.`) -> our params pytree (numpy, x·W layout).

    Empties `w` as it goes (each weight is popped once it is stacked), so reading a
    checkpoint holds about one copy of the weights at a time, not two."""

    def stacked(pieces) -> np.ndarray:  # pieces(i) -> layer i's array; [L,...]
        first = pieces(0)
        out = np.empty((cfg.n_layer, *first.shape), np.float32)
        out[0] = first
        for i in range(1, cfg.n_layer):
            out[i] = pieces(i)
        return out

    def take(i: int, name: str) -> np.ndarray:
        return w.pop(f"layers.{i}.{name}")

    layers = {
        "w_qkv": stacked(lambda i: np.concatenate([take(i, n).T for n in _QKV], axis=1)),
        **{
            ours: stacked(lambda i, t=theirs: take(i, t).T) for ours, theirs in _LAYER_NAMES.items()
        },
        "ln_1": stacked(lambda i: take(i, "input_layernorm.weight")),
        "ln_2": stacked(lambda i: take(i, "post_attention_layernorm.weight")),
    }
    layers["b_qkv"] = np.zeros(layers["w_qkv"].shape[::2], np.float32)  # [L,(N+2K)·H]
    params = {"wte": w.pop("embed_tokens.weight"), "ln_f": w.pop("norm.weight"), "layers": layers}
    if not cfg.tie_word_embeddings:
        params["lm_head"] = w.pop("lm_head.weight")
    return params


def llama_from_params(params: dict, cfg: LlamaConfig) -> dict[str, np.ndarray]:
    """Our params pytree -> Hugging Face Llama names (with `model.`), float32 numpy."""
    put = lambda a: np.ascontiguousarray(np.asarray(a, np.float32))  # noqa: E731
    out = {
        "model.embed_tokens.weight": put(params["wte"]),
        "model.norm.weight": put(params["ln_f"]),
    }
    if "lm_head" in params:
        out["lm_head.weight"] = put(params["lm_head"])
    n, kv, h = cfg.n_head, cfg.kv_heads, cfg.head_dim
    for i in range(n_layers(params["layers"])):
        layer, p = host_layer(params["layers"], i), f"model.layers.{i}."
        q, k, v = np.split(np.asarray(layer["w_qkv"]), [n * h, (n + kv) * h], axis=1)
        for name, a in zip(_QKV, (q, k, v), strict=True):
            out[p + name] = put(a.T)
        for ours, theirs in _LAYER_NAMES.items():
            out[p + theirs] = put(np.asarray(layer[ours]).T)
        out[p + "input_layernorm.weight"] = put(layer["ln_1"])
        out[p + "post_attention_layernorm.weight"] = put(layer["ln_2"])
    return out


def write_llama_checkpoint(
    folder: Path, params: dict, config: LlamaConfig, tokenizer_json: str, eos_token_id: int = 0
) -> None:
    """Write config.json, model.safetensors (Hugging Face Llama names) and tokenizer.json."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    cfg = config.to_hf_dict(eos_token_id)
    (folder / "config.json").write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
    tensors = llama_from_params(params, config)
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
