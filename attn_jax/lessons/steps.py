"""Attention with every intermediate kept, for teaching: X -> Q,K,V -> scores -> weights -> out."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from attn_jax.kernels.plain import _NEG, masked_softmax


@dataclass(frozen=True)
class AttentionSteps:
    """Every matrix of single-head attention, as numpy (T tokens, D model dim, H head dim)."""

    x: np.ndarray  # [T,D] token vectors entering the head
    w_q: np.ndarray  # [D,H]
    w_k: np.ndarray  # [D,H]
    w_v: np.ndarray  # [D,Hv]
    b_q: np.ndarray  # [H] biases (zero for random weights)
    b_k: np.ndarray  # [H]
    b_v: np.ndarray  # [Hv]
    q: np.ndarray  # [T,H] = X·W_Q + b_Q
    k: np.ndarray  # [T,H] = X·W_K + b_K
    v: np.ndarray  # [T,Hv] = X·W_V + b_V
    scores: np.ndarray  # [T,T] = Q·Kᵀ
    scaled: np.ndarray  # [T,T] = Q·Kᵀ / (√H · temperature)
    masked: np.ndarray  # [T,T] scaled, with -inf where masked (shown as such)
    weights: np.ndarray  # [T,T] softmax of each row
    output: np.ndarray  # [T,Hv] = weights·V
    mask: np.ndarray  # [T,T] bool, True = may attend
    scale: float  # 1/(√H · temperature)
    w_o: np.ndarray | None = None  # [Hv,D] the head's rows of the output projection (models)
    projected: np.ndarray | None = None  # [T,D] = output·W_O[head rows]: the head's share


# Every length up to 256 pads to 256: one compile serves every sentence (a 256 × 256 single
# head takes ~6 ms here; each further length bucket would hold ~3 MB of compiled code).
_T_BUCKETS = (256,)
_H_BUCKETS = (8, 64, 128, 256)  # padded head (and small model) dims: d_k 2..64 -> 2 compiles


def _bucket(n: int, buckets: tuple[int, ...]) -> int:
    """The smallest bucket >= n; beyond the last, the next multiple of it."""
    fit = [b for b in buckets if b >= n]
    return fit[0] if fit else -(-n // buckets[-1]) * buckets[-1]


def _pad(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`a` in the top-left corner of zeros of `shape` (zeros change no product)."""
    out = np.zeros(shape, a.dtype)
    out[tuple(slice(0, n) for n in a.shape)] = a
    return out


@jax.jit
def _steps(x, w_q, w_k, w_v, b_q, b_k, b_v, mask, scale):
    """Padded single-head attention: x [P,Dp], w [Dp,Hp], b [Hp], mask [P,P] (False = pad)."""
    q, k, v = x @ w_q + b_q, x @ w_k + b_k, x @ w_v + b_v  # [P,Hp] each
    scores = q @ k.T  # [P,P]
    scaled = scores * scale
    masked = jnp.where(mask, scaled, _NEG)
    weights = masked_softmax(scaled, mask)  # padded rows and keys: exactly 0
    return q, k, v, scores, scaled, masked, weights, weights @ v


def _padded_steps(x, w_q, w_k, w_v, biases, full, scale):
    """Run `_steps` on shapes padded to buckets; returns the numpy results cut back."""
    (t, d), h, hv = x.shape, w_q.shape[1], w_v.shape[1]
    p, dp = _bucket(t, _T_BUCKETS), _bucket(d, _H_BUCKETS)
    hp = _bucket(max(h, hv), _H_BUCKETS)
    args = (_pad(x, (p, dp)), *(_pad(w, (dp, hp)) for w in (w_q, w_k, w_v)))
    args += (*(_pad(b, (hp,)) for b in biases), _pad(full, (p, p)))
    with jax.default_matmul_precision("highest"):  # full float32 on every backend
        out = _steps(*args, jnp.float32(scale))
    cut = (h, h, hv, t, t, t, t, hv)
    return [np.asarray(a)[:t, :c] for a, c in zip(out, cut, strict=True)]


def attention_steps(
    x, w_q, w_k, w_v, *, is_causal=False, temperature=1.0, mask=None, biases=None, w_o=None
):
    """Single-head attention with every step returned.

    weights = softmax((X·W_Q + b_Q)(X·W_K + b_K)ᵀ / (√H · temperature)), output = weights·V.

    Args:
      x: [T,D]; w_q, w_k: [D,H]; w_v: [D,Hv]; mask: optional bool [T,T], True = may attend.
      temperature: > 0; above 1 flattens the softmax, below 1 sharpens it.
      biases: optional (b_q [H], b_k [H], b_v [Hv]); zeros when None.
      w_o: optional [Hv,D] output-projection rows of this head: fills `projected`.

    Returns:
      AttentionSteps (numpy, float32); masked logits are -inf in `masked`.
    """
    x, w_q, w_k, w_v = (np.asarray(a, np.float32) for a in (x, w_q, w_k, w_v))
    if x.ndim != 2 or w_q.shape != w_k.shape or w_q.shape[0] != x.shape[1]:
        raise ValueError(f"need x [T,D] and w_q, w_k [D,H]; got {x.shape}, {w_q.shape}")
    if w_v.shape[0] != x.shape[1]:
        raise ValueError(f"w_v must be [D,Hv], got {w_v.shape}")
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    t, h, hv = x.shape[0], w_q.shape[1], w_v.shape[1]
    zeros = (np.zeros(h), np.zeros(h), np.zeros(hv))
    biases = tuple(np.asarray(b, np.float32).reshape(-1) for b in (biases or zeros))
    full = np.ones((t, t), bool) if mask is None else np.asarray(mask, bool).reshape(t, t)
    full = full & np.tri(t, dtype=bool) if is_causal else full
    scale = float(1.0 / (np.sqrt(h) * temperature))
    q, k, v, scores, scaled, masked, weights, output = _padded_steps(
        x, w_q, w_k, w_v, biases, full, scale
    )
    masked = np.where(full, masked, -np.inf).astype(np.float32)
    w_o = None if w_o is None else np.asarray(w_o, np.float32)
    projected = None if w_o is None else output @ w_o  # [T,D]
    return AttentionSteps(
        x, w_q, w_k, w_v, *biases, q, k, v, scores, scaled, masked, weights, output, full,
        scale, w_o, projected,
    )  # fmt: skip


@dataclass(frozen=True)
class CellBreakdown:
    """How one weight a_ij and one output row out_i come about (S keys, H head dim)."""

    i: int  # query row
    j: int  # key column
    q_i: np.ndarray  # [H]
    k_j: np.ndarray  # [H]
    products: np.ndarray  # [H] q_i * k_j, element by element
    dot: float  # sum(products) = scores[i, j]
    sqrt_dk: float  # √H
    temperature: float
    scaled: float  # dot / (√H · temperature)
    allowed: np.ndarray  # [S] bool, keys query i may attend to
    row_logits: np.ndarray  # [S] scaled scores of row i, -inf where masked
    row_max: float  # max over allowed keys (subtracted before exp; it cancels)
    exps: np.ndarray  # [S] exp(logit - row_max), 0 where masked
    exp_sum: float
    row_weights: np.ndarray  # [S] exps / exp_sum
    weight: float  # row_weights[j]
    v: np.ndarray  # [S,Hv] the value rows
    contributions: np.ndarray  # [S,Hv] row_weights[s] * v[s]
    output: np.ndarray  # [Hv] sum of contributions = out_i


def _row_softmax(row: np.ndarray, allowed: np.ndarray):
    """Softmax of one row of logits, step by step: (logits, max, exps, sum, weights)."""
    logits = np.where(allowed, row, -np.inf)
    row_max = float(row[allowed].max()) if allowed.any() else 0.0
    exps = np.where(allowed, np.exp(np.where(allowed, row, row_max) - row_max), 0.0)
    exp_sum = float(exps.sum())
    return logits, row_max, exps, exp_sum, exps / exp_sum if exp_sum > 0 else exps


def cell_breakdown(steps: AttentionSteps, i: int, j: int) -> CellBreakdown:
    """Recompute weight[i, j] and output[i] of `steps` term by term, in float64 numpy.

    a_ij = exp(s_ij - m) / Σ_s exp(s_is - m) with s = q·k / (√H·τ); out_i = Σ_s a_is · v_s.

    Args:
      steps: the result of `attention_steps`.
      i: query row in [0, T). j: key column in [0, T).

    Returns:
      CellBreakdown with plain numpy arrays and floats.
    """
    t = steps.weights.shape[0]
    if not (0 <= i < t and 0 <= j < t):
        raise ValueError(f"cell ({i}, {j}) is outside the {t}x{t} attention matrix")
    q_i, k_j = steps.q[i].astype(np.float64), steps.k[j].astype(np.float64)
    sqrt_dk = float(np.sqrt(steps.q.shape[1]))
    allowed = np.asarray(steps.mask[i], bool)
    row = q_i @ steps.k.astype(np.float64).T * steps.scale  # [S]
    logits, row_max, exps, exp_sum, row_weights = _row_softmax(row, allowed)
    v = steps.v.astype(np.float64)  # [S,Hv]
    contributions = row_weights[:, None] * v  # [S,Hv]
    return CellBreakdown(
        i=i,
        j=j,
        q_i=q_i,
        k_j=k_j,
        products=q_i * k_j,
        dot=float(np.sum(q_i * k_j)),
        sqrt_dk=sqrt_dk,
        temperature=float(1.0 / (sqrt_dk * steps.scale)),
        scaled=float(row[j]),
        allowed=allowed,
        row_logits=logits,
        row_max=row_max,
        exps=exps,
        exp_sum=exp_sum,
        row_weights=row_weights,
        weight=float(row_weights[j]),
        v=v,
        contributions=contributions,
        output=contributions.sum(axis=0),
    )


def reference_difference(steps: AttentionSteps) -> float:
    """max |steps.output - jax.nn.dot_product_attention(...)| on the same Q, K, V and mask.

    Q, K, V are reshaped to [1,T,1,H]; the temperature is folded into `scale`.
    """
    q, k, v = (jnp.asarray(a)[None, :, None, :] for a in (steps.q, steps.k, steps.v))  # [1,T,1,H]
    mask = jnp.asarray(steps.mask)[None, None]  # [1,1,T,S]
    ref = jax.nn.dot_product_attention(q, k, v, mask=mask, scale=steps.scale)  # [1,T,1,H]
    return float(np.max(np.abs(np.asarray(ref)[0, :, 0, :] - steps.output)))
