"""all-MiniLM-L6-v2 (a 6-layer BERT encoder) run in JAX by our own `attention_weights`.

    x = LN(word[ids] + pos[0:T] + type[0]);  for each layer:   (word[ids] gathered on the host
                                                               from the memory-mapped table)
    x = LN(x + Attn(x)·W_O);  x = LN(x + GELU(x·W_1)·W_2)

Inputs are padded to a few length buckets with a key padding mask, so a new sentence length
inside a bucket reuses the bucket's compiled function.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from attn_jax.kernels.plain import attention_weights, repeat_kv
from attn_jax.memory import COMPILE_LOCK
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

BUCKETS = (16, 32, 64, 128, 256)


@dataclass(frozen=True)
class ModelConfig:
    """The encoder's sizes, read from config.json."""

    n_layers: int = 6
    n_heads: int = 12
    d_model: int = 384
    head_dim: int = 32
    d_ff: int = 1536
    vocab_size: int = 30522
    max_positions: int = 512
    layer_norm_eps: float = 1e-12
    n_kv_heads: int | None = None  # K/V heads K; None: one per query head (MHA)

    @property
    def kv_heads(self) -> int:
        """K, the number of key/value heads (N unless the model is grouped-query)."""
        return self.n_kv_heads or self.n_heads

    @classmethod
    def from_dict(cls, cfg: dict) -> ModelConfig:
        act = cfg.get("hidden_act", "gelu")
        if act != "gelu":
            raise ValueError(f"only the exact erf GELU is implemented, config has {act!r}")
        return cls(
            n_layers=int(cfg["num_hidden_layers"]),
            n_heads=int(cfg["num_attention_heads"]),
            d_model=int(cfg["hidden_size"]),
            head_dim=int(cfg["hidden_size"]) // int(cfg["num_attention_heads"]),
            d_ff=int(cfg["intermediate_size"]),
            vocab_size=int(cfg["vocab_size"]),
            max_positions=int(cfg["max_position_embeddings"]),
            layer_norm_eps=float(cfg.get("layer_norm_eps", 1e-12)),
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

    stacked = stack_layers([layer(i) for i in range(cfg.n_layers)])  # [L,...] each
    return jax.tree.map(
        put,
        {
            "pos": w[e + "position_embeddings.weight"],  # [P,D]
            "type0": w[e + "token_type_embeddings.weight"][0],  # [D]
            "ln": gain_bias(e + "LayerNorm."),
            "layers": stacked,
        },
    )


def _layer_norm(x, gain_bias, eps: float):
    gain, bias = gain_bias
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(var + eps) * gain + bias


def _layer(x, p, key_mask, cfg: ModelConfig):
    """One BERT layer on x [T,D]; returns (x [T,D], weights [N,T,T], q [T,N,H], k, v [T,K,H])."""
    t, n, h, kv = x.shape[0], cfg.n_heads, cfg.head_dim, cfg.kv_heads
    qkv = x @ p["w_qkv"] + p["b_qkv"]  # [T,N·H+2·K·H]
    q, k, v = jnp.split(qkv, [n * h, (n + kv) * h], axis=-1)
    q, k, v = q.reshape(1, t, n, h), k.reshape(1, t, kv, h), v.reshape(1, t, kv, h)  # [B=1,T,·,H]
    weights = attention_weights(q, k, mask=key_mask)  # [1,N,T,S]; K < N: grouped-query
    ctx = jnp.einsum("BNTS,BSNH->BTNH", weights, repeat_kv(v, n)).reshape(t, n * h)  # [T,D]
    x = _layer_norm(x + ctx @ p["w_o"] + p["b_o"], p["ln1"], cfg.layer_norm_eps)
    ff = jax.nn.gelu(x @ p["w_1"] + p["b_1"], approximate=False)  # [T,F]
    x = _layer_norm(x + ff @ p["w_2"] + p["b_2"], p["ln2"], cfg.layer_norm_eps)
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
    x = _layer_norm(x, params["ln"], cfg.layer_norm_eps)
    key_mask = (jnp.arange(p_len) < n_valid)[None, None, None, :]  # [B,1,1,S] True = real

    def block(x, layer):
        x, weights, q, k, v = _layer(x, layer, key_mask, cfg)
        heads = (a.transpose(1, 0, 2) for a in (q, k, v))  # [N,P,H], [K,P,H], [K,P,H]
        return x, (x, weights, *heads)

    # one compiled block, scanned over the stacked layers (not L unrolled copies)
    _, (hidden, atts, qs, ks, vs) = jax.lax.scan(block, x, params["layers"])
    return atts, qs, ks, jnp.concatenate([x[None], hidden]), vs


def _own_jit():
    """A new jit of the forward pass: its caches go when it does."""
    return jax.jit(lambda *args, **kw: _forward.__wrapped__(*args, **kw), static_argnames="cfg")


def bucket_for(n_tokens: int) -> int:
    """The smallest bucket that holds n_tokens (they never exceed the last bucket)."""
    return next(b for b in BUCKETS if b >= n_tokens)


class Encoder:
    """A loaded all-MiniLM-L6-v2; `run(text)` is safe to call from several threads."""

    max_tokens = BUCKETS[-1]

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
        self._forward = _own_jit() if own_jit else _forward
        self.config = config
        self.source_label = source_label
        self._params = params
        self._word_table = word_table  # [V,D] numpy, memory-mapped: gathered on the host
        self._tokenizer = tokenizer
        self._compiled: dict[int, object] = {}

    def _executable(self, bucket: int):
        """The bucket's compiled forward pass, compiled once (one compile at a time)."""
        fn = self._compiled.get(bucket)
        if fn is None:
            with COMPILE_LOCK:
                fn = self._compiled.get(bucket)
                if fn is None:
                    words = jax.ShapeDtypeStruct((bucket, self.config.d_model), jnp.float32)
                    n = jax.ShapeDtypeStruct((), jnp.int32)
                    # full float32 matmuls also on GPU/TPU (their default is TF32/bf16 passes),
                    # so every backend matches the reference implementation
                    with jax.default_matmul_precision("highest"):
                        lowered = self._forward.lower(self._params, words, n, cfg=self.config)
                    fn = lowered.compile()
                    self._compiled[bucket] = fn
        return fn

    def warm_up(self, buckets=BUCKETS) -> None:
        """Compile the given buckets now rather than on first use."""
        for bucket in buckets:
            self._executable(bucket)

    def tokenize(self, text: str) -> list[str]:
        """The word pieces `run` would see, incl. [CLS]/[SEP] (no model run)."""
        return self._tokenizer.encode(text).tokens

    def run(self, text: str) -> EncoderOutput:
        """Encode `text` (any str; "" gives [CLS] [SEP]); numpy results without padding."""
        pieces = self._tokenizer.encode(text)
        t = len(pieces.ids)
        bucket = bucket_for(t)
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
        words = np.asarray(self._word_table[ids], np.float32)  # [P,D], only these rows read
        return self._executable(len(ids))(self._params, words, np.int32(n_valid))

    def forward_padded(self, ids: np.ndarray, n_valid: int):
        """The bucket's compiled pass on ids [P] (P a bucket) with n_valid real tokens.

        Returns:
          device arrays: attentions [L,N,P,P], queries, keys [L,N,P,H], hidden [L+1,P,D].
        """
        return self._padded(ids, n_valid)[:4]

    def output_weights(self) -> np.ndarray:
        """W_O split by the head whose output it reads: [L,N,H,D] (rows n·H:(n+1)·H of W_O)."""
        cfg = self.config
        shape = (cfg.n_heads, cfg.head_dim, cfg.d_model)
        w_o = np.asarray(self._params["layers"]["w_o"])  # [L,D,D]
        return w_o.reshape(w_o.shape[0], *shape)

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
