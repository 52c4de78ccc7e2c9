"""all-MiniLM-L6-v2 (a 6-layer BERT encoder) run in JAX by our own `attention_weights`.

    x = LN(word[ids] + pos[0:T] + type[0]);  for each layer:   (word[ids] gathered on the host
                                                               from the memory-mapped table)
    x = LN(x + Attn(x)·W_O);  x = LN(x + GELU(x·W_1)·W_2)

Inputs are padded to a few length buckets (`buckets.BUCKETS`) with a key padding mask, so a
new sentence length inside a bucket reuses the bucket's compiled function.

This module holds ModelConfig (GPT-2's names for BERT's sizes, as DecoderConfig has them),
EncoderOutput, the forward pass, Encoder (the same surface as the Decoder: config, params,
tokenizer, run, warm_up, head_weights, output_weights) and load_model.

`params` (what `Encoder.params` holds; x·W layout, layers stacked [L,...]):
    pos [P,D], type0 [D], ln (gain [D], bias [D]), layers: ln1, ln2 (gain, bias);
    w_qkv [D,N·H+2·K·H], b_qkv (Q | K | V, see `block`); w_o [D,D], b_o [D];
    w_1 [D,F], b_1 [F]; w_2 [F,D], b_2 [D]. The word table [V,D] stays memory-mapped on the
    host (`Encoder.word_table`).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from attn_jax.kernels.plain import attention_weights, repeat_kv
from attn_jax.models import block
from attn_jax.models.block import HeadSizes, layer_norm, split_qkv
from attn_jax.models.buckets import BUCKETS, CompiledBuckets, bucket_for
from attn_jax.models.files import (
    WORD_EMBEDDINGS,
    ModelNotFoundError,
    WordPieceTokenizer,
    read_config,
    read_weights,
    resolve_source,
    word_embeddings,
)
from attn_jax.models.layer_stack import stack_layers

__all__ = ["Encoder", "EncoderOutput", "ModelConfig", "ModelNotFoundError", "load_model"]


@dataclass(frozen=True)
class ModelConfig(HeadSizes):
    """The encoder's sizes, read from a BERT config.json, under GPT-2's names.

    head_dim (D/N) and kv_heads (n_kv_head, else N) are properties, as in DecoderConfig.
    """

    n_layer: int = 6
    n_head: int = 12
    n_embd: int = 384
    d_ff: int = 1536
    vocab_size: int = 30522
    n_positions: int = 512
    layer_norm_epsilon: float = 1e-12
    n_kv_head: int | None = None  # K/V heads K; None: one per query head (MHA)

    @classmethod
    def from_dict(cls, cfg: dict) -> ModelConfig:
        act = cfg.get("hidden_act", "gelu")
        if act != "gelu":
            raise ValueError(f"only the exact erf GELU is implemented, config has {act!r}")
        if int(cfg["hidden_size"]) % int(cfg["num_attention_heads"]):
            raise ValueError("hidden_size must be a multiple of num_attention_heads")
        return cls(
            n_layer=int(cfg["num_hidden_layers"]),
            n_head=int(cfg["num_attention_heads"]),
            n_embd=int(cfg["hidden_size"]),
            d_ff=int(cfg["intermediate_size"]),
            vocab_size=int(cfg["vocab_size"]),
            n_positions=int(cfg["max_position_embeddings"]),
            layer_norm_epsilon=float(cfg.get("layer_norm_eps", 1e-12)),
        )


@dataclass(frozen=True)
class EncoderOutput:
    """One encoded text, as plain numpy (picklable). T tokens, no padding."""

    text: str
    tokens: list[str]  # word pieces incl. [CLS]/[SEP]
    input_ids: np.ndarray  # int32 [T]
    attentions: np.ndarray  # float32 [L,N,T,T]
    queries: np.ndarray  # float32 [L,N,T,H] after projection + bias
    keys: np.ndarray  # float32 [L,K,T,H] (K = N unless grouped-query)
    hidden_states: np.ndarray  # float32 [L+1,T,D]: embeddings, then each layer's output
    truncated: bool  # the text had more than max_tokens pieces and was cut
    values: np.ndarray | None = None  # float32 [L,K,T,H] after projection + bias


def _params(w: dict[str, np.ndarray], cfg: ModelConfig) -> dict:
    """Torch-layout weights -> jnp arrays for x·W, with Q/K/V fused into one [D,3D] matrix."""
    e, put = "embeddings.", jnp.asarray

    def gain_bias(name: str) -> tuple:
        return w[name + "weight"], w[name + "bias"]

    def layer(i: int) -> dict:  # numpy: stacked on the host, then one copy to the device
        p = f"encoder.layer.{i}."
        qkv = [p + f"attention.self.{n}." for n in ("query", "key", "value")]
        return {
            "w_qkv": np.concatenate([w[n + "weight"].T for n in qkv], axis=1),  # [D,3D]
            "b_qkv": np.concatenate([w[n + "bias"] for n in qkv]),
            "w_o": w[p + "attention.output.dense.weight"].T,  # [D,D]
            "b_o": w[p + "attention.output.dense.bias"],
            "ln1": gain_bias(p + "attention.output.LayerNorm."),
            "w_1": w[p + "intermediate.dense.weight"].T,  # [D,F]
            "b_1": w[p + "intermediate.dense.bias"],
            "w_2": w[p + "output.dense.weight"].T,  # [F,D]
            "b_2": w[p + "output.dense.bias"],
            "ln2": gain_bias(p + "output.LayerNorm."),
        }

    stacked = stack_layers([layer(i) for i in range(cfg.n_layer)])  # [L,...] each
    return jax.tree.map(
        put,
        {
            "pos": w[e + "position_embeddings.weight"],  # [P,D]
            "type0": w[e + "token_type_embeddings.weight"][0],  # [D]
            "ln": gain_bias(e + "LayerNorm."),
            "layers": stacked,
        },
    )


def _layer(x, p, key_mask, cfg: ModelConfig):
    """One BERT layer on x [T,D]; returns (x [T,D], weights [N,T,T], q [T,N,H], k, v [T,K,H])."""
    t, n, h = x.shape[0], cfg.n_head, cfg.head_dim
    qkv = x @ p["w_qkv"] + p["b_qkv"]  # [T,N·H+2·K·H]
    q, k, v = (a[None] for a in split_qkv(qkv, cfg))  # [B=1,T,N,H], [B,T,K,H], [B,T,K,H]
    weights = attention_weights(q, k, mask=key_mask)  # [1,N,T,S]; K < N: grouped-query
    ctx = jnp.einsum("BNTS,BSNH->BTNH", weights, repeat_kv(v, n)).reshape(t, n * h)  # [T,D]
    x = layer_norm(x + ctx @ p["w_o"] + p["b_o"], p["ln1"], cfg.layer_norm_epsilon)
    ff = jax.nn.gelu(x @ p["w_1"] + p["b_1"], approximate=False)  # [T,F]
    x = layer_norm(x + ff @ p["w_2"] + p["b_2"], p["ln2"], cfg.layer_norm_epsilon)
    return x, weights[0], q[0], k[0], v[0]


@functools.partial(jax.jit, static_argnames=("cfg",))
def _forward(params, words, n_valid, cfg: ModelConfig):
    """Encoder on word embeddings [P,D] padded to a bucket, n_valid real tokens.

    Returns:
      attentions [L,N,P,P], queries [L,N,P,H], keys [L,K,P,H], hidden [L+1,P,D],
      values [L,K,P,H].
    """
    p_len = words.shape[0]
    x = words + params["pos"][:p_len] + params["type0"]  # [P,D]
    x = layer_norm(x, params["ln"], cfg.layer_norm_epsilon)
    key_mask = (jnp.arange(p_len) < n_valid)[None, None, None, :]  # [B,1,1,S] True = real

    def step(x, layer):
        x, weights, q, k, v = _layer(x, layer, key_mask, cfg)
        heads = (a.transpose(1, 0, 2) for a in (q, k, v))  # [N,P,H], [K,P,H], [K,P,H]
        return x, (x, weights, *heads)

    # one compiled block, scanned over the stacked layers (not L unrolled copies)
    _, (hidden, atts, qs, ks, vs) = jax.lax.scan(step, x, params["layers"])
    return atts, qs, ks, jnp.concatenate([x[None], hidden]), vs


def _own_jit():
    """A new jit of the forward pass: its caches go when it does."""
    return jax.jit(lambda *args, **kw: _forward.__wrapped__(*args, **kw), static_argnames="cfg")


_spec = jax.ShapeDtypeStruct


class Encoder:
    """A loaded all-MiniLM-L6-v2; `run(text)` is safe to call from several threads.

    Attributes:
      config: ModelConfig. params: the weights (see the module docstring), jnp arrays.
      word_table: [V,D] numpy (memory-mapped: a text's rows are gathered on the host).
      tokenizer: WordPieceTokenizer. source_label: where it was loaded from.
      buckets: padded lengths. compiled: CompiledBuckets, the forward pass per bucket.
    """

    buckets = BUCKETS
    max_tokens = BUCKETS[-1]
    is_causal = False

    def __init__(
        self,
        config: ModelConfig,
        params: dict,
        word_table,
        tokenizer,
        source_label: str,
        *,
        own_jit: bool = False,
    ):
        """`own_jit`: compile with a jit of its own, so that JAX's caches keep nothing of it
        once it is dropped (for a derived model used briefly, such as a grouped-query one)."""
        self.config = config
        self.source_label = source_label
        self.params = params
        self.word_table = word_table
        self.tokenizer = tokenizer
        n_embd = config.n_embd
        self.compiled = CompiledBuckets(
            _own_jit() if own_jit else _forward,
            lambda bucket: (params, _spec((bucket, n_embd), jnp.float32), _spec((), jnp.int32)),
            cfg=config,
        )

    def warm_up(self, buckets=None) -> None:
        """Compile the given buckets (default: all) now rather than on first use."""
        self.compiled.warm_up(self.buckets if buckets is None else buckets)

    def tokenize(self, text: str) -> list[str]:
        """The word pieces `run` would see, incl. [CLS]/[SEP] (no model run)."""
        return self.tokenizer.encode(text).tokens

    def run(self, text: str) -> EncoderOutput:
        """Encode `text` (any str; "" gives [CLS] [SEP]); numpy results without padding."""
        pieces = self.tokenizer.encode(text)
        t = len(pieces.ids)
        bucket = bucket_for(t, self.buckets)
        ids = np.zeros(bucket, np.int32)
        ids[:t] = pieces.ids
        atts, qs, ks, hidden, vs = self._padded(ids, t)
        return EncoderOutput(
            text=text,
            tokens=pieces.tokens,
            input_ids=ids[:t].copy(),
            attentions=np.asarray(atts)[:, :, :t, :t].copy(),
            queries=np.asarray(qs)[:, :, :t].copy(),
            keys=np.asarray(ks)[:, :, :t].copy(),
            hidden_states=np.asarray(hidden)[:, :t].copy(),
            truncated=pieces.truncated,
            values=np.asarray(vs)[:, :, :t].copy(),
        )

    def _padded(self, ids: np.ndarray, n_valid: int):
        """forward_padded's arrays, then values [L,K,P,H]."""
        words = np.asarray(self.word_table[ids], np.float32)  # [P,D], only these rows read
        return self.compiled(len(ids))(self.params, words, np.int32(n_valid))

    def forward_padded(self, ids: np.ndarray, n_valid: int):
        """The bucket's compiled pass on ids [P] (P a bucket) with n_valid real tokens.

        Returns:
          device arrays: attentions [L,N,P,P], queries, keys [L,N,P,H], hidden [L+1,P,D].
        """
        return self._padded(ids, n_valid)[:4]

    def head_weights(self, layer: int, head: int) -> dict[str, np.ndarray]:
        """One head's slices: w_q, w_k, w_v [D,H], b_q, b_k, b_v [H], w_o [H,D] (`block`)."""
        return block.head_weights(self.params["layers"], self.config, layer, head)

    def output_weights(self) -> np.ndarray:
        """W_O split by the head whose output it reads: [L,N,H,D]."""
        return block.output_weights(self.params["layers"], self.config)

    def embed(self, text: str) -> tuple[list[str], np.ndarray]:
        """The embedding layer's output (after its LayerNorm): (tokens, x [T,D])."""
        out = self.run(text)
        return out.tokens, out.hidden_states[0]


def load_model(source: str | os.PathLike | None = None) -> Encoder:
    """Load all-MiniLM-L6-v2 from a folder, ATTN_MODEL_DIR, the package or the Hub.

    Args:
      source: a folder with config.json, tokenizer.json, model.safetensors (optional).

    Returns:
      An Encoder. Raises ModelNotFoundError (with how to install the model) when none works.
    """
    found = resolve_source(source)
    config = ModelConfig.from_dict(read_config(found.path))
    params = _params(read_weights(found.path, skip=(WORD_EMBEDDINGS,)), config)
    tokenizer = WordPieceTokenizer(found.path / "tokenizer.json", Encoder.max_tokens)
    return Encoder(config, params, word_embeddings(found.path), tokenizer, found.label)
