"""The Math page's RoPE section, for the models that rotate queries and keys (the Llama
layout): one pair of dimensions of q and k before and after the rotation, and why the score
then depends only on the offset i − j, with RoFormer's long-term decay.

URL key: pair (the pair of dimensions i, i + H/2 drawn; 0-based).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from attn_jax.lessons.real_steps import model_rope_steps
from attn_jax.lessons.rope import (
    decay_bound,
    offset_curve,
    offset_dots,
    offset_means,
    pair_vectors,
)
from ui.app import url_params as up
from ui.app import url_state
from ui.app.charts import chart
from ui.app.models import model_of, run_of
from ui.app.text import md_escape
from ui.figures import rope as rf

PAIR_KEY = "math_pair"
DEFAULT_PAIR = 2  # θ_2 = 10000^(-4/32) ≈ 0.32 rad a token: about one turn over a sentence
URL_PAIRS = 256  # URL bound; the picker checks the value against this head's H/2
LINE_OFFSETS = (0, 1, 2, 4, 8, 16, 32)


def param() -> up.Param:
    """The section's URL key (joins the Math page's PARAMS)."""
    return up.integer("pair", DEFAULT_PAIR, 0, URL_PAIRS - 1, state_key=PAIR_KEY)


@st.cache_data(max_entries=12, show_spinner="Rotating the queries and keys …")
def rope_numbers(source: str, text: str, layer: int, head: int):
    """RopeSteps (numpy) of one head: q, k before and after RoPE, the angles and θ."""
    return model_rope_steps(model_of(source), text, layer, head, run=run_of(source, text))


def _pair_picker(half: int) -> int:
    """The pair of dimensions to draw (a URL value past this head's pairs falls back)."""
    if not 0 <= st.session_state.get(PAIR_KEY, DEFAULT_PAIR) < half:
        url_state.show_notices([up.ignored("pair", "is past this head's last pair")])
        st.session_state[PAIR_KEY] = min(DEFAULT_PAIR, half - 1)
    return int(
        st.select_slider(
            "Pair i of dimensions (i, i + H/2)",
            range(half),
            key=PAIR_KEY,
            help="RoPE turns each pair of a query's or key's dimensions by its own angle per "
            "position: pair 0 fastest, the last pair slowest.",
            persist_state="page",
        )
    )


def _theta_line(rope, pair: int) -> str:
    """θ_i = base^(−2i/H) with this pair's numbers, as LaTeX (short enough for a phone)."""
    h, theta = rope.q.shape[1], float(rope.theta[pair])
    return (
        rf"\theta_{{{pair}}} = \mathrm{{base}}^{{-2i/H}} = {rope.base:g}^{{-2\cdot{pair}/{h}}}"
        rf" = {theta:.4g}"
    )


def rope_step(view, steps, labels: list[str], i: int, j: int) -> None:
    """The RoPE section for the chosen head and cell (i, j): `steps` are the head's
    AttentionSteps (rotated q, k), `labels` its token labels."""
    rope = rope_numbers(view.source, view.text, view.layer, view.head)
    t, h = rope.q.shape
    st.header("The RoPE step")
    st.markdown(
        f"Between the projections and the scores, this model turns each query and key by its "
        f"position (rotary position embedding, Su et al. 2021): q_m = RoPE(x_m·W_Q, m), "
        f"k_n = RoPE(x_n·W_K, n). The {h} dimensions of a head form {h // 2} pairs, and pair i "
        "turns by the angle m·θ_i at position m. As in Hugging Face's Llama code, dimension i "
        "pairs with i + H/2 (the paper pairs 2i with 2i + 1: the same rotation, the "
        f"dimensions in another order). This head reads K/V head {rope.kv_group}."
    )
    pair = _pair_picker(h // 2)
    st.latex(_theta_line(rope, pair))
    st.caption(
        f"Radians per position: pair {pair} makes one full turn every "
        f"{2 * np.pi / float(rope.theta[pair]):,.1f} positions."
    )
    angles = rope.angles[:, pair]
    left, right = st.columns(2)
    for col, raw, rot, who, pos in ((left, rope.q_raw, rope.q, "q", i),
                                    (right, rope.k_raw, rope.k, "k", j)):  # fmt: skip
        with col:
            chart(rf.pair_rotation_figure(
                pair_vectors(raw, pair), pair_vectors(rot, pair), labels, angles,
                title=f"{who}, pair {pair}: before → after RoPE", highlight=pos,
            ))  # fmt: skip
    st.caption(
        f"Each arrow is one token's pair {pair} of q (left) or k (right); dotted grey: before "
        "the rotation, coloured by position: after it. Orange: the chosen query "
        f"“{md_escape(labels[i])}” (position {i}) and key “{md_escape(labels[j])}” "
        f"(position {j}), with the angle each turned. A rotation keeps every length: only "
        "the directions change."
        + (f" The first {rf.MAX_ARROWS} positions are drawn." if t > rf.MAX_ARROWS else "")
    )
    offsets_section(rope, steps, labels, i, j)


def offsets_section(rope, steps, labels: list[str], i: int, j: int) -> None:
    """Why the score depends only on i − j: one q and one k moved along the sentence."""
    t, h = rope.q.shape
    st.subheader("Why the score depends only on i − j")
    st.markdown(
        f"Take the chosen query's vector before the rotation (q of "
        f"**{md_escape(labels[i])}**) and the chosen key's (k of **{md_escape(labels[j])}**), "
        "and place them at every pair of positions (m, n) with the same offset m − n: the "
        "rotated dot product is the same wherever the pair stands, since turning both by the "
        "same extra angle changes nothing. Each line is one offset, and it is flat."
    )
    st.latex(
        r"\begin{aligned}&\mathrm{RoPE}(q, m)\cdot\mathrm{RoPE}(k, n)\\"
        r"&= \textstyle\sum_i (q_i k_i + q_{i'} k_{i'})\cos\big((m-n)\theta_i\big)\\"
        r"&\quad + (q_i k_{i'} - q_{i'} k_i)\sin\big((m-n)\theta_i\big)\end{aligned}"
    )
    st.caption("with i′ = i + H/2, the other dimension of pair i.")
    q, k = rope.q_raw[i], rope.k_raw[j]
    chosen = [i - j] if 0 <= i - j < t else []
    offsets = sorted({d for d in LINE_OFFSETS if d < t} | set(chosen))
    dots = offset_dots(q, k, offsets, t, rope.base)
    chart(rf.offset_lines_figure(dots, offsets, title="the same q, k at every position",
                                 highlight=chosen[0] if chosen else None))  # fmt: skip
    spread = max(float(np.nanmax(r) - np.nanmin(r)) for r in dots)
    st.caption(f"Largest spread along a line: {spread:.1e} (float32 rounding).")
    curve = offset_curve(q, k, t, rope.base)
    means = offset_means(steps.scores, steps.mask)
    bound = decay_bound(t, h, rope.base)
    chart(rf.offset_curve_figure(curve, means, bound, highlight=chosen[0] if chosen else None,
                                 title="q·k against the offset m − n"))  # fmt: skip
    st.caption(
        "Top: this q and k at each offset (line) and the head's real scores q_m·k_n averaged "
        "over the cells with that offset (dots). Bottom: RoFormer's relative upper bound on "
        "|q·k| for this head size and base, which shrinks as the offset grows (with "
        "wiggles): the long-term decay. It bounds a score, it does not fix one: a trained "
        "head can still reach far back."
        + ("" if chosen else f" Key {j} comes after query {i}: masked, no offset to mark.")
    )
