"""Beyond raw weights: one toggle for raw / value-weighted / rollout maps,
the maps for each view, what each one measures, and how much of the weight on [CLS]/[SEP]
survives value weighting. For any page that shows a model's heads (Concept, Multi-head).

Use on a page:
    from ui.views import beyond as bv
    VIEW = bv.view_param("concept_view")        # the URL key `view`, in the page's PARAMS
    ...
    view = bv.view_toggle(VIEW.widget)          # a radio; its value comes from the URL
    maps = bv.maps_for_view(out, view, model)   # [L,N,T,T], rows sum to 1 in every view
    bv.explain(view)                            # a caption: what it measures, where it misleads
    bv.special_tokens_note(out, model)          # the [CLS]/[SEP] share, raw vs value-weighted
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from attn_jax.lessons import value_weighted as vw
from attn_jax.lessons.rollout import rollout
from attn_jax.memory import ByteBoundedCache
from ui.app import url_params as up
from ui.app.charts import chart
from ui.figures import beyond as bf

VIEWS = bf.VIEWS  # key (the URL value) -> label
EXPLANATIONS = {
    "raw": (
        "**Raw weights** a_ij: how much query i *looks at* key j (each row sums to 1). They "
        "do not say how much i *takes* from j: a head can put most of its weight on [SEP] "
        "while the value vector it reads there is tiny, so almost nothing moves."
    ),
    "value-weighted": (
        "**Value-weighted** (Kobayashi et al. 2020): the length ‖a_ij · v_j W_Oʰ‖ of the vector "
        "that key j adds to query i's output in this head, shown as a share of the row's total. "
        "Closer to “how much it takes”, but it ignores direction (vectors can cancel), the "
        "residual stream and the feed-forward layers."
    ),
    "rollout": (
        "**Rollout** (Abnar & Zuidema 2020): heads averaged, half of each layer left to the "
        "residual (the token itself), multiplied through the layers: how much of token i's "
        "state after layer l traces back to each input token. It assumes residual and "
        "attention mix half and half and ignores values and feed-forward layers; rollout has "
        "no heads, so every head of a layer shows the same map, and deep layers look blurred."
    ),
}
MAPS_CACHE_BYTES = 20 * 2**20  # a 256-piece text: 19 MB of value-weighted maps


def view_param(state_key: str = "beyond_view") -> up.Param:
    """The URL key `view` (raw | value-weighted | rollout) bound to the widget `state_key`."""
    return up.choice("view", "raw", list(VIEWS), state_key=state_key)


VIEW_PARAM = view_param()


def view_toggle(key: str = VIEW_PARAM.widget, label: str = "Show") -> str:
    """A horizontal radio raw / value-weighted / rollout; returns the chosen view's key."""
    if st.session_state.get(key) not in VIEWS:
        st.session_state[key] = "raw"
    return st.radio(
        label,
        list(VIEWS),
        format_func=VIEWS.get,
        horizontal=True,
        key=key,
        persist_state="page",
        help="What a map's cell (i, j) shows: see the note below the maps.",
    )


def explain(view: str) -> None:
    """A caption: what the view measures and where it misleads."""
    st.caption(EXPLANATIONS.get(view, EXPLANATIONS["raw"]))


@st.cache_resource
def _maps_cache() -> ByteBoundedCache:
    """Derived maps shared by every session, bounded in bytes (read-only arrays)."""
    return ByteBoundedCache(MAPS_CACHE_BYTES)


def _model_id(model) -> str:
    return f"{type(model).__name__}:{model.source_label}"


def _value_weighted(out, model) -> np.ndarray:
    norms = vw.value_weighted(out.attentions, out.values, model.output_weights())
    return vw.row_shares(norms, out=norms)  # [L,N,T,T] float32, divided in place


def maps_for_view(out, view: str, model) -> np.ndarray:
    """The maps to draw in `view` for a model's output, [L,N,T,T]; rows sum to 1 in every view.

    Args:
      out: the model's output for one text (EncoderOutput or DecoderOutput: attentions,
        values, tokens, text).
      view: "raw" (out.attentions), "value-weighted" (each row's ‖a_ij·v_j W_Oʰ‖ as shares of
        the row) or "rollout" (the rollout up to each layer, the same for every head).
      model: the model that produced `out` (its W_O is read for value weighting).

    Returns:
      a read-only float array; cached across sessions (bounded), so do not modify it.
    """
    if view not in VIEWS or view == "raw":
        return out.attentions
    key = (_model_id(model), out.text, len(out.tokens), view)
    if view == "rollout":
        rolled = _maps_cache().get(key, lambda: rollout(out.attentions).astype(np.float32))
        return np.broadcast_to(rolled[:, None], out.attentions.shape)  # no copy per head
    return _maps_cache().get(key, lambda: _value_weighted(out, model))


def special_survival(out, model, by: str = "layer") -> tuple[np.ndarray, np.ndarray]:
    """Share of the attention weight on [CLS]/[SEP] (or the first token of a causal model),
    and the share left of it after value weighting: per layer [L] (by="layer") or per head
    [L,N] (by="head")."""
    raw = vw.special_share(out.attentions, out.tokens, by=by)
    weighted = vw.special_value_share(
        out.attentions, out.values, model.output_weights(), out.tokens, by=by
    )
    return raw, weighted


def marker_name(tokens) -> str:
    """What the marker tokens are called for this model's tokens."""
    return "[CLS]/[SEP]" if "[CLS]" in tokens else "the first token"


def special_tokens_note(out, model, key: str = "special_share") -> None:
    """Metrics and a bar chart: how much of the weight on [CLS]/[SEP] survives value weighting."""
    raw, weighted = special_survival(out, model)
    marker = marker_name(out.tokens)
    c1, c2, c3 = st.columns(3)
    c1.metric(f"attention weight on {marker}", f"{raw.mean():.0%}")
    c2.metric("value-weighted share", f"{weighted.mean():.0%}")
    kept = weighted.mean() / raw.mean() if raw.mean() > 0 else float("nan")
    c3.metric("what survives", f"{kept:.0%}" if np.isfinite(kept) else "–")
    chart(bf.special_share_bars(raw, weighted, marker), key=key)
    st.caption(
        f"Mean over the heads and query rows of each layer. Much of the weight parked on "
        f"{marker} moves little: the value vectors there are short (Kobayashi et al. 2020)."
    )
