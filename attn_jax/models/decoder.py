"""A GPT-2 causal decoder run in JAX by our own `attention_weights(..., is_causal=True)`.

    x = wte[ids] + wpe[0:T];  for each block:  x = x + Attn(LN_1(x))·W_O
                                               x = x + GELU_tanh(LN_2(x)·W_fc)·W_proj
    logits = LN_f(x)·wteᵀ   (output embedding tied to the input one)

Inputs are right-padded to a few length buckets. Causal attention means a real position never
sees the padding after it, so no extra mask is needed and a new length inside a bucket reuses
the bucket's compiled function.

Knocking out heads (`ablate=[(layer, head), ...]`) multiplies each head's output ctx
[B,T,N,H] by a head mask [L,N] of 1s and 0s before W_O (`block.head_mask`). The mask is an
argument of the compiled passes, not a constant in them, so a new set of heads never
recompiles.

`params` (what `Decoder.params` holds; x·W layout, as GPT-2's Conv1D stores it):
    wte [V,D], wpe [P,D], ln_f (gain [D], bias [D]), layers (stacked [L,...]):
    ln_1, ln_2 (gain, bias); w_qkv [D,3D], b_qkv [3D] (columns: Q | K | V, head n at
    n·H:(n+1)·H inside each; the layout of `block`); w_o [D,D], b_o [D] (rows of head n at
    n·H:(n+1)·H); w_fc [D,F], b_fc [F]; w_proj [F,D], b_proj [D].

This module holds the block's pieces (split_qkv, block_rest, unembed, also used by the
KV-cache decoder and training; causal_weights lives in `block`), forward, DecoderOutput,
Prediction, Decoder (the same surface as the Encoder: config, params, tokenizer, run,
warm_up, head_weights, output_weights; plus logits_of, attentions_of, predictions and
head_mask, with knock-out) and load_decoder. DecoderConfig (in gpt2_files) is re-exported.

The same Decoder runs the Llama and Mistral layouts (`llama`, `llama_files`: RMSNorm, RoPE,
SwiGLU, grouped-query attention, sliding window): the compiled passes pick the forward by
`config.layout` ("gpt2", "llama", "mistral"). There, queries and keys are the rotated ones,
keys and values have K heads ([L,K,T,H]) and `rope_steps` shows one head's rotation.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from attn_jax.models import block, llama
from attn_jax.models.block import causal_weights, layer_norm
from attn_jax.models.buckets import CompiledBuckets, bucket_for, buckets_for
from attn_jax.models.checkpoints import read_checkpoint
from attn_jax.models.gpt2_files import DecoderConfig, resolve_decoder_dir
from attn_jax.models.llama_files import LlamaConfig

__all__ = ["Decoder", "DecoderConfig", "DecoderOutput", "Prediction", "load_decoder"]

TOP_K = 10  # predictions kept per position by the compiled pass; run(k) takes the first k


def split_qkv(a, p, cfg: DecoderConfig):
    """LN_1 output a [B,T,D] -> q, k, v [B,T,N,H]."""
    return block.split_qkv(a @ p["w_qkv"] + p["b_qkv"], cfg)  # from [B,T,3D]


def block_rest(x, ctx, p, cfg: DecoderConfig):
    """Residual after attention (ctx [B,T,N,H]) and the MLP: x [B,T,D] -> [B,T,D]."""
    b, t, _ = x.shape
    x = x + ctx.reshape(b, t, cfg.n_embd) @ p["w_o"] + p["b_o"]
    m = layer_norm(x, p["ln_2"], cfg.layer_norm_epsilon)
    m = jax.nn.gelu(m @ p["w_fc"] + p["b_fc"], approximate=True)  # [B,T,F], GPT-2's gelu_new
    return x + m @ p["w_proj"] + p["b_proj"]


def _block(x, p, keep, cfg: DecoderConfig):
    """One pre-LN block on x [B,T,D], keep [N] or None (all heads); returns
    (x, weights [B,N,T,T], q, k, v [B,T,N,H])."""
    q, k, v = split_qkv(layer_norm(x, p["ln_1"], cfg.layer_norm_epsilon), p, cfg)
    weights = causal_weights(q, k)  # [B,N,T,S], exactly 0 where S > T
    ctx = jnp.einsum("BNTS,BSNH->BTNH", weights, v)
    if keep is not None:  # a 0 zeroes the head's slice of W_O's input at every position
        ctx = ctx * keep[:, None]  # [B,T,N,H]
    return block_rest(x, ctx, p, cfg), weights, q, k, v


def unembed(x, params, cfg: DecoderConfig):
    """Final LayerNorm and the tied output embedding: x [...,D] -> logits [...,V]."""
    return layer_norm(x, params["ln_f"], cfg.layer_norm_epsilon) @ params["wte"].T


def forward(params, ids, cfg: DecoderConfig, head_mask=None):
    """The decoder on ids [B,T] (T <= n_positions).

    Args:
      head_mask: None (every head), or float32 [L,N] multiplied into each head's output
        before W_O: 0 knocks head (l, n) out (`block.head_mask` makes it from pairs).

    Returns:
      logits [B,T,V]; weights [L,B,N,T,T]; q, k, v [L,B,T,N,H]; hidden [L+1,B,T,D]
      (the residual stream: embeddings, then each block's output, before ln_f).
    """
    x0 = params["wte"][ids] + params["wpe"][: ids.shape[1]]  # [B,T,D]

    def step(x, layer_keep):
        x, weights, q, k, v = _block(x, *layer_keep, cfg)
        return x, (x, weights, q, k, v)

    # one compiled block, scanned over the stacked layers (not L unrolled copies)
    xs = (params["layers"], head_mask)  # a None mask is an empty pytree: keep is None
    x, (hidden, atts, qs, ks, vs) = jax.lax.scan(step, x0, xs)
    return unembed(x, params, cfg), atts, qs, ks, vs, jnp.concatenate([x0[None], hidden])


def forward_of(cfg):
    """The forward pass of a config's layout: this module's (GPT-2) or `llama.forward`."""
    return forward if cfg.layout == "gpt2" else llama.forward


@functools.partial(jax.jit, static_argnames=("cfg",))
def _run_padded(params, ids, head_mask, cfg: DecoderConfig):
    """forward on one padded row ids [P], head_mask [L,N]; per head [L,N|K,P,·], top TOP_K."""
    logits, atts, qs, ks, vs, hidden = forward_of(cfg)(params, ids[None], cfg, head_mask)
    probs, top_ids = jax.lax.top_k(jax.nn.softmax(logits[0], axis=-1), TOP_K)  # [P,TOP_K]
    heads = [a[:, 0].transpose(0, 2, 1, 3) for a in (qs, ks, vs)]  # [L,N,P,H] each
    return atts[:, 0], *heads, hidden[:, 0], top_ids.astype(jnp.int32), probs


@functools.partial(jax.jit, static_argnames=("cfg",))
def _logits_padded(params, ids, head_mask, cfg: DecoderConfig):
    return forward_of(cfg)(params, ids[None], cfg, head_mask)[0][0]  # [P,V]


@dataclass(frozen=True)
class Prediction:
    """One candidate next token."""

    token: str
    id: int
    prob: float


@dataclass(frozen=True)
class DecoderOutput:
    """One text through the decoder, as plain numpy (picklable). T tokens, no padding."""

    text: str
    tokens: list[str]  # each id decoded on its own; no special tokens added
    input_ids: np.ndarray  # int32 [T]
    attentions: np.ndarray  # float32 [L,N,T,T], exactly 0 above the diagonal
    queries: np.ndarray  # float32 [L,N,T,H] after projection + bias (Llama: after RoPE)
    keys: np.ndarray  # float32 [L,K,T,H]: K = N but in a grouped-query model (Llama: RoPE'd)
    values: np.ndarray  # float32 [L,K,T,H]
    hidden_states: np.ndarray  # float32 [L+1,T,D]: embeddings, each block's output (pre ln_f)
    top_next_ids: np.ndarray  # int32 [T,k]: position t's most likely next tokens
    top_next_probs: np.ndarray  # float32 [T,k], descending
    next_token: list[Prediction]  # the top k after the last position ([] for empty text)
    truncated: bool  # the text had more than max_tokens tokens and was cut


class Decoder:
    """A loaded decoder (GPT-2, Llama or Mistral layout); `run(text)` is thread-safe.

    Attributes:
      config: DecoderConfig or LlamaConfig (`layout`). params: the weights (see the module
        docstring, or `llama_files` for Llama), jnp arrays.
      path: the folder it was loaded from; source_label: the same, as text.
      tokenizer: BPETokenizer. buckets: padded lengths.
      compiled: CompiledBuckets, the run pass per bucket (`logits_of` has its own).
    """

    is_causal = True

    def __init__(self, config: DecoderConfig | LlamaConfig, params: dict, tokenizer, path):
        self.config = config
        self.params = params = jax.tree.map(jnp.asarray, params)
        self.tokenizer = tokenizer
        self.path = path
        self.source_label = str(path)
        self.buckets = buckets_for(config.n_positions)
        self.max_tokens = self.buckets[-1]

        mask = jax.ShapeDtypeStruct((config.n_layer, config.n_head), jnp.float32)

        def args_for(bucket: int) -> tuple:
            return params, jax.ShapeDtypeStruct((bucket,), jnp.int32), mask

        self.compiled = CompiledBuckets(_run_padded, args_for, cfg=config)
        self._compiled_logits = CompiledBuckets(_logits_padded, args_for, cfg=config)

    def warm_up(self, buckets=None) -> None:
        """Compile the given buckets (default: all) now rather than on first use."""
        self.compiled.warm_up(self.buckets if buckets is None else buckets)

    def bucket_for(self, n_tokens: int) -> int:
        """The smallest of this model's buckets that holds n_tokens."""
        return bucket_for(n_tokens, self.buckets)

    def _padded(self, text: str) -> tuple[np.ndarray, int, bool]:
        ids, truncated = self.tokenizer.encode(text)
        return *self._pad_ids(ids), truncated

    def head_mask(self, ablate=None) -> np.ndarray:
        """(layer, head) pairs to knock out -> float32 [L,N] (ValueError if not in the model)."""
        return block.head_mask(ablate, self.config.n_layer, self.config.n_head)

    def run(self, text: str, k: int = 5, *, ablate=None) -> DecoderOutput:
        """Run `text` (any str); numpy results without padding, top-k predictions (k <= 10).

        ablate: (layer, head) pairs whose outputs are zeroed before W_O (see logits_of)."""
        if not 1 <= k <= TOP_K:
            raise ValueError(f"k must be in 1..{TOP_K}, got {k}")
        mask = self.head_mask(ablate)
        ids, t, truncated = self._padded(text)
        atts, qs, ks, vs, hidden, top_ids, top_probs = (
            np.asarray(a) for a in self.compiled(len(ids))(self.params, ids, mask)
        )
        top_ids, top_probs = top_ids[:t, :k].copy(), top_probs[:t, :k].copy()
        last = [] if t == 0 else self.predictions_at(top_ids[-1], top_probs[-1])
        return DecoderOutput(
            text=text,
            tokens=self.tokenizer.token_strings(ids[:t]),
            input_ids=ids[:t].copy(),
            attentions=atts[:, :, :t, :t].copy(),
            queries=qs[:, :, :t].copy(),
            keys=ks[:, :, :t].copy(),
            values=vs[:, :, :t].copy(),
            hidden_states=hidden[:, :t].copy(),
            top_next_ids=top_ids,
            top_next_probs=top_probs,
            next_token=last,
            truncated=truncated,
        )

    def _pad_ids(self, ids) -> tuple[np.ndarray, int]:
        ids = np.asarray(ids, np.int32)[: self.max_tokens]
        padded = np.zeros(self.bucket_for(max(len(ids), 1)), np.int32)
        padded[: len(ids)] = ids
        return padded, len(ids)

    def attentions_of(self, ids, *, ablate=None) -> np.ndarray:
        """Attention maps float32 [L,N,T,T] for token ids [T] (no tokenizer: e.g. random ids).

        ablate: as in logits_of; a knocked-out head changes the maps of later layers only."""
        mask = self.head_mask(ablate)
        padded, t = self._pad_ids(ids)
        atts = self.compiled(len(padded))(self.params, padded, mask)[0]
        return np.asarray(atts)[:, :, :t, :t]

    def logits_of(self, ids, *, ablate=None) -> np.ndarray:
        """Next-token logits float32 [T,V] for token ids [T].

        Args:
          ids: token ids [T]. ablate: None, or (layer, head) pairs (0-based) whose outputs are
            zeroed before W_O at every position; None and () give the full model's logits.
            Top-k after knock-out: `np.argsort(-logits_of(ids, ablate=...), -1)[:, :k]`, or
            `run(text, k, ablate=...)` / `predictions(text, k, ablate=...)`.
        """
        mask = self.head_mask(ablate)
        padded, t = self._pad_ids(ids)
        return np.asarray(self._compiled_logits(len(padded))(self.params, padded, mask))[:t]

    def predictions_at(self, ids, probs) -> list[Prediction]:
        """Candidate ids [k] and probs [k] -> Predictions with readable tokens."""
        tokens = self.tokenizer.token_strings(ids)
        return [Prediction(s, int(i), float(p)) for s, i, p in zip(tokens, ids, probs, strict=True)]

    def predictions(self, text: str, k: int = 5, *, ablate=None) -> list[list[Prediction]]:
        """Each position's top-k next tokens: [T] lists of k Predictions (ablate: see run)."""
        out = self.run(text, k, ablate=ablate)
        pairs = zip(out.top_next_ids, out.top_next_probs, strict=True)
        return [self.predictions_at(i, p) for i, p in pairs]

    def logits(self, text: str, *, ablate=None) -> np.ndarray:
        """Next-token logits at every position, float32 [T,V] (ablate: see logits_of)."""
        return self.logits_of(self.tokenizer.encode(text)[0], ablate=ablate)

    def head_weights(self, layer: int, head: int) -> dict[str, np.ndarray]:
        """One head's slices: w_q, w_k, w_v [D,H], b_q, b_k, b_v [H], w_o [H,D] (`block`), and
        kv_group: the K/V head whose w_k, w_v these are (= head unless grouped-query)."""
        out = block.head_weights(self.params["layers"], self.config, layer, head)
        return out | {"kv_group": head // (self.config.n_head // self.config.kv_heads)}

    def rope_steps(self, ids, layer: int, head: int) -> dict[str, np.ndarray]:
        """RoPE on one head for token ids [T] (Llama layouts): q, k before and after rotation
        [T,H], cos, sin [T,H], angles [T,H/2], kv_group (`llama.rope_steps`)."""
        if self.config.layout == "gpt2":
            raise ValueError("GPT-2 has learned position vectors, no RoPE step")
        if not 0 <= layer < self.config.n_layer:
            raise ValueError(f"layer {layer} is outside 0..{self.config.n_layer - 1}")
        padded, t = self._pad_ids(ids)
        mask = self.head_mask(None)
        hidden = np.asarray(self.compiled(len(padded))(self.params, padded, mask)[4])
        return llama.rope_steps(self.params["layers"], self.config, hidden[layer, :t], layer, head)

    def output_weights(self) -> np.ndarray:
        """W_O split by the head whose output it reads: [L,N,H,D]."""
        return block.output_weights(self.params["layers"], self.config)


def load_decoder(source: str | os.PathLike | None = None) -> Decoder:
    """Load a decoder from a folder, ATTN_DECODER_DIR or the shipped model.

    Args:
      source: a folder with config.json ("model_type" "gpt2", "llama" or "mistral"),
        tokenizer.json, model.safetensors (optional).

    Returns:
      A Decoder. Raises ModelNotFoundError (with how to get a model) when the files are
      missing, ModelTooLargeError when the float32 weights exceed ATTN_DECODER_MAX_MB, and
      ValueError naming what a config has that is not implemented.
    """
    path = resolve_decoder_dir(source)
    return Decoder(*read_checkpoint(path), path)
